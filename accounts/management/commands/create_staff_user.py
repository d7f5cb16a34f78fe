import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLES
from accounts.services import user_create_with_roles


class Command(BaseCommand):
    help = "Create a user holding one or more programme roles (staff are never self-registered)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", action="append", choices=ROLES, required=True)
        parser.add_argument("--email", default="")
        parser.add_argument("--language", choices=["id", "en"], default="id")
        parser.add_argument(
            "--password-env",
            default="STAFF_PASSWORD",
            help="Environment variable holding the password (asked for when it is unset).",
        )

    def handle(self, *args, **options) -> None:
        password = os.environ.get(options["password_env"])
        if not password:
            if not os.isatty(0):
                raise CommandError(
                    f"Set {options['password_env']} or run interactively to give a password."
                )
            password = getpass.getpass("Password: ")
        try:
            user = user_create_with_roles(
                username=options["username"],
                email=options["email"],
                password=password,
                roles=options["role"],
                language=options["language"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {user.username} with roles: {', '.join(options['role'])}")
        )
