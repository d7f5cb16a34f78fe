"""GET /healthz: 200 while the database, the broker and the documents' storage answer, 503
naming what is down; quick either way; the workers' heartbeat reported without deciding health.
(The storage in a bucket: tests/subsidy/test_s3_storage.py.)"""

import contextlib
import os
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings
from django.core.cache import cache
from kombu import pools

from config.celery_app import HEARTBEAT_KEY, heartbeat
from config.celery_app import app as celery_app

UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/0"


@pytest.fixture(autouse=True)
def _patient_checks(request, monkeypatch) -> None:
    """A loaded CI machine may take longer than production's half second to open a
    connection; only the tests of the time limit keep it."""
    if "quickly" not in request.node.name and "within_a_second" not in request.node.name:
        monkeypatch.setattr("config.health.HEALTH_TIMEOUT", 5.0)


@pytest.mark.django_db
def test_healthz_reports_database_ok_and_eager_broker_under_test_settings(client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "eager",
        "storage": "ok",
        "scanner": "off",
    }


@pytest.mark.django_db
def test_healthz_is_503_with_the_reason_when_the_database_is_down(client, monkeypatch) -> None:
    reason = "Database unreachable (PostgreSQL at db:5432/ikm): refused. Check DATABASE_URL."
    monkeypatch.setattr("config.health.check_database", lambda: reason)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "down"
    assert body["broker"] == "eager"
    assert body["storage"] == "ok"
    assert body["errors"] == {"database": reason}


@contextlib.contextmanager
def hanging(monkeypatch, check: str) -> Iterator[None]:
    """`check` answers only once the test has its response: a "down" that says it "did not
    answer within" proves /healthz answered without waiting for it (no clock is read)."""
    released = threading.Event()
    monkeypatch.setattr(check, lambda: "ok" if released.wait(30) else "timed out")
    try:
        yield
    finally:
        released.set()


@pytest.mark.django_db
def test_healthz_is_503_quickly_when_redis_does_not_answer(client, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = UNREACHABLE_REDIS_URL

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"] == "down"
    assert body["worker"] == "unknown"
    assert "Redis unreachable" in body["errors"]["broker"]


@pytest.mark.django_db
def test_healthz_is_503_within_its_bound_when_the_database_hangs(client, monkeypatch) -> None:
    with hanging(monkeypatch, "config.health.check_database"):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "down"
    assert "did not answer within" in body["errors"]["database"]


@pytest.mark.django_db
def test_healthz_is_503_within_its_bound_when_both_hang(client, settings, monkeypatch) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # A routable address that drops packets: a connect that never answers, not a refusal.
    settings.REDIS_URL = "redis://10.255.255.1:6379/0"
    with hanging(monkeypatch, "config.health.check_database"):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == body["broker"] == "down"
    assert "did not answer within" in body["errors"]["database"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_documents_folder_cannot_be_written(client, settings, tmp_path):
    # A file where the folder should be: it can be neither made nor written into.
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"x")
    settings.PRIVATE_MEDIA_ROOT = blocker / "private"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["broker"], body["storage"]) == ("ok", "eager", "down")
    assert "PRIVATE_MEDIA_ROOT" in body["errors"]["storage"]


@pytest.mark.django_db
def test_healthz_makes_a_missing_documents_folder_as_the_first_upload_would(
    client, settings, tmp_path
) -> None:
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "fresh" / "private"

    assert client.get("/healthz").json()["storage"] == "ok"
    assert settings.PRIVATE_MEDIA_ROOT.is_dir()


@pytest.mark.django_db
def test_healthz_is_503_within_its_bound_when_the_storage_hangs(client, monkeypatch) -> None:
    with hanging(monkeypatch, "config.health.check_storage"):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["database"], body["storage"]) == ("ok", "down")
    assert "did not answer within" in body["errors"]["storage"]


@pytest.fixture
def broker_up(settings, monkeypatch) -> None:
    """A broker that answers its PING, without a Redis server."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr("config.health.check_redis", lambda timeout: "ok")
    cache.delete(HEARTBEAT_KEY)
    yield
    cache.delete(HEARTBEAT_KEY)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("age", "worker"), [(None, "unknown"), (5, "ok"), (170, "ok"), (190, "late"), (86400, "late")]
)
def test_healthz_reports_the_workers_heartbeat_without_failing_for_it(
    client, broker_up, age, worker
) -> None:
    if age is not None:
        cache.set(HEARTBEAT_KEY, time.time() - age, timeout=None)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "scanner": "off",
        "worker": worker,
    }


@pytest.mark.django_db
def test_the_heartbeat_task_is_what_healthz_reads(client, broker_up) -> None:
    heartbeat.apply()  # as a worker runs it

    assert client.get("/healthz").json()["worker"] == "ok"


def test_beat_runs_the_heartbeat_every_minute() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["worker-heartbeat"]

    assert entry["task"] == heartbeat.name
    assert entry["schedule"] <= 60


@pytest.mark.django_db
def test_healthz_does_not_send_a_task(client, broker_up, monkeypatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("/healthz sent a task")

    monkeypatch.setattr(celery_app, "send_task", refuse)
    monkeypatch.setattr("celery.app.task.Task.apply_async", refuse)

    assert client.get("/healthz").status_code == 200


CELERY_KEYS = ("broker_url", "result_backend", "task_always_eager", "task_default_queue")


def _forget_celery_connections() -> None:
    # The app caches its queues, connection pool and result backend on first use; dropping
    # them makes the next use read the broker, the backend and the queue afresh. The pools
    # live in kombu's registry: closing one there without removing it breaks the next user.
    pools.reset()
    celery_app._pool = None
    celery_app.__dict__.pop("amqp", None)
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def redis_broker(settings) -> Iterator[str]:
    """The Celery app on the real Redis of REDIS_URL, on a queue no other test process uses."""
    url = os.environ["REDIS_URL"]
    queue = f"healthz-{os.getpid()}"
    # What /healthz reads from the Django settings.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.REDIS_URL = url
    # What Celery reads: its own changes take precedence over the Django settings, and
    # other tests may have left some there, so set and restore them on the app itself.
    changes = celery_app.conf.changes
    saved = {key: changes[key] for key in CELERY_KEYS if key in changes}
    celery_app.conf.update(
        broker_url=url, result_backend=url, task_always_eager=False, task_default_queue=queue
    )
    _forget_celery_connections()
    try:
        yield queue
    finally:
        for key in CELERY_KEYS:
            changes.pop(key, None)
        changes.update(saved)
        _forget_celery_connections()
        # Leave no per-run queue behind (kombu's key names for a queue and its bindings).
        redis.Redis.from_url(url).delete(
            queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}"
        )


@pytest.mark.redis
# Celery's Django fix-up closes this thread's database connection when the worker starts;
# outside a test transaction the next query simply reconnects.
@pytest.mark.django_db(transaction=True)
def test_healthz_reports_broker_ok_and_the_heartbeat_a_worker_writes_through_redis(
    client, redis_broker: str, settings
) -> None:
    # The heartbeat lives in the cache, which is Redis wherever REDIS_URL is set.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": redis_broker,
        }
    }
    cache.delete(HEARTBEAT_KEY)
    assert client.get("/healthz").json() == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "scanner": "off",
        "worker": "unknown",
    }

    with start_worker(celery_app, queues=[redis_broker], perform_ping_check=False):
        heartbeat.apply_async(queue=redis_broker)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            response = client.get("/healthz")
            if response.json().get("worker") == "ok":
                break
            time.sleep(0.2)

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "scanner": "off",
        "worker": "ok",
    }
    cache.delete(HEARTBEAT_KEY)
