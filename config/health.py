"""GET /healthz: the database and the broker answer, quickly; the workers' heartbeat's age.

Every hit costs a SELECT 1 and a Redis PING, each bounded by HEALTH_TIMEOUT, so a load
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

from .celery_app import HEARTBEAT_KEY
from .preflight import check_database, check_redis

HEALTH_TIMEOUT = 0.4  # seconds, for each dependency
# Beat asks for a heartbeat every 60 s; three missed ones make the workers late.
HEARTBEAT_LATE_SECONDS = 180

# The database is asked from a thread so a server that does not answer (a dropped packet,
# not a refusal) costs HEALTH_TIMEOUT, not the driver's connect timeout. Few threads: a hung
# check holds one until the driver gives up, and later checks then time out at once.
_database_checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="healthz")


def _database_in_thread() -> str:
    try:
        return check_database()
    finally:
        connections.close_all()  # this thread's own connection


def database_status() -> tuple[str, str]:
    """('ok'|'down', reason)."""
    try:
        answer = _database_checks.submit(_database_in_thread).result(timeout=HEALTH_TIMEOUT)
    except FutureTimeout:
        return "down", (
            f"The database did not answer within {HEALTH_TIMEOUT} s. "
            "Check DATABASE_URL and that the server is running."
        )
    return ("ok", "") if answer == "ok" else ("down", answer)


def broker_status() -> tuple[str, str]:
    """('ok'|'eager'|'down', reason): a Redis PING, not a task's round trip."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager", ""
    answer = check_redis(timeout=HEALTH_TIMEOUT)
    return ("ok", "") if answer == "ok" else ("down", answer)


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
    database, database_reason = database_status()
    broker, broker_reason = broker_status()
    body: dict = {"database": database, "broker": broker}
    if broker == "ok":
        # Eager tasks run in the web process: there is no worker to report. With Redis down
        # the heartbeat cannot be read.
        body["worker"] = worker_status()
    elif broker == "down":
        body["worker"] = "unknown"
    errors = {
        name: reason
        for name, reason in (("database", database_reason), ("broker", broker_reason))
        if reason
    }
    if errors:
        body["errors"] = errors
    healthy = database == "ok" and broker in {"ok", "eager"}
    return JsonResponse(body, status=200 if healthy else 503)
