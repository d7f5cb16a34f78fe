"""The cast of users, and the rule that service tests run in CI and skip (with why) locally."""

import os

import pytest
from django.db import connection
from django.test.client import ClientMixin
from rest_framework.test import APIClient

from accounts.roles import APPLICANT, APPROVER, AUDITOR, FINANCE, VERIFIER
from accounts.second_factor import has_second_factor
from tests.clamd_server import CLAMD, ClamdServer
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import pass_second_factor

# The same words the settings accept (config/settings/env.py read_bool).
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "").strip().lower() in {
    "1",
    "true",
    "yes",
    "on",
}


def _missing_service(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://... (CI sets REQUIRE_SERVICES=1)"
    if item.get_closest_marker("redis"):
        url = os.environ.get("REDIS_URL", "")
        if not url:
            return "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0 (CI runs it)"
        import redis

        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            return f"Redis at {url} does not answer ({exc})"
    if item.get_closest_marker("clamav") and not os.access(CLAMD, os.X_OK):
        return f"needs ClamAV's daemon {CLAMD}: apt-get install clamav-daemon (CI installs it)"
    return None


@pytest.fixture(autouse=True)
def _services_required(request: pytest.FixtureRequest) -> None:
    reason = _missing_service(request.node)
    if reason:
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}")
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _private_media(tmp_path, settings) -> None:
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    # Each test's audit anchors apart: an anchor left by another test is another chain.
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """force_login stands for a whole log-in: for a user with a second factor (every staff user
    of the factories), the session also records it, as allauth's log-in stage does. Tests of
    the second factor itself log in through the pages or with client.login()."""
    force_login = ClientMixin.force_login

    def force_login_with_factor(self, user, backend=None) -> None:
        force_login(self, user, backend)
        if has_second_factor(user):
            pass_second_factor(self, user)

    monkeypatch.setattr(ClientMixin, "force_login", force_login_with_factor)


@pytest.fixture
def applicant(db):
    return UserFactory(username="ani", roles=[APPLICANT])


@pytest.fixture
def other_applicant(db):
    return UserFactory(username="budi", roles=[APPLICANT])


@pytest.fixture
def verifier(db):
    return UserFactory(username="citra", roles=[VERIFIER])


@pytest.fixture
def verifier2(db):
    return UserFactory(username="dedi", roles=[VERIFIER])


@pytest.fixture
def approver(db):
    return UserFactory(username="eka", roles=[APPROVER])


@pytest.fixture
def finance(db):
    return UserFactory(username="fajar", roles=[FINANCE])


@pytest.fixture
def auditor(db):
    return UserFactory(username="gita", roles=[AUDITOR])


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def programme(db):
    return ProgrammeFactory()


@pytest.fixture
def company(applicant):
    return CompanyFactory(members=[applicant])


@pytest.fixture
def other_company(other_applicant):
    return CompanyFactory(members=[other_applicant])


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def real_worker(tmp_path, transactional_db):
    """A real Celery worker on Redis and the test PostgreSQL database (see tests/workers.py)."""
    from tests.workers import RealWorker, restore_broker, use_broker

    if connection.vendor != "postgresql":
        pytest.skip("a real worker needs PostgreSQL to share the test database")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = RealWorker(mail_dir, tmp_path)
    saved = use_broker(worker.queue)
    try:
        yield worker
    finally:
        worker.stop()
        restore_broker(saved)


@pytest.fixture
def clamd_server(tmp_path):
    """A clamd of the test's own, not yet started (tests/clamd_server.py); stopped after."""
    server = ClamdServer(tmp_path / "clamd")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clamd(clamd_server, settings):
    """A running clamd with the EICAR test signature, and scanning on (CLAMAV_ADDRESS)."""
    clamd_server.start()
    settings.CLAMAV_ADDRESS = clamd_server.address
    return clamd_server
