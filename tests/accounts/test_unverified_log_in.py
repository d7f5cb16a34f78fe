"""An account whose e-mail address is not verified yet logs in nowhere, and its refusal reads as
a wrong password's does: signing up with someone's address and then logging in (page or token)
never tells whether the address already belonged to an account."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import APPLICANT
from tests.factories import UserFactory

REGISTER = "/api/v1/auth/register/"
TOKEN = "/api/v1/auth/token/"
LOGIN = "/accounts/login/"
PASSWORD = "Mesin-bubut-2026"
FACTORY_PASSWORD = "Pw-for-tests-1"  # tests/factories.py UserFactory
REFUSED_ID = (
    "Nama pengguna atau kata sandi salah, atau alamat e-mail akun belum diverifikasi: ikuti "
    "tautan dalam e-mail yang kami kirim."
)
REFUSED_EN = (
    "The username or password is wrong, or the account's e-mail address is not verified yet: "
    "follow the link in the e-mail we sent."
)


@pytest.fixture
def owner(db):
    """The address's real owner, verified long ago."""
    user = UserFactory(username="dewi", email="dewi@example.test", roles=[APPLICANT])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def register(username: str, email: str) -> None:
    response = APIClient().post(
        REGISTER, {"username": username, "email": email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 201, response.content


def token(username: str, language: str = "id", password: str = PASSWORD):
    return APIClient().post(
        TOKEN,
        {"username": username, "password": password},
        format="json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def page_error(username: str) -> str:
    response = Client().post(LOGIN, {"login": username, "password": PASSWORD})
    assert response.status_code == 200  # the form again, not a "verify your address" page
    found = re.search(r"data-error-summary>.*?<li>(.*?)</li>", response.text, re.S)
    assert found, response.text
    return found.group(1)


def test_a_new_account_gets_no_token_until_its_address_is_verified(db) -> None:
    register("sari", "sari@example.test")
    mail.outbox.clear()

    refused = token("sari")

    assert refused.status_code == 400
    assert refused.json()["errors"] == {"non_field_errors": [REFUSED_ID]}
    # The owner of the address is sent a new link.
    assert [message.to for message in mail.outbox] == [["sari@example.test"]]
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    Client().post(link.split("testserver", 1)[-1])

    assert EmailAddress.objects.get(email="sari@example.test").verified
    granted = token("sari")
    assert granted.status_code == 200
    assert granted.json()["token"]


def test_signing_up_with_a_taken_address_reads_like_a_new_one_at_the_token_endpoint(owner):
    register("mallory", owner.email)  # the address is taken: nothing is made
    register("trudy", "nobody-yet@example.test")  # a new account, unverified

    taken = token("mallory", "en")
    new = token("trudy", "en")

    assert taken.status_code == new.status_code == 400
    assert taken.json() == new.json()
    assert new.json()["errors"] == {"non_field_errors": [REFUSED_EN]}


def test_signing_up_with_a_taken_address_reads_like_a_new_one_on_the_log_in_page(owner):
    register("mallory", owner.email)
    register("trudy", "nobody-yet@example.test")

    assert page_error("mallory") == page_error("trudy") == REFUSED_ID


def test_a_verified_account_logs_in_and_an_administrators_account_gets_its_token(owner):
    UserFactory(username="eko", roles=[APPLICANT])  # made by an administrator: no address row

    assert token("dewi", password=FACTORY_PASSWORD).status_code == 200
    assert token("eko", password=FACTORY_PASSWORD).status_code == 200
    page = Client().post(LOGIN, {"login": "dewi", "password": FACTORY_PASSWORD})
    assert page.status_code == 302
