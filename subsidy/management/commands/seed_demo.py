"""manage.py seed_demo: bulk demo companies, applicants and applications (subsidy/seeding.py)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test.utils import override_settings

from subsidy.demo import seeding
from subsidy.models import Application


class Command(BaseCommand):
    help = (
        "Create demo companies, their applicants and applications of a programme in every "
        "state, with machine items, fast (bulk inserts; no audit entries, no tasks)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--applications", type=int, required=True)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--programme-year",
            type=int,
            default=None,
            help="Year of the preset programme to fill (default: the current year).",
        )
        parser.add_argument("--items-per-application", type=int, default=3)
        parser.add_argument(
            "--no-compute",
            action="store_true",
            help="Leave the open applications' results stale (recompute_programme not run).",
        )

    def handle(self, *args: object, **options: object) -> None:
        # Fake companies and accounts have no place in a production database.
        if not settings.DEMO_USERS_ALLOWED:
            raise CommandError("Demo data is for local settings only (DEMO_USERS_ALLOWED).")
        try:
            # Under DEBUG every query's SQL is kept in memory; here that is megabytes per bulk
            # statement, hundreds of megabytes for a large run.
            with override_settings(DEBUG=False):
                report = seeding.seed_demo(
                    applications=options["applications"],
                    seed=options["seed"],
                    programme_year=options["programme_year"],
                    items_per_application=options["items_per_application"],
                    compute=not options["no_compute"],
                    progress=self.stdout.write,
                )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if connection.vendor == "postgresql":
            # Fresh planner statistics: before autovacuum gets to the new rows, PostgreSQL
            # plans a filtered list with a few rows' estimate (a nested loop taking seconds).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            f"Programme {report.programme_year}: {report.companies} companies, "
            f"{report.applications} applications, {report.items} items."
        )
        for status in Application.Status.values:
            self.stdout.write(f"  {status:<20} {report.by_status.get(status, 0):>8}")
        self.stdout.write(f"  committed + disbursed: Rp{report.spent:,}")
        timings = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items())
        self.stdout.write(self.style.SUCCESS(f"Done: {timings}."))
