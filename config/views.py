"""Answers Django gives outside the API's views: no route, a bug, a CSRF failure.

JSON in the contract's shape under /api/, Django's template-based pages elsewhere
(templates/404.html, 500.html and 403_csrf.html when the project has them).
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import csrf, defaults
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .errors import csrf_failed_detail


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: a path under /api/ that matches no route answers in the contract's shape."""
    if _is_api(request):
        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: under /api/, JSON (a bug, never bad input: that is a 400)."""
    if _is_api(request):
        return JsonResponse(
            {"code": "error", "detail": _("Something went wrong on our side.")}, status=500
        )
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: say what happened, as JSON under /api/ and as a page elsewhere."""
    if _is_api(request):
        return JsonResponse({"code": "csrf_failed", "detail": csrf_failed_detail()}, status=403)
    # Django's page (templates/403_csrf.html when the project has one): it explains the
    # missing or wrong token and the cookie it needs, in the visitor's language.
    return csrf.csrf_failure(request, reason=reason)


@extend_schema(exclude=True)
class NotFoundApi(APIView):
    """The last route under /api/: no API path matched. Answered by DRF, so bad credentials
    are still a 401 (the contract's order) and the caller's language is used; otherwise 404
    in the contract's shape, where Django would show its debug page (DEBUG) or HTML."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    def get(self, request: Request, *args: object, **kwargs: object) -> HttpResponse:
        # CommonMiddleware's APPEND_SLASH redirect, which this catch-all route would hide.
        path = request.path_info
        if settings.APPEND_SLASH and not path.endswith("/"):
            try:
                match = resolve(path + "/")
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "cls", None) is not NotFoundApi:
                return HttpResponsePermanentRedirect(
                    request._request.get_full_path(force_append_slash=True)
                )
        raise exceptions.NotFound()

    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        raise exceptions.NotFound()

    put = patch = delete = options = post
