from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from subsidy.workflow.transitions import diagram

DOC = Path(settings.BASE_DIR) / "docs" / "workflow.md"
HEADER = (
    "# The application workflow\n\n"
    "Generated from `subsidy.workflow.TRANSITIONS` by `manage.py workflow_diagram`; "
    "do not edit by hand. Each arrow is `action [role] (required payload)`.\n\n"
)


def document() -> str:
    return f"{HEADER}```mermaid\n{diagram()}```\n"


class Command(BaseCommand):
    help = "Write docs/workflow.md (the state diagram) from the workflow's transition table."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if the file is outdated.")

    def handle(self, *args, **options) -> None:
        text = document()
        if options["check"]:
            if not DOC.exists() or DOC.read_text(encoding="utf-8") != text:
                raise CommandError("docs/workflow.md is outdated: run manage.py workflow_diagram.")
            self.stdout.write("docs/workflow.md is up to date.")
            return
        DOC.parent.mkdir(exist_ok=True)
        DOC.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {DOC}")
