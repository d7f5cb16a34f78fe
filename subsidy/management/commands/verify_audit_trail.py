import time

from django.core.management.base import BaseCommand, CommandError

from subsidy import audit


class Command(BaseCommand):
    help = "Check the audit trail's HMAC chain; exit 1 at the first broken entry."

    def handle(self, *args, **options) -> None:
        started = time.perf_counter()
        verdict = audit.verify()
        seconds = time.perf_counter() - started
        if not verdict.intact:
            raise CommandError(
                f"Audit trail broken at entry {verdict.seq}: {verdict.reason} "
                f"({verdict.checked} entries before it are intact).",
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {verdict.checked} entries verified in {seconds:.2f} s."
            )
        )
