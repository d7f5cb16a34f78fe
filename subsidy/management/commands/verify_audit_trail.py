import re
import time

from django.core.management.base import BaseCommand, CommandError

from subsidy import audit
from subsidy.models import AuditEntry

ANCHOR = re.compile(r"^(?P<seq>[1-9][0-9]*):(?P<mac>[0-9a-f]{64})$")


class Command(BaseCommand):
    help = "Check the audit trail's HMAC chain; exit 1 at the first broken entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--anchor",
            metavar="SEQ:MAC",
            help="An entry's number and MAC printed by an earlier run and kept outside the "
            "database: fail unless that entry is still in the chain with that MAC (finds a "
            "cut-off tail even when the chain head was rewritten too).",
        )

    def handle(self, *args, **options) -> None:
        anchor = None
        if options["anchor"]:
            anchor = ANCHOR.match(options["anchor"].strip().lower())
            if anchor is None:
                raise CommandError("--anchor takes SEQ:MAC, as printed by an earlier run.")
        started = time.perf_counter()
        verdict = audit.verify()
        seconds = time.perf_counter() - started
        if not verdict.intact:
            raise CommandError(
                f"Audit trail broken at entry {verdict.seq}: {verdict.reason} "
                f"({verdict.checked} entries before it are intact).",
                returncode=1,
            )
        if anchor is not None:
            seq = int(anchor["seq"])
            # The chain is intact up to its end, so entry seq is the one sealed then, or gone.
            if not AuditEntry.objects.filter(seq=seq, mac=anchor["mac"]).exists():
                raise CommandError(
                    f"Audit trail broken at entry {seq}: it is not the entry anchored outside "
                    f"the database (the chain now ends at entry {verdict.checked}): "
                    "entries at the end were cut off and the head rewritten.",
                    returncode=1,
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {verdict.checked} entries verified in {seconds:.2f} s."
            )
        )
        if verdict.checked:
            self.stdout.write(f"Anchor: {verdict.checked}:{verdict.last_mac}")
