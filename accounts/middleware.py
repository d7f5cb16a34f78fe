import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .second_factor import has_second_factor, session_passed_second_factor


class UserLanguageMiddleware:
    """Pages follow the signed-in user's language; anonymous visitors get Accept-Language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "language", None):
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


def _needs_second_factor(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.needs_second_factor)


def staff_session_start(session) -> None:
    """Note the log-in time of a staff session (called on log-in)."""
    now = time.time()
    session[StaffSessionMiddleware.STARTED] = now
    session[StaffSessionMiddleware.LAST_SEEN] = now
    session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)


class StaffSessionMiddleware:
    """A staff session ends after STAFF_SESSION_IDLE_SECONDS without a request and
    STAFF_SESSION_MAX_SECONDS after its log-in, whatever happens in between (ASVS 3.3).
    Applicants keep Django's session lifetime."""

    STARTED = "staff_session_started"
    LAST_SEEN = "staff_session_last_seen"
    # The last request is written down at most once a minute, not on every request.
    RESOLUTION = 60

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _needs_second_factor(request):
            now = time.time()
            session = request.session
            started = session.get(self.STARTED, now)
            last_seen = session.get(self.LAST_SEEN, now)
            if (
                now - last_seen > settings.STAFF_SESSION_IDLE_SECONDS
                or now - started > settings.STAFF_SESSION_MAX_SECONDS
            ):
                logout(request)
                if not request.path_info.startswith("/api/"):
                    messages.info(
                        request, _("Your session has ended for your security; please log in again.")
                    )
                    return redirect_to_login(request.get_full_path())
            elif self.STARTED not in session or now - last_seen >= self.RESOLUTION:
                session[self.STARTED] = started
                session[self.LAST_SEEN] = now
                # The cookie and the stored session lapse with the idle limit too.
                session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)


class SecondFactorMiddleware:
    """Staff pass their second factor before any page but enrolling, re-authenticating, logging
    out and static files: an un-enrolled user is sent to enrol, a session that has not shown
    the factor (one older than the enrolment) to re-authenticate with it. The API answers for
    itself (accounts/authentication.py: 403 mfa_required)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @staticmethod
    def _open_paths() -> tuple[str, ...]:
        return (
            reverse("mfa_index"),
            reverse("account_logout"),
            reverse("account_reauthenticate"),
            reverse("set_language"),
            settings.STATIC_URL,
            "/api/",
            "/healthz",
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _needs_second_factor(request) and not request.path_info.startswith(self._open_paths()):
            # A factor reset by a superuser sends even a session that passed it to enrol again.
            if not has_second_factor(request.user):
                messages.warning(
                    request,
                    _(
                        "Your role needs a second factor: set up an authenticator app or a "
                        "security key before you continue."
                    ),
                )
                return redirect("mfa_index")
            if not session_passed_second_factor(request):
                target = reverse("mfa_reauthenticate")
                return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
