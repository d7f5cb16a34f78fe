"""Staff pass a second factor (django-allauth's MFA) before any staff page, admin page or API."""

import time

import pytest
from allauth.mfa.models import Authenticator
from django.test import RequestFactory
from django.urls import reverse

from accounts.roles import APPLICANT, APPROVER, AUDITOR, FINANCE, VERIFIER
from subsidy.models import AuditEntry
from tests.factories import UserFactory, enrol_totp
from tests.utils import recovery_codes, totp_code, verify_email

pytestmark = pytest.mark.django_db

PASSWORD = "Pw-for-tests-1"  # tests/factories.py UserFactory
STAFF_PAGES = [
    "/office/",
    "/office/finance/",
    "/office/approve/",
    "/admin/",
    "/admin/subsidy/application/",
    "/dashboard/",
    "/",
]


def log_in_with_password(client, user) -> object:
    """The log-in form, password step: what a person types first."""
    verify_email(user)
    return client.post(reverse("account_login"), {"login": user.username, "password": PASSWORD})


@pytest.mark.parametrize("role", [VERIFIER, APPROVER, FINANCE, AUDITOR, "superuser"])
@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_without_a_second_factor_are_sent_to_enrol_on_every_page(client, role, path):
    if role == "superuser":
        user = UserFactory(is_superuser=True, is_staff=True, second_factor=False)
    else:
        user = UserFactory(roles=[role], second_factor=False)
    client.force_login(user)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")


def test_the_enrolment_page_says_why_and_offers_app_and_key(client):
    client.force_login(UserFactory(roles=[VERIFIER], second_factor=False))

    page = client.get("/office/", follow=True)

    body = page.content.decode()
    assert page.status_code == 200
    assert "Peran Anda memerlukan faktor kedua" in body
    assert reverse("mfa_activate_totp") in body
    assert reverse("mfa_add_webauthn") in body
    assert "Kehilangan ponsel atau kunci?" in body


def test_enrolment_logout_and_static_stay_open_to_unenrolled_staff(client):
    client.force_login(UserFactory(roles=[VERIFIER], second_factor=False))

    assert client.get(reverse("mfa_index")).status_code == 200
    # Enrolling asks for the password again first (allauth's re-authentication), also open.
    activate = client.get(reverse("mfa_activate_totp"))
    assert activate["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(activate["Location"]).status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get("/office/").status_code == 302  # logged out: to the log-in page


def test_applicants_are_not_asked_for_a_second_factor(client, applicant, company):
    client.force_login(applicant)

    assert client.get("/dashboard/").status_code == 200


def test_applicant_may_enrol_from_the_account_page(client, applicant):
    client.force_login(applicant)

    page = client.get(reverse("account_profile")).content.decode()

    assert reverse("mfa_index") in page


def test_staff_enrol_an_authenticator_app_and_reach_the_office(
    client, django_capture_on_commit_callbacks
):
    from allauth.mfa.totp.internal.auth import (
        SECRET_SESSION_KEY,
        format_hotp_value,
        hotp_value,
    )

    verifier = UserFactory(roles=[VERIFIER], second_factor=False)
    log_in_with_password(client, verifier)
    assert client.get("/office/")["Location"] == reverse("mfa_index")
    reauthenticate = client.get(reverse("mfa_activate_totp"))["Location"]
    client.post(reauthenticate, {"password": PASSWORD})  # the password again, then the QR code
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": code})

    assert response.status_code == 302
    assert Authenticator.objects.filter(user=verifier, type="totp").exists()
    assert client.get("/office/").status_code == 200


def test_login_asks_enrolled_staff_for_the_code_before_the_office(client):
    verifier = UserFactory(roles=[VERIFIER])

    response = log_in_with_password(client, verifier)

    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/office/").status_code == 302  # not logged in yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(verifier)})
    assert response.status_code == 302
    assert client.get("/office/").status_code == 200


def test_a_wrong_code_at_login_is_refused(client):
    verifier = UserFactory(roles=[VERIFIER])
    log_in_with_password(client, verifier)

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})

    assert response.status_code == 200
    assert "Kode salah" in response.content.decode()
    assert client.get("/office/").status_code == 302


def test_a_code_used_once_is_refused_the_second_time(client):
    verifier = UserFactory(roles=[VERIFIER])
    code = totp_code(verifier)
    log_in_with_password(client, verifier)
    client.post(reverse("mfa_authenticate"), {"code": code})
    client.post(reverse("account_logout"))

    log_in_with_password(client, verifier)
    response = client.post(reverse("mfa_authenticate"), {"code": code})

    assert response.status_code == 200
    assert client.get("/office/").status_code == 302


def test_a_recovery_code_logs_in_once(client):
    verifier = UserFactory(roles=[VERIFIER])
    code = recovery_codes(verifier)[0]
    log_in_with_password(client, verifier)

    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    assert client.get("/office/").status_code == 200
    client.post(reverse("account_logout"))
    log_in_with_password(client, verifier)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 200
    assert code not in recovery_codes(verifier)


def test_a_password_only_session_of_enrolled_staff_must_show_the_factor(client):
    verifier = UserFactory(roles=[VERIFIER])
    # A session without the factor (the log-in guards of authenticate() want the request).
    login_request = RequestFactory().post(reverse("account_login"))
    assert client.login(request=login_request, username=verifier.username, password=PASSWORD)

    response = client.get("/office/?status=submitted")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    assert "next=%2Foffice%2F%3Fstatus%3Dsubmitted" in response["Location"]


def test_the_admin_login_goes_through_the_site_login(client):
    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next=%2Fadmin%2F"


def test_superuser_reaches_the_admin_only_after_the_second_factor(client, superuser):
    verify_email(superuser)
    response = client.post(
        f"{reverse('account_login')}?next=/admin/",
        {"login": superuser.username, "password": PASSWORD, "next": "/admin/"},
    )
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/admin/").status_code == 302

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(superuser)})

    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_superuser_resets_a_users_second_factor_in_the_admin(client, superuser):
    verifier = UserFactory(roles=[VERIFIER])
    client.force_login(superuser)

    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_second_factor", "_selected_action": [verifier.pk]},
    )

    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=verifier).exists()
    entry = AuditEntry.objects.get(action="second_factor_reset")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        superuser.pk,
        "user",
        verifier.pk,
    )
    # At the next log-in the verifier enrols again.
    other = client.__class__()
    other.force_login(verifier)
    assert other.get("/office/")["Location"] == reverse("mfa_index")


def test_a_reset_sends_even_a_session_that_passed_the_factor_to_enrol(client):
    verifier = UserFactory(roles=[VERIFIER])
    client.force_login(verifier)
    assert client.get("/office/").status_code == 200

    Authenticator.objects.filter(user=verifier).delete()

    assert client.get("/office/")["Location"] == reverse("mfa_index")


def test_a_role_granted_later_needs_the_factor_too(client):
    from accounts.roles import grant_role

    user = UserFactory(roles=[APPLICANT])
    client.force_login(user)
    grant_role(user, VERIFIER)

    assert client.get("/office/")["Location"] == reverse("mfa_index")
    enrol_totp(user)
    assert client.get("/office/")["Location"].startswith(reverse("mfa_reauthenticate"))


@pytest.mark.parametrize(
    "language, text",
    [
        ("id", ["Autentikasi Dua Faktor", "Kode Pemulihan", "Kehilangan ponsel atau kunci?"]),
        ("en", ["Two-Factor Authentication", "Recovery Codes", "Lost your phone or key?"]),
    ],
)
def test_the_second_factor_pages_speak_both_languages(client, language, text):
    user = UserFactory(roles=[VERIFIER], language=language)
    client.force_login(user)

    assert client.get(reverse("mfa_reauthenticate")).status_code == 200
    page = client.get(reverse("mfa_index")).content.decode()
    for words in text:
        assert words in page


def test_session_api_refuses_unenrolled_staff_with_mfa_required(client):
    client.force_login(UserFactory(roles=[VERIFIER], second_factor=False))

    response = client.get("/api/v1/applications/")

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_session_api_works_for_staff_past_the_factor(client):
    client.force_login(UserFactory(roles=[VERIFIER]))

    assert client.get("/api/v1/applications/").status_code == 200
