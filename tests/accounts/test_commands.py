"""create_staff_user (officers are never self-registered) and load_demo (the local demo set)."""

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import ROLES
from subsidy.management.commands.load_demo import DEMO_USERS
from subsidy.models import Application, MachineItem, Programme
from subsidy.workflow import actions as workflow
from tests.factories import enrol_totp
from tests.utils import totp_code

User = get_user_model()

STAFF_PASSWORD = "Verifikasi-lapangan-2026"

pytestmark = pytest.mark.django_db


def create_staff_user(*args: str) -> str:
    out = StringIO()
    call_command("create_staff_user", *args, stdout=out)
    return out.getvalue()


def test_create_staff_user_takes_the_password_from_staff_password(monkeypatch) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", STAFF_PASSWORD)

    output = create_staff_user("vera", "--role", "verifier", "--email", "vera@kemenperin.test")

    user = User.objects.get(username="vera")
    assert user.check_password(STAFF_PASSWORD)
    assert user.email == "vera@kemenperin.test"
    assert list(user.groups.values_list("name", flat=True)) == ["verifier"]
    assert "Created vera with roles: verifier" in output


def test_create_staff_user_grants_every_role_given(monkeypatch) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", STAFF_PASSWORD)

    create_staff_user("rina", "--role", "approver", "--role", "auditor")

    user = User.objects.get(username="rina")
    assert set(user.groups.values_list("name", flat=True)) == {"approver", "auditor"}
    assert not user.is_superuser
    assert not user.is_staff


def test_create_staff_user_creates_a_missing_role_group(monkeypatch) -> None:
    Group.objects.filter(name="finance").delete()
    monkeypatch.setenv("STAFF_PASSWORD", STAFF_PASSWORD)

    create_staff_user("fani", "--role", "finance")

    assert User.objects.get(username="fani").groups.get().name == "finance"


def test_create_staff_user_reads_the_variable_named_by_password_env(monkeypatch) -> None:
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    monkeypatch.setenv("VERIFIER_PASSWORD", STAFF_PASSWORD)

    create_staff_user("vera", "--role", "verifier", "--password-env", "VERIFIER_PASSWORD")

    assert User.objects.get(username="vera").check_password(STAFF_PASSWORD)


def test_created_staff_user_signs_in_with_that_role(monkeypatch) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", STAFF_PASSWORD)
    create_staff_user("vera", "--role", "verifier")
    vera = User.objects.get(username="vera")
    enrol_totp(vera)  # what vera does on the web at the first log-in
    api = APIClient()

    token = api.post(
        "/api/v1/auth/token/",
        {"username": "vera", "password": STAFF_PASSWORD, "otp": totp_code(vera)},
        format="json",
    )
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    assert api.get("/api/v1/me/").json()["roles"] == ["verifier"]


@pytest.mark.parametrize("password", ["123", "password", "vera"])
def test_create_staff_user_refuses_a_weak_password(monkeypatch, password: str) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", password)

    with pytest.raises(CommandError):
        create_staff_user("vera", "--role", "verifier")

    assert not User.objects.filter(username="vera").exists()


def test_create_staff_user_refuses_a_taken_username(monkeypatch, verifier) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", STAFF_PASSWORD)

    with pytest.raises(CommandError):
        create_staff_user(verifier.username, "--role", "approver")

    assert not verifier.groups.filter(name="approver").exists()


def test_create_staff_user_refuses_an_unknown_role(monkeypatch) -> None:
    monkeypatch.setenv("STAFF_PASSWORD", STAFF_PASSWORD)

    with pytest.raises(CommandError):
        create_staff_user("vera", "--role", "boss")

    assert not User.objects.filter(username="vera").exists()


def test_create_staff_user_without_password_and_terminal_says_what_to_set(monkeypatch) -> None:
    monkeypatch.delenv("STAFF_PASSWORD", raising=False)
    monkeypatch.setattr("os.isatty", lambda fd: False)

    with pytest.raises(CommandError, match="STAFF_PASSWORD"):
        create_staff_user("vera", "--role", "verifier")

    assert not User.objects.filter(username="vera").exists()


def load_demo(**options: object) -> str:
    out = StringIO()
    call_command("load_demo", stdout=out, **options)
    return out.getvalue()


def test_load_demo_creates_one_user_per_role_and_a_superuser() -> None:
    load_demo(applications=0)

    roles = {
        username: set(User.objects.get(username=username).groups.values_list("name", flat=True))
        for username, _role, _password in DEMO_USERS
    }
    assert roles == {
        username: ({role} if role else set()) for username, role, _password in DEMO_USERS
    }
    assert {role for _username, role, _password in DEMO_USERS if role} == set(ROLES)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_load_demo_logins_work_with_the_listed_passwords() -> None:
    load_demo(applications=0)
    api = APIClient()

    for username, role, password in DEMO_USERS:
        response = api.post(
            "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
        )
        if role == "applicant":
            assert response.status_code == 200, username
        else:
            # The password is right; staff set up their second factor at the first log-in.
            assert response.status_code == 403, username
            assert response.json()["code"] == "mfa_required", username


def test_load_demo_prints_the_demo_logins() -> None:
    output = load_demo(applications=0)

    for username, _role, password in DEMO_USERS:
        assert username in output
        assert password in output


def test_load_demo_creates_this_years_preset_programme_open_today() -> None:
    load_demo(applications=0)

    today = timezone.localdate()
    programme = Programme.objects.get()
    assert programme.year == today.year
    assert programme.application_opens <= today <= programme.application_closes
    assert programme.purchase_from <= today <= programme.purchase_to < programme.install_by
    assert programme.budget == 10_000_000_000
    assert programme.min_refund == 5_000_000
    assert programme.max_refund_per_company == 300_000_000
    assert programme.rates.count() == 4


def test_load_demo_seeds_demo_applications_in_the_preset_programme() -> None:
    load_demo(applications=6)

    seeded = Application.objects.exclude(company__members__username="pemohon")
    assert seeded.filter(programme__year=timezone.localdate().year).count() == 6
    programme = Programme.objects.get()
    for item in MachineItem.objects.filter(application__in=seeded, findings=[]):
        assert programme.purchase_from <= item.invoice_date <= programme.purchase_to


def _later(monkeypatch, day: dt.date) -> None:
    """Every clock the code reads (now, localdate, auto_now) says it is `day`, 09:00 Jakarta."""
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(9)))
    monkeypatch.setattr(timezone, "now", lambda: moment)


def _pemohon_draft(year: int) -> Application:
    return Application.objects.get(
        company__members__username="pemohon", programme__year=year, status="draft"
    )


def test_demo_loaded_years_later_lets_pemohon_submit_the_demo_draft(monkeypatch) -> None:
    _later(monkeypatch, dt.date(2031, 2, 10))
    load_demo(applications=6)
    pemohon = User.objects.get(username="pemohon")
    draft = _pemohon_draft(2031)
    api = APIClient()
    api.force_authenticate(pemohon)

    offered = api.get(f"/api/v1/applications/{draft.pk}/transitions/").json()
    submitted = workflow.application_submit(application=draft, by=pemohon)

    assert "submit" in [a["action"] for a in offered]
    assert submitted.status == "submitted"
    assert submitted.reference.startswith("RMP-2031-")
    kinds = {d.kind: d.content_type for d in submitted.documents.all()}
    assert set(kinds) == set(submitted.programme.required_documents)
    assert kinds["installation_photo"] == "image/jpeg"
    assert kinds["invoice"] == "application/pdf"
    assert submitted.items.count() == 2


def test_demo_draft_is_eligible_for_a_refund(monkeypatch, django_capture_on_commit_callbacks):
    _later(monkeypatch, dt.date(2030, 1, 3))
    with django_capture_on_commit_callbacks(execute=True):
        load_demo(applications=0)
    draft = _pemohon_draft(2030)

    assert draft.computed_at is not None
    assert [f["code"] for f in draft.findings] == []
    # 185,000,000 x 40% (domestic) + 42,500,000 x 25% (imported)
    assert draft.computed_discount == 74_000_000 + 10_625_000


def test_demo_loaded_again_a_year_later_adds_that_years_programme(monkeypatch) -> None:
    _later(monkeypatch, dt.date(2030, 6, 1))
    load_demo(applications=3)
    load_demo(applications=3)
    counts = (Programme.objects.count(), Application.objects.count())
    _later(monkeypatch, dt.date(2031, 6, 1))
    load_demo(applications=3)

    assert counts == (1, 4)
    assert sorted(Programme.objects.values_list("year", flat=True)) == [2030, 2031]
    assert Application.objects.filter(programme__year=2031).count() == 4
    # One company for pemohon, with a draft in each year's programme.
    assert User.objects.get(username="pemohon").companies.count() == 1
    assert _pemohon_draft(2030).company == _pemohon_draft(2031).company


def test_load_demo_twice_creates_nothing_new() -> None:
    load_demo(applications=6)
    counts = (User.objects.count(), Programme.objects.count(), Application.objects.count())

    load_demo()

    assert (User.objects.count(), Programme.objects.count(), Application.objects.count()) == (
        counts
    )


def test_load_demo_keeps_a_demo_password_that_was_changed() -> None:
    load_demo(applications=0)
    admin = User.objects.get(username="admin")
    admin.set_password("Changed-locally-2026")
    admin.save(update_fields=["password"])

    load_demo(applications=0)

    admin.refresh_from_db()
    assert admin.check_password("Changed-locally-2026")


def test_load_demo_refuses_to_run_outside_local_settings(settings) -> None:
    settings.DEMO_USERS_ALLOWED = False

    with pytest.raises(CommandError, match="local"):
        load_demo(applications=0)

    assert not User.objects.filter(username="admin").exists()
