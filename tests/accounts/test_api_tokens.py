"""API tokens: a second-factor code for staff, kept hashed, expiring, listed and revoked."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.roles import VERIFIER
from tests.factories import UserFactory
from tests.utils import api_token_for, recovery_codes, totp_code

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
ME = "/api/v1/me/"
PASSWORD = "Pw-for-tests-1"  # tests/factories.py UserFactory


def ask(user, **extra) -> object:
    return APIClient().post(
        TOKEN, {"username": user.username, "password": PASSWORD, **extra}, format="json"
    )


def with_token(secret: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return api


def later(monkeypatch, **delta) -> None:
    """Move the clock forward for everything that reads django.utils.timezone.now()."""
    moved = timezone.now() + dt.timedelta(**delta)
    monkeypatch.setattr(timezone, "now", lambda: moved)


def test_staff_without_a_code_get_mfa_required(verifier):
    response = ask(verifier)

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
    assert response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_unenrolled_staff_get_mfa_required_even_with_a_code():
    verifier = UserFactory(roles=[VERIFIER], second_factor=False)

    response = ask(verifier, otp="123456")

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
    assert "faktor kedua" in response.json()["detail"]  # the user's language: Indonesian


def test_superuser_without_a_code_gets_mfa_required(superuser):
    assert ask(superuser).json()["code"] == "mfa_required"


def test_a_wrong_password_is_still_the_400_not_mfa(verifier):
    response = APIClient().post(
        TOKEN, {"username": verifier.username, "password": "wrong", "otp": "1"}, format="json"
    )

    assert response.status_code == 400


def test_staff_with_a_valid_code_get_a_token_that_works(verifier):
    response = ask(verifier, otp=totp_code(verifier))

    assert response.status_code == 200
    me = with_token(response.json()["token"]).get(ME)
    assert me.status_code == 200
    assert me.json()["roles"] == ["verifier"]


def test_a_wrong_code_fails(verifier):
    response = ask(verifier, otp="000000" if totp_code(verifier) != "000000" else "111111")

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_a_used_code_fails(verifier):
    code = totp_code(verifier)
    assert ask(verifier, otp=code).status_code == 200

    response = ask(verifier, otp=code)

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_a_recovery_code_works_once(verifier):
    code = recovery_codes(verifier)[0]

    assert ask(verifier, otp=code).status_code == 200
    assert ask(verifier, otp=code).status_code == 403
    assert code not in recovery_codes(verifier)
    assert ask(verifier, otp=recovery_codes(verifier)[0]).status_code == 200


def test_applicants_need_no_code(applicant):
    assert ask(applicant).status_code == 200


def test_an_applicant_who_enrolled_needs_the_code_too():
    pemohon = UserFactory(second_factor=True)

    assert ask(pemohon).json()["code"] == "mfa_required"
    assert ask(pemohon, otp=totp_code(pemohon)).status_code == 200


def test_the_database_holds_no_secret(applicant):
    secret = ask(applicant).json()["token"]

    row = ApiToken.objects.get(user=applicant)
    stored = [str(value) for value in row.__dict__.values()]
    assert not any(secret in value for value in stored)
    assert row.key_hash != secret and len(row.key_hash) == 64
    assert secret.startswith(row.prefix)


def test_staff_tokens_expire_after_8_hours(verifier, monkeypatch):
    secret = ask(verifier, otp=totp_code(verifier)).json()["token"]
    later(monkeypatch, hours=7, minutes=59)
    assert with_token(secret).get(ME).status_code == 200

    later(monkeypatch, hours=8, minutes=1)

    response = with_token(secret).get(ME)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_applicant_tokens_expire_after_30_days(applicant, monkeypatch):
    secret = ask(applicant).json()["token"]
    later(monkeypatch, days=29)
    assert with_token(secret).get(ME).status_code == 200

    later(monkeypatch, days=30, minutes=1)

    assert with_token(secret).get(ME).status_code == 401


def test_the_lifetimes_are_settings(applicant, settings):
    settings.API_TOKEN_TTL_APPLICANT = 3600
    before = timezone.now()

    ask(applicant)

    token = ApiToken.objects.get(user=applicant)
    assert dt.timedelta(minutes=59) < token.expires - before <= dt.timedelta(hours=1, minutes=1)


def test_an_applicant_token_of_someone_made_staff_lasts_only_a_staff_token(applicant, monkeypatch):
    from accounts.roles import grant_role
    from tests.factories import enrol_totp

    secret = ask(applicant).json()["token"]
    grant_role(applicant, VERIFIER)
    enrol_totp(applicant)
    assert with_token(secret).get(ME).status_code == 200

    later(monkeypatch, hours=9)

    assert with_token(secret).get(ME).status_code == 401


def test_a_token_of_someone_made_staff_without_a_factor_is_refused(applicant):
    from accounts.roles import grant_role

    secret = ask(applicant).json()["token"]
    grant_role(applicant, VERIFIER)

    response = with_token(secret).get(ME)

    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_the_owner_lists_their_tokens_without_secrets(applicant, other_applicant):
    first = ask(applicant).json()["token"]
    ask(applicant)
    api_token_for(other_applicant)

    response = with_token(first).get(TOKENS)

    assert response.status_code == 200
    results = response.json()["results"]
    assert len(results) == 2
    assert set(results[0]) == {"id", "prefix", "created", "expires", "last_used", "revoked"}
    assert first not in response.content.decode()
    assert {r["prefix"] for r in results} == set(
        ApiToken.objects.filter(user=applicant).values_list("prefix", flat=True)
    )


def test_the_owner_revokes_a_token(applicant):
    first = ask(applicant).json()["token"]
    second = ask(applicant).json()["token"]
    token = ApiToken.objects.get(user=applicant, prefix=second[:12])

    response = with_token(first).delete(f"{TOKENS}{token.pk}/")

    assert response.status_code == 204
    assert with_token(second).get(ME).status_code == 401
    assert with_token(first).get(ME).status_code == 200
    listed = with_token(first).get(TOKENS).json()["results"]
    assert next(r for r in listed if r["id"] == token.pk)["revoked"] is not None


def test_another_users_token_is_not_found(applicant, other_applicant):
    mine = ask(applicant).json()["token"]
    theirs = ask(other_applicant).json()["token"]
    token = ApiToken.objects.get(user=other_applicant)

    response = with_token(mine).delete(f"{TOKENS}{token.pk}/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert with_token(theirs).get(ME).status_code == 200


def test_a_password_change_on_the_web_kills_every_token(client, applicant):
    secret = ask(applicant).json()["token"]
    client.force_login(applicant)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "Another-pw-2026!", "password2": "Another-pw-2026!"},
    )

    assert response.status_code == 302
    assert with_token(secret).get(ME).status_code == 401


def test_a_password_set_by_any_other_path_kills_every_token(applicant):
    """The reset-by-mail page, a management command: set_password() and a save."""
    secret = ask(applicant).json()["token"]

    applicant.set_password("Reset-by-mail-2026!")
    applicant.save()

    assert with_token(secret).get(ME).status_code == 401


def test_a_password_set_in_the_admin_kills_every_token(client, superuser, applicant):
    secret = ask(applicant).json()["token"]
    client.force_login(superuser)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[applicant.pk]),
        {"password1": "Admin-set-pw-2026!", "password2": "Admin-set-pw-2026!"},
    )

    assert response.status_code == 302
    assert with_token(secret).get(ME).status_code == 401


def test_other_saves_of_the_user_keep_the_tokens(applicant):
    secret = ask(applicant).json()["token"]

    applicant.email = "baru@example.test"
    applicant.save()
    # A log-in that upgrades the stored hash is no password change either.
    get_user_model().objects.get(pk=applicant.pk).check_password(PASSWORD)

    assert with_token(secret).get(ME).status_code == 200


def test_logout_revokes_the_token_the_session_made(client, applicant):
    client.force_login(applicant)
    made = client.post(TOKENS)
    assert made.status_code == 201
    secret = made.json()["token"]
    other = ask(applicant).json()["token"]
    assert with_token(secret).get(ME).status_code == 200

    client.post(reverse("account_logout"))

    assert with_token(secret).get(ME).status_code == 401
    assert with_token(other).get(ME).status_code == 200  # not made by that session


def test_a_token_cannot_make_another_token(applicant):
    secret = ask(applicant).json()["token"]

    response = with_token(secret).post(TOKENS)

    assert response.status_code == 403


def test_plain_drf_tokens_are_gone():
    from django.conf import settings

    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS


def test_a_password_reset_by_mail_kills_every_token(client, applicant, mailoutbox):
    import re

    from tests.utils import verify_email

    verify_email(applicant)
    secret = ask(applicant).json()["token"]
    client.post(reverse("account_reset_password"), {"email": applicant.email})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+)", mailoutbox[-1].body)
    form = client.get(link.group(1), follow=True)

    response = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"password1": "Reset-by-mail-2026!", "password2": "Reset-by-mail-2026!"},
    )

    assert response.status_code == 302
    assert with_token(secret).get(ME).status_code == 401
