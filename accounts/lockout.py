"""The login lockout's hooks for django-axes: whose attempts count together, and the refusal.

Attempts count per username whatever the address they come from (settings AXES_*), so a
guesser who changes address or `X-Forwarded-For` gains nothing. The refusal is the same for
a username that exists and one that does not: axes counts attempts by the name typed.
"""

import datetime as dt

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

User = get_user_model()


def _typed_login(request: HttpRequest | None, credentials: dict | None) -> str:
    credentials = credentials or {}
    login = credentials.get("username") or credentials.get("email")
    if not login and request is not None:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        if hasattr(data, "get"):
            login = data.get("username") or data.get("login")
    return str(login or "").strip()


def lockout_username(request: HttpRequest | None, credentials: dict | None) -> str | None:
    """The name attempts count under: the username, also when the e-mail address was typed.

    allauth logs in with either and matches usernames without regard to case, so both
    spellings and the address are one account's attempts.
    """
    login = _typed_login(request, credentials)
    if not login:
        return None
    if "@" in login:
        owner = User.objects.filter(email__iexact=login).values_list("username", flat=True).first()
        if owner:
            login = owner
    return login.casefold()[:255]


def locked_until(request: HttpRequest | None, credentials: dict | None) -> dt.datetime:
    """When the username's lockout ends: the cool-off after its last counted failure."""
    cool_off = settings.AXES_COOLOFF_TIME
    now = timezone.now()
    username = lockout_username(request, credentials)
    last = AccessAttempt.objects.filter(
        username=username, attempt_time__gte=now - cool_off
    ).aggregate(last=Max("attempt_time"))["last"]
    return (last or now) + cool_off


def lockout_message(until: dt.datetime) -> str:
    return _(
        "Too many failed log-ins for this username. Log-in is locked until %(time)s "
        "(Jakarta time); try again after that."
    ) % {"time": date_format(timezone.localtime(until), "j F Y H:i")}


def retry_after(until: dt.datetime) -> int:
    return max(1, int((until - timezone.now()).total_seconds()) + 1)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """django-axes' refusal of a locked-out log-in: 429, saying until when, in the user's
    language; JSON under /api/ (the contract's error body), the page elsewhere."""
    until = locked_until(request, credentials)
    message = lockout_message(until)
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"code": "locked_out", "detail": message, "retry_after": retry_after(until)},
            status=429,
        )
    else:
        response = render(
            request, "account/locked_out.html", {"message": message, "until": until}, status=429
        )
    response["Retry-After"] = str(retry_after(until))
    return response
