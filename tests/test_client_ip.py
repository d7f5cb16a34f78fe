"""The client's address comes from the trusted proxies, never from a header the client sets."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory
from rest_framework.test import APIClient

from config.client_ip import client_ip
from config.throttles import ScopedRateThrottle
from tests.factories import UserFactory

TOKEN = "/api/v1/auth/token/"


def _request(remote: str = "10.0.0.9", forwarded: str | None = None):
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **headers)


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("192.0.2.5", "203.0.113.1")) == "192.0.2.5"


def test_with_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    # The client wrote "1.2.3.4"; the proxy appended the address it saw.
    assert client_ip(_request("10.0.0.9", "1.2.3.4, 203.0.113.7")) == "203.0.113.7"


def test_with_two_proxies_the_outer_one_names_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("10.0.0.9", "1.2.3.4, 203.0.113.7, 10.0.0.8")) == "203.0.113.7"


@pytest.mark.parametrize("forwarded", [None, "", "not-an-address"])
def test_a_missing_short_or_malformed_header_falls_back_to_the_peer(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1 if forwarded != "" else 2
    assert client_ip(_request("10.0.0.9", forwarded)) == "10.0.0.9"


@pytest.fixture
def three_per_minute(monkeypatch):
    cache.clear()
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "auth", "3/min")
    yield
    cache.clear()


def _token(user, **headers):
    return APIClient().post(
        TOKEN, {"username": user.username, "password": "Pw-for-tests-1"}, format="json", **headers
    )


def test_a_different_forwarded_for_on_each_request_does_not_bypass_the_throttle(
    db, three_per_minute
):
    user = UserFactory()
    answers = [_token(user, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}") for n in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["code"] == "throttled"


def test_behind_a_trusted_proxy_the_throttle_keys_on_the_address_it_appended(
    db, three_per_minute, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    # The same client behind the proxy, claiming a new address each time: one budget.
    same = [
        _token(user, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 203.0.113.7")
        for n in range(4)
    ]
    assert [r.status_code for r in same] == [200, 200, 200, 429]
    # Another client behind the same proxy has a budget of its own.
    other = _token(user, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 200
