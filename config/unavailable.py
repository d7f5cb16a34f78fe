"""A dependency down mid-request (the database connection dropped, Redis unreachable where a
request truly needs it, the documents' bucket not answering) answers 503 with a sentence,
never a 500 with a stack trace.

Django rolls the request's transaction back, so nothing of it was written; the caller may
simply try again. Queueing a job after commit never gets here: subsidy/jobs.py catches it.
"""

import logging

from botocore.exceptions import ConnectionError as StoreConnectionError
from botocore.exceptions import ReadTimeoutError as StoreTimeoutError
from django.db import InterfaceError
from django.db import OperationalError as DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

OUTAGES = (
    DatabaseError,
    InterfaceError,
    BrokerError,
    RedisConnectionError,
    RedisTimeoutError,
    # The documents' bucket (subsidy/storage_s3.py) not answering.
    StoreConnectionError,
    StoreTimeoutError,
)
RETRY_AFTER_SECONDS = 30


def unavailable_detail() -> str:
    return _(
        "The service is briefly unavailable; your request was not saved. "
        "Please try again in a minute."
    )


class DependencyDownMiddleware:
    """Turns a dependency's outage raised by a view into the 503 of API.md (code unavailable)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OUTAGES):
            return None
        logger.error(
            "%s %s: a dependency is down: %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
            str(exception).strip().splitlines()[0] if str(exception).strip() else "",
        )
        if request.path_info.startswith("/api/"):
            response = JsonResponse(
                {"code": "unavailable", "detail": unavailable_detail()}, status=503
            )
        else:
            response = HttpResponse(loader.render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
