"""GET /healthz: the database answers, and a task makes the round trip through the broker."""

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery_app import ping
from .preflight import check_database, check_redis

BROKER_ROUND_TRIP_SECONDS = 5.0


def check_broker() -> tuple[str, str]:
    """('ok'|'eager'|'down', reason)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager", ""
    reachable = check_redis()
    if reachable != "ok":
        return "down", reachable
    try:
        result = ping.apply_async(retry=False)
        answer = result.get(timeout=BROKER_ROUND_TRIP_SECONDS)
        result.forget()
    except Exception as exc:
        return "down", f"No worker answered within {BROKER_ROUND_TRIP_SECONDS:.0f} s ({exc!r})."
    return ("ok", "") if answer == "pong" else ("down", f"Unexpected answer {answer!r}.")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = check_database()
    broker, broker_reason = check_broker()
    body: dict = {"database": "ok" if database == "ok" else "down", "broker": broker}
    errors = {}
    if database != "ok":
        errors["database"] = database
    if broker_reason:
        errors["broker"] = broker_reason
    if errors:
        body["errors"] = errors
    healthy = database == "ok" and broker in {"ok", "eager"}
    return JsonResponse(body, status=200 if healthy else 503)
