"""create_staff_user (officers are never self-registered) and load_demo (the local demo set)."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from accounts.roles import ROLES
from subsidy.management.commands.load_demo import DEMO_USERS
from subsidy.models import Application, Programme

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
    api = APIClient()

    token = api.post(
        "/api/v1/auth/token/", {"username": "vera", "password": STAFF_PASSWORD}, format="json"
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

    for username, _role, password in DEMO_USERS:
        response = api.post(
            "/api/v1/auth/token/", {"username": username, "password": password}, format="json"
        )
        assert response.status_code == 200, username


def test_load_demo_prints_the_demo_logins() -> None:
    output = load_demo(applications=0)

    for username, _role, password in DEMO_USERS:
        assert username in output
        assert password in output


def test_load_demo_creates_the_2026_preset_programme() -> None:
    load_demo(applications=0)

    programme = Programme.objects.get(year=2026)
    assert programme.budget == 10_000_000_000
    assert programme.min_refund == 5_000_000
    assert programme.max_refund_per_company == 300_000_000
    assert programme.rates.count() == 4


def test_load_demo_seeds_demo_applications_in_the_preset_programme() -> None:
    load_demo(applications=6)

    assert Application.objects.filter(programme__year=2026).count() == 6


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
