"""Redis or the database down: caches and throttles degrade, log-in and the token endpoint
still work, and a dependency's outage in a view answers 503 with a sentence, not a 500."""

import pytest
from django.core.cache import cache
from django.db import OperationalError
from django.test import Client
from rest_framework.test import APIClient

from accounts import apis as account_apis
from accounts.roles import APPLICANT
from tests.factories import UserFactory

PASSWORD = "Pw-for-tests-1"
# Nothing listens on the discard port: every connection is refused at once.
DEAD_REDIS = {
    "default": {
        "BACKEND": "config.cache.DegradingRedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }
}


@pytest.fixture
def redis_down(settings):
    settings.CACHES = DEAD_REDIS
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "auth": "20/min",
        },
    }
    # allauth's own rate limits (off in the test settings) read and write the cache too.
    del settings.ACCOUNT_RATE_LIMITS


def test_the_cache_answers_a_miss_when_redis_is_down(redis_down):
    assert cache.get("key", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.add("key", 1) is True  # as for a missing key: a lock taken with it is taken
    assert cache.has_key("key") is False
    cache.set("key", 1)
    cache.delete("key")
    with pytest.raises(ValueError, match="not found"):
        cache.incr("key")


def test_the_token_endpoint_and_the_log_in_page_work_with_redis_down(db, redis_down):
    user = UserFactory(username="sari", roles=[APPLICANT], password=PASSWORD)

    response = APIClient().post(
        "/api/v1/auth/token/", {"username": "sari", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["token"]

    page = Client().post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    assert page.status_code == 302, page.content[:500]
    assert page["Location"] != "/accounts/login/"


def test_a_database_outage_in_an_api_view_answers_503_json(db, monkeypatch):
    user = UserFactory(roles=[APPLICANT])

    def down(self, request):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(account_apis.MeApi, "get", down)
    client = APIClient()
    client.force_authenticate(user)
    client.raise_request_exception = False

    response = client.get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="id")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.json()
    assert body["code"] == "unavailable"
    assert body["detail"].startswith("Layanan sementara tidak tersedia")


def test_a_database_outage_in_a_page_answers_the_503_page(db, monkeypatch):
    from subsidy import selectors

    def down():
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(selectors, "current_programme", down)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    text = response.content.decode()
    assert "Layanan sementara tidak tersedia" in text
    assert "Traceback" not in text
