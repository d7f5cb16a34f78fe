"""API authentication that switches to the user's language once the user is known."""

from django.utils import translation
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication

from config.errors import CsrfFailed


def _activate(result):
    if result is not None:
        user = result[0]
        if getattr(user, "language", None):
            translation.activate(user.language)
    return result


class LanguageTokenAuthentication(TokenAuthentication):
    def authenticate(self, request):
        return _activate(super().authenticate(request))


class LanguageSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        return _activate(super().authenticate(request))

    def enforce_csrf(self, request) -> None:
        """As DRF's, but the refusal says what happened (403 csrf_failed), not "your role"."""
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise CsrfFailed() from None
