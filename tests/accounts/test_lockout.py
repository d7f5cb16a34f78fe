"""Lockout: 5 failed log-ins for one username lock it for 15 minutes on every log-in surface."""

import contextlib
import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator
from unittest import mock

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import APPLICANT
from tests.factories import UserFactory

PASSWORD = "Pw-for-tests-1"  # tests/factories.py
WRONG = "Salah-sekali-99"
LOCKED_ID = "Terlalu banyak log masuk yang gagal untuk nama pengguna ini."
LOCKED_EN = "Too many failed log-ins for this username."

_addresses = (f"198.51.100.{n}" for n in itertools.cycle(range(1, 255)))


def _spoofed() -> dict:
    """A different X-Forwarded-For on every attempt, as the probe that beat the throttles."""
    return {"HTTP_X_FORWARDED_FOR": next(_addresses)}


def page(username: str, password: str, **headers: str):
    return Client().post("/accounts/login/", {"login": username, "password": password}, **headers)


def admin(username: str, password: str, **headers: str):
    """The admin's log-in is the accounts' log-in (its lockout and second factor)."""
    client = Client()
    entry = client.get("/admin/login/?next=/admin/")
    assert entry.status_code == 302 and entry["Location"].startswith("/accounts/login/")
    return client.post(entry["Location"], {"login": username, "password": password}, **headers)


def token(username: str, password: str, **headers: str):
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        **headers,
    )


SURFACES: dict[str, Callable] = {"page": page, "admin": admin, "token": token}
# What a wrong password and the right one answer when nothing is locked.
WRONG_STATUS = {"page": 200, "admin": 200, "token": 400}
RIGHT_STATUS = {"page": 302, "admin": 302, "token": 200}


@pytest.fixture
def sari(db):
    """An account that every surface accepts with the right password alone (a verified e-mail
    for the page; not staff, whom the token endpoint asks for a second factor too)."""
    user = UserFactory(username="sari", roles=[APPLICANT])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@contextlib.contextmanager
def clock_moved(by: dt.timedelta) -> Iterator[None]:
    """Run as if `by` had passed (django-axes and the project read the time here)."""
    real_now = timezone.now

    def later() -> dt.datetime:
        return real_now() + by

    with (
        mock.patch("django.utils.timezone.now", later),
        mock.patch("axes.handlers.proxy.now", later),
        mock.patch("axes.attempts.now", later),
    ):
        yield


def _fail(surface: str, username: str, times: int = 5) -> list:
    return [SURFACES[surface](username, WRONG, **_spoofed()) for _ in range(times)]


def _locked_text(response) -> str:
    """The refusal's words: the API's detail, or the page's message."""
    if response["Content-Type"].startswith("application/json"):
        return response.json()["detail"]
    found = re.search(r'<div class="alert alert-warning" role="alert">(.*?)</div>', response.text)
    assert found, response.text
    return found.group(1)


@pytest.mark.parametrize("surface", SURFACES)
def test_five_wrong_passwords_lock_the_username_the_right_one_included(sari, surface):
    answers = _fail(surface, "sari")

    assert [r.status_code for r in answers[:4]] == [WRONG_STATUS[surface]] * 4
    # Every attempt came from "another" address: the lock is on the username.
    right = SURFACES[surface]("sari", PASSWORD, **_spoofed())
    assert right.status_code == 429
    assert LOCKED_ID in _locked_text(right)
    assert "coba lagi" in _locked_text(right)
    assert int(right["Retry-After"]) > 0


def test_the_token_endpoint_answers_the_contract_code_with_the_wait(sari):
    _fail("token", "sari")
    response = token("sari", PASSWORD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked_out"
    assert 0 < body["retry_after"] <= 15 * 60 + 1


def test_failures_on_different_surfaces_add_up(sari):
    _fail("page", "sari", times=2)
    _fail("admin", "sari", times=2)
    _fail("token", "sari", times=1)
    assert token("sari", PASSWORD).status_code == 429
    assert page("sari", PASSWORD).status_code == 429


def test_an_e_mail_address_typed_instead_counts_for_its_username(sari):
    _fail("page", "sari", times=3)
    _fail("page", "SARI@example.test", times=2)
    assert page("sari", PASSWORD).status_code == 429


@pytest.mark.parametrize("surface", SURFACES)
def test_another_username_is_not_affected(sari, surface):
    budi = UserFactory(username="budi", roles=[APPLICANT])
    EmailAddress.objects.create(user=budi, email=budi.email, verified=True, primary=True)
    _fail(surface, "sari")
    assert SURFACES[surface]("budi", PASSWORD).status_code == RIGHT_STATUS[surface]


@pytest.mark.parametrize("surface", SURFACES)
def test_an_unknown_username_is_answered_the_same(sari, surface):
    known = _fail(surface, "sari", times=6)
    unknown = _fail(surface, "tidak-ada", times=6)

    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert known[-1].status_code == 429
    # The same words, but for the time (which may fall on another minute).
    minutes = re.compile(r"\d+ \w+ \d{4} \d{2}:\d{2}")
    assert minutes.sub("T", _locked_text(known[-1])) == minutes.sub("T", _locked_text(unknown[-1]))


@pytest.mark.parametrize("surface", SURFACES)
def test_after_fifteen_minutes_the_right_password_works(sari, surface):
    _fail(surface, "sari")
    with clock_moved(dt.timedelta(minutes=14)):
        assert SURFACES[surface]("sari", PASSWORD).status_code == 429
    with clock_moved(dt.timedelta(minutes=15, seconds=5)):
        assert SURFACES[surface]("sari", PASSWORD).status_code == RIGHT_STATUS[surface]


def test_refused_attempts_during_the_lock_do_not_extend_it(sari):
    _fail("token", "sari")
    with clock_moved(dt.timedelta(minutes=10)):
        assert token("sari", WRONG).status_code == 429
    with clock_moved(dt.timedelta(minutes=15, seconds=5)):
        assert token("sari", PASSWORD).status_code == 200


def test_a_successful_log_in_clears_the_failures(sari):
    _fail("token", "sari", times=4)
    assert token("sari", PASSWORD).status_code == 200
    _fail("token", "sari", times=4)
    assert token("sari", PASSWORD).status_code == 200


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(sari):
    _fail("token", "sari", times=4)
    with clock_moved(dt.timedelta(minutes=16)):
        _fail("token", "sari", times=1)
        assert token("sari", PASSWORD).status_code == 200


def test_the_lock_message_follows_the_language(sari):
    _fail("page", "sari")
    english = page("sari", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 429
    assert LOCKED_EN in _locked_text(english)
    assert "try again after that" in _locked_text(english)
    api_english = token("sari", PASSWORD, HTTP_ACCEPT_LANGUAGE="en")
    assert LOCKED_EN in api_english.json()["detail"]


def test_with_a_trusted_proxy_the_lock_still_follows_the_username(sari, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        token("sari", WRONG, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}", REMOTE_ADDR="10.0.0.1")
    assert token("sari", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.99").status_code == 429
