"""GET /healthz: the database, the broker and the documents' storage answer, quickly; the
workers' heartbeat's age.

Every hit costs a SELECT 1, a Redis PING and a look at the storage (the folder is there and
writable, or one HEAD of the bucket), side by side and bounded by HEALTH_TIMEOUT, so a load
balancer polling it never ties up the web workers, whatever is down. Workers are not asked:
beat has one write a heartbeat every minute (config.celery_app.heartbeat), and its age is
reported as "worker" without failing health (a stopped worker delays jobs; the site works).
"""

import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from subsidy.storage import check_storage

from .celery_app import HEARTBEAT_KEY
from .preflight import check_database, check_redis

HEALTH_TIMEOUT = 0.5  # seconds, for all checks together (they run side by side)
# Beat asks for a heartbeat every 60 s; three missed ones make the workers late.
HEARTBEAT_LATE_SECONDS = 180

# The checks run in threads, so a server that does not answer (a dropped packet, not a
# refusal) costs HEALTH_TIMEOUT, not a driver's connect timeout. Few threads: a hung check
# holds one until its driver gives up, and later checks then time out at once.
_checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="healthz")


def _database_in_thread() -> str:
    try:
        return check_database()
    finally:
        connections.close_all()  # this thread's own connection


def _broker_in_thread() -> str:
    return check_redis(timeout=HEALTH_TIMEOUT)


def _statuses() -> tuple[tuple[str, str], tuple[str, str], tuple[str, str]]:
    """(database, broker, storage), each ('ok'|'eager'|'down', reason), within HEALTH_TIMEOUT."""
    deadline = time.monotonic() + HEALTH_TIMEOUT
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    database = _checks.submit(_database_in_thread)
    broker = None if eager else _checks.submit(_broker_in_thread)
    storage = _checks.submit(check_storage)

    def answer(future, name: str, variable: str) -> tuple[str, str]:
        try:
            reply = future.result(timeout=max(deadline - time.monotonic(), 0))
        except FutureTimeout:
            return "down", (
                f"The {name} did not answer within {HEALTH_TIMEOUT} s. "
                f"Check {variable} and that the server is running."
            )
        return ("ok", "") if reply == "ok" else ("down", reply)

    return (
        answer(database, "database", "DATABASE_URL"),
        ("eager", "") if broker is None else answer(broker, "broker (Redis)", "REDIS_URL"),
        answer(storage, "documents' storage", "PRIVATE_MEDIA_ROOT or DOCUMENTS_S3_*"),
    )


def worker_status() -> str:
    """'ok' (a heartbeat in the last HEARTBEAT_LATE_SECONDS), 'late', or 'unknown' (none)."""
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:
        return "unknown"
    if not isinstance(beat, int | float):
        return "unknown"
    return "ok" if time.time() - beat <= HEARTBEAT_LATE_SECONDS else "late"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    (database, database_reason), (broker, broker_reason), (storage, storage_reason) = _statuses()
    body: dict = {"database": database, "broker": broker, "storage": storage}
    if broker == "ok":
        # Eager tasks run in the web process: there is no worker to report. With Redis down
        # the heartbeat cannot be read.
        body["worker"] = worker_status()
    elif broker == "down":
        body["worker"] = "unknown"
    errors = {
        name: reason
        for name, reason in (
            ("database", database_reason),
            ("broker", broker_reason),
            ("storage", storage_reason),
        )
        if reason
    }
    if errors:
        body["errors"] = errors
    healthy = database == "ok" and broker in {"ok", "eager"} and storage == "ok"
    return JsonResponse(body, status=200 if healthy else 503)
