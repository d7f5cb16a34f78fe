"""Registration, tokens and /me: what an IKM owner's phone or an integration sees."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import translation
from rest_framework.test import APIClient

from accounts.roles import APPLICANT
from accounts.second_factor import has_second_factor
from tests.factories import CompanyFactory, UserFactory
from tests.utils import client_for, totp_code

User = get_user_model()

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
ME = "/api/v1/me/"
STRONG_PASSWORD = "Mesin-bubut-2026"
FACTORY_PASSWORD = "Pw-for-tests-1"  # tests/factories.py UserFactory
REQUIRED_ID = "Bidang ini harus diisi."
REQUIRED_EN = "This field is required."
# Django REST framework's own Indonesian catalogue; the project's messages are not yet translated.
INVALID_EMAIL_ID = "Masukkan alamat email dengan format yang benar."

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language():
    # A request activates its language on the test thread; do not leak it into other tests.
    yield
    translation.deactivate()


def register(api: APIClient, **overrides: object):
    data = {"username": "sari", "email": "sari@example.test", "password": STRONG_PASSWORD}
    data.update(overrides)
    return api.post(REGISTER, data, format="json")


def token_client(user, password: str = FACTORY_PASSWORD) -> APIClient:
    """A client that signs in as an integration would: a token from the token endpoint."""
    api = APIClient()
    credentials = {"username": user.username, "password": password}
    if has_second_factor(user):
        credentials["otp"] = totp_code(user)
    response = api.post(TOKEN, credentials, format="json")
    assert response.status_code == 200, response.json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return api


def test_register_creates_an_applicant_speaking_indonesian(api) -> None:
    response = register(api)

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "username": "sari",
        "email": "sari@example.test",
        "detail": "Periksa e-mail Anda: kami telah mengirim pesan ke sari@example.test. Ikuti "
        "tautannya untuk memverifikasi alamat tersebut.",
    }
    user = User.objects.get(username="sari")
    assert user.role_names == {APPLICANT}
    assert user.language == "id"
    assert not user.companies.exists()
    assert user.check_password(STRONG_PASSWORD)
    # The link to verify the address went to it (the web log-in needs it verified).
    assert mail.outbox[-1].to == ["sari@example.test"]
    assert "/accounts/confirm-email/" in mail.outbox[-1].body


def test_registered_user_can_get_a_token_and_see_itself_as_applicant(api) -> None:
    register(api)
    # Once the address is verified (tests/accounts/test_unverified_log_in.py: not before).
    EmailAddress.objects.filter(email="sari@example.test").update(verified=True)

    response = api.post(TOKEN, {"username": "sari", "password": STRONG_PASSWORD}, format="json")
    api.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    me = api.get(ME)

    assert me.status_code == 200
    assert me.json()["roles"] == [APPLICANT]


def test_register_never_grants_a_staff_role_even_when_asked(api) -> None:
    response = register(api, roles=["approver"], is_superuser=True)

    assert response.status_code == 201
    assert User.objects.get(username="sari").role_names == {APPLICANT}
    assert not User.objects.get(username="sari").is_superuser


def test_register_refuses_a_taken_username(api, applicant) -> None:
    response = register(api, username=applicant.username)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["username"]


def test_register_refuses_a_username_taken_in_another_case(api, applicant) -> None:
    response = register(api, username=applicant.username.upper())

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["username"]


@pytest.mark.parametrize("password", ["123", "password", "12345678901", "sari@example.test"])
def test_register_refuses_a_weak_password(api, password: str) -> None:
    response = register(api, password=password)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["password"]
    assert not User.objects.filter(username="sari").exists()


def test_register_refuses_an_invalid_email(api) -> None:
    response = register(api, email="not-an-email")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["email"]


def test_register_names_every_missing_field(api) -> None:
    response = api.post(REGISTER, {}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"username", "email", "password"}


def test_register_refuses_values_of_the_wrong_type(api) -> None:
    response = api.post(
        REGISTER, {"username": ["sari"], "email": 5, "password": {"a": 1}}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"username", "email", "password"}


@pytest.mark.parametrize("body", ["[]", "null", '"sari"', "42"])
def test_register_refuses_a_json_body_that_is_not_an_object(api, body: str) -> None:
    response = api.post(REGISTER, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_register_refuses_broken_json(api) -> None:
    response = api.post(REGISTER, '{"username": "sari",', content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["non_field_errors"]


def test_register_refuses_a_body_that_is_not_json(api) -> None:
    response = api.post(REGISTER, "username=sari", content_type="text/plain")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["non_field_errors"]


def test_register_refuses_an_overlong_password(api) -> None:
    response = register(api, password="Aa1-" * 40)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["password"]


def test_token_is_given_for_the_right_credentials(api, applicant) -> None:
    response = api.post(
        TOKEN, {"username": applicant.username, "password": FACTORY_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["token"]
    assert body["token"]


def test_token_is_refused_for_a_wrong_password(api, applicant) -> None:
    response = api.post(
        TOKEN, {"username": applicant.username, "password": "wrong-password"}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["errors"]["non_field_errors"]
    assert "token" not in body


def test_token_is_refused_for_an_unknown_user(api) -> None:
    response = api.post(TOKEN, {"username": "nobody", "password": "whatever-1"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_token_is_refused_for_an_inactive_user(api) -> None:
    user = UserFactory(is_active=False)

    response = api.post(
        TOKEN, {"username": user.username, "password": FACTORY_PASSWORD}, format="json"
    )

    assert response.status_code == 400


def test_token_request_without_password_names_the_field(api) -> None:
    response = api.post(TOKEN, {"username": "sari"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["password"]


def test_me_without_credentials_is_401_not_authenticated(api) -> None:
    response = api.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_with_an_unknown_token_is_401_not_authenticated(api) -> None:
    api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef")

    response = api.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_shows_the_user_roles_and_companies(applicant) -> None:
    company = CompanyFactory(members=[applicant])
    CompanyFactory()  # another company's data never shows

    response = token_client(applicant).get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": applicant.id,
        "username": applicant.username,
        "email": applicant.email,
        "language": "id",
        "roles": [APPLICANT],
        "companies": [company.id],
    }


def test_me_shows_a_staff_role(verifier) -> None:
    response = token_client(verifier).get(ME)

    assert response.json()["roles"] == ["verifier"]
    assert response.json()["companies"] == []


def test_patch_me_changes_email_and_language(applicant) -> None:
    api = token_client(applicant)

    response = api.patch(ME, {"email": "ani@ikm.test", "language": "en"}, format="json")

    assert response.status_code == 200
    assert response.json()["email"] == "ani@ikm.test"
    assert response.json()["language"] == "en"
    applicant.refresh_from_db()
    assert (applicant.email, applicant.language) == ("ani@ikm.test", "en")


def test_patch_me_refuses_an_unknown_language(applicant) -> None:
    response = token_client(applicant).patch(ME, {"language": "xx"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["language"]
    applicant.refresh_from_db()
    assert applicant.language == "id"


def test_patch_me_cannot_change_the_username(applicant) -> None:
    response = token_client(applicant).patch(ME, {"username": "hacker"}, format="json")

    assert response.status_code == 200
    assert response.json()["username"] == applicant.username


def test_error_details_follow_the_user_language_once_set_to_english(applicant) -> None:
    api = token_client(applicant)
    api.patch(ME, {"language": "en"}, format="json")

    # The browser still asks for Indonesian: the user's own choice wins.
    response = api.patch(ME, {"email": "not-an-email"}, format="json", HTTP_ACCEPT_LANGUAGE="id")

    assert response.status_code == 400
    assert response.json()["errors"]["email"] == ["Enter a valid email address."]


def test_error_details_of_an_indonesian_user_are_in_indonesian(applicant) -> None:
    response = token_client(applicant).patch(
        ME, {"email": "not-an-email"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["email"] == [INVALID_EMAIL_ID]


def test_error_details_are_indonesian_by_default_for_anonymous_callers(api) -> None:
    response = api.post(REGISTER, {}, format="json")

    assert response.json()["errors"]["username"] == [REQUIRED_ID]


def test_error_details_follow_accept_language_for_anonymous_callers(api) -> None:
    response = api.post(REGISTER, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.json()["errors"]["username"] == [REQUIRED_EN]


def test_401_detail_follows_accept_language_for_anonymous_callers(api) -> None:
    english = api.get(ME, HTTP_ACCEPT_LANGUAGE="en")
    indonesian = api.get(ME)

    assert english.json()["detail"] == "Authentication credentials were not provided."
    assert indonesian.json()["code"] == "not_authenticated"
    assert indonesian.json()["detail"] not in {"", english.json()["detail"]}


def test_register_with_an_email_another_account_holds_answers_as_for_a_new_one(db, client):
    UserFactory(username="lama", email="sama@example.com")
    taken = client.post(
        "/api/v1/auth/register/",
        {"username": "baru", "email": "SAMA@example.com", "password": "Rahasia-Panjang-2026!"},
        content_type="application/json",
    )
    new = client.post(
        "/api/v1/auth/register/",
        {"username": "baru2", "email": "SAMA2@example.com", "password": "Rahasia-Panjang-2026!"},
        content_type="application/json",
    )
    assert taken.status_code == new.status_code == 201
    assert set(taken.json()) == set(new.json()) == {"username", "email", "detail"}
    assert taken.json()["detail"].replace("SAMA@", "SAMA2@") == new.json()["detail"]
    # Nothing is created for the taken address; its owner is told by e-mail instead.
    assert not User.objects.filter(username="baru").exists()
    assert User.objects.filter(email__iexact="sama@example.com").count() == 1
    assert [m.to for m in mail.outbox] == [["SAMA@example.com"], ["SAMA2@example.com"]]
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_me_refuses_an_email_another_account_holds(db, applicant, other_applicant):
    other_applicant.email = "budi@example.com"
    other_applicant.save()
    response = client_for(applicant).patch(
        "/api/v1/me/", {"email": "budi@example.com"}, format="json"
    )
    assert response.status_code == 400
    applicant.refresh_from_db()
    assert applicant.email != "budi@example.com"
