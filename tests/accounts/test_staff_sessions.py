"""Staff sessions end after 30 minutes idle and 8 hours in all; applicants keep theirs."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.middleware import StaffSessionMiddleware
from tests.utils import verify_email

pytestmark = pytest.mark.django_db

PASSWORD = "Pw-for-tests-1"  # tests/factories.py UserFactory


def moved(client, *, last_request_ago: float, login_ago: float) -> None:
    """The session as it would be after the given minutes, the clock moved by hand."""
    session = client.session
    now = session[StaffSessionMiddleware.LAST_SEEN]
    session[StaffSessionMiddleware.LAST_SEEN] = now - last_request_ago * 60
    session[StaffSessionMiddleware.STARTED] = now - login_ago * 60
    session.save()


def test_the_limits_are_30_minutes_idle_and_8_hours():
    assert settings.STAFF_SESSION_IDLE_SECONDS == 30 * 60
    assert settings.STAFF_SESSION_MAX_SECONDS == 8 * 3600


def test_staff_idle_29_minutes_stay_logged_in(client, verifier):
    client.force_login(verifier)
    moved(client, last_request_ago=29, login_ago=29)

    assert client.get("/office/").status_code == 200


def test_staff_idle_31_minutes_are_logged_out(client, verifier):
    client.force_login(verifier)
    moved(client, last_request_ago=31, login_ago=31)

    response = client.get("/office/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    page = client.get(response["Location"])
    assert "Sesi Anda telah berakhir" in page.content.decode()


def test_staff_active_all_day_are_logged_out_after_8_hours(client, verifier):
    client.force_login(verifier)
    moved(client, last_request_ago=1, login_ago=8 * 60 - 1)
    assert client.get("/office/").status_code == 200
    moved(client, last_request_ago=1, login_ago=8 * 60 + 1)

    response = client.get("/office/")

    assert response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


def test_an_ended_staff_session_gets_401_from_the_api(client, verifier):
    client.force_login(verifier)
    moved(client, last_request_ago=31, login_ago=31)

    response = client.get("/api/v1/me/")

    assert response.status_code == 401


def test_a_staff_request_keeps_the_session_alive(client, verifier):
    client.force_login(verifier)
    moved(client, last_request_ago=20, login_ago=20)
    client.get("/office/")
    session = client.session
    # 20 more minutes later: 40 since the log-in, but only 20 idle.
    moved(client, last_request_ago=20, login_ago=40)

    assert client.get("/office/").status_code == 200
    assert session.get_expiry_age() == 30 * 60


def test_the_staff_session_cookie_lapses_with_the_idle_limit(client, verifier):
    client.force_login(verifier)

    client.get("/office/")

    assert client.session.get_expiry_age() == 30 * 60


def test_applicants_keep_the_default_session(client, applicant, company):
    client.force_login(applicant)
    session = client.session
    session["staff_session_last_seen"] = 0  # even a stray old stamp means nothing to them
    session.save()

    assert client.get("/dashboard/").status_code == 200
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_the_session_key_changes_on_login(client, applicant):
    verify_email(applicant)
    client.get(reverse("account_login"))
    session = client.session
    session["visitor"] = True
    session.save()
    before = session.session_key

    client.post(reverse("account_login"), {"login": applicant.username, "password": PASSWORD})

    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(applicant.pk)


def test_production_cookies_are_secure_and_http_only(tmp_path):
    from tests.test_settings import manage, production_environment

    result = manage(
        "shell",
        "-c",
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE)",
        settings="config.settings.production",
        **production_environment(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", "True", "True"]
