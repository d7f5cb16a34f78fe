from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.roles import grant_role
from subsidy.demo.applicant import ensure_demo_draft
from subsidy.demo.preset import ensure_preset_programme

User = get_user_model()

# Local-only logins, listed in the README; the command refuses to run outside local settings.
DEMO_USERS = (
    ("admin", None, "Demo-admin-2026"),
    ("pemohon", "applicant", "Demo-pemohon-2026"),
    ("verifikator", "verifier", "Demo-verifikator-2026"),
    ("penyetuju", "approver", "Demo-penyetuju-2026"),
    ("keuangan", "finance", "Demo-keuangan-2026"),
    ("auditor", "auditor", "Demo-auditor-2026"),
)


class Command(BaseCommand):
    help = (
        "Load the demo users (one per role), this year's preset programme (windows around "
        "today), a small demo set and a complete draft for the demo applicant."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--applications", type=int, default=30)

    def handle(self, *args, **options) -> None:
        if not settings.DEMO_USERS_ALLOWED:
            raise CommandError("Demo users are for local settings only.")
        today = timezone.localdate()
        with transaction.atomic():
            for username, role, password in DEMO_USERS:
                user, created = User.objects.get_or_create(
                    username=username, defaults={"email": f"{username}@demo.invalid"}
                )
                if created:
                    user.set_password(password)
                    user.is_superuser = user.is_staff = role is None
                    user.save()
                if role:
                    grant_role(user, role)
                # The demo addresses cannot receive mail: count them as verified, so the
                # demo logins work on the web pages, where a verified address is required.
                EmailAddress.objects.update_or_create(
                    user=user,
                    email=user.email,
                    defaults={"verified": True, "primary": True},
                )
            programme = ensure_preset_programme(today=today)
        if not programme.applications.exists() and options["applications"]:
            call_command(
                "seed_demo",
                applications=options["applications"],
                programme_year=programme.year,
                stdout=self.stdout,
            )
        draft = ensure_demo_draft(
            applicant=User.objects.get(username="pemohon"), programme=programme, today=today
        )
        self.stdout.write(
            f"Programme {programme.year}: applications {programme.application_opens} .. "
            f"{programme.application_closes}; pemohon's draft #{draft.pk} ({draft.status})."
        )
        self.stdout.write("Demo logins (local only):")
        for username, role, password in DEMO_USERS:
            self.stdout.write(f"  {username:<12} {password:<24} {role or 'superuser'}")
        self.stdout.write(
            "Staff and admin set up an authenticator app or a security key at their first "
            "log-in on the web; API tokens then need its code as otp."
        )
        self.stdout.write(
            "App: http://127.0.0.1:8000/  API: http://127.0.0.1:8000/api/docs/  "
            "Admin: http://127.0.0.1:8000/admin/"
        )
