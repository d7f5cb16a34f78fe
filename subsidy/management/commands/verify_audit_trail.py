import re
import time

from django.core.management.base import BaseCommand, CommandError

from subsidy import audit

ANCHOR = re.compile(r"^(?P<seq>[1-9][0-9]*):(?P<mac>[0-9a-f]{64})$")
# Enough to act on; the count says how many more.
MISMATCHES_SHOWN = 20


class Command(BaseCommand):
    help = (
        "Check the audit trail's HMAC chain against the latest anchor kept outside the database, "
        "and every application's status and money against its last audited transition; exit 1 "
        "at the first broken entry or any differing application."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--anchor",
            metavar="SEQ:MAC",
            help="An entry's number and MAC printed by an earlier run or mailed to the auditors: "
            "fail unless that entry is still in the chain with that MAC. Without it the latest "
            "anchor in AUDIT_ANCHOR_DIR is checked.",
        )

    def handle(self, *args, **options) -> None:
        anchor = None
        if options["anchor"]:
            given = ANCHOR.match(options["anchor"].strip().lower())
            if given is None:
                raise CommandError("--anchor takes SEQ:MAC, as printed by an earlier run.")
            anchor = audit.Anchor(int(given["seq"]), given["mac"])
        else:
            anchor = audit.latest_anchor()
        started = time.perf_counter()
        verdict = audit.verify()
        if anchor is not None:
            verdict = audit.check_anchor(anchor, verdict)
        mismatches = audit.verify_applications() if verdict.intact else []
        seconds = time.perf_counter() - started
        if not verdict.intact:
            raise CommandError(
                f"Audit trail broken at entry {verdict.seq}: {verdict.reason} "
                f"({verdict.checked} entries before it are intact).",
                returncode=1,
            )
        if mismatches:
            lines = [str(m) for m in mismatches[:MISMATCHES_SHOWN]]
            if len(mismatches) > MISMATCHES_SHOWN:
                lines.append(f"... and {len(mismatches) - MISMATCHES_SHOWN} more.")
            raise CommandError(
                f"Applications differ from the audit trail ({len(mismatches)}): edited outside "
                "the application?\n" + "\n".join(lines),
                returncode=1,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit trail intact: {verdict.checked} entries verified in {seconds:.2f} s."
            )
        )
        if anchor is not None:
            self.stdout.write(f"Checked against the anchor {anchor}.")
        else:
            self.stdout.write("No anchor outside the database yet: a cut-off tail cannot be seen.")
        if verdict.checked:
            self.stdout.write(f"Anchor: {verdict.checked}:{verdict.last_mac}")
