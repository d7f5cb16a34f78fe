"""API authentication that switches to the user's language once the user is known.

Tokens are `accounts.ApiToken`: the header carries the secret, the database only its SHA-256.
Staff reach the API only with their second factor: a token is given to them only for a valid
code (accounts/apis.py), and a session only once it has passed the factor.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication, TokenAuthentication

from config.errors import CsrfFailed, MfaRequired

from .models import ApiToken
from .second_factor import has_second_factor, session_passed_second_factor
from .tokens import token_hash

# last_used is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _activate(result):
    if result is not None:
        user = result[0]
        if getattr(user, "language", None):
            translation.activate(user.language)
    return result


def mfa_required_detail() -> str:
    return _(
        "Your role needs a second factor. Set up an authenticator app or a security key on "
        "the web (Account, Two-factor authentication), then ask for a token with its code."
    )


class LanguageTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <secret>`: a live (not expired, not revoked) ApiToken."""

    def authenticate(self, request):
        return _activate(super().authenticate(request))

    def authenticate_credentials(self, key: str):
        token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
        now = timezone.now()
        if token is None or not token.is_live(now) or not token.user.is_active:
            raise exceptions.AuthenticationFailed()
        user = token.user
        if user.needs_second_factor:
            # A token made while the user was an applicant does not outlive a staff token, and
            # becomes staff's only with a second factor.
            if now - token.created > dt.timedelta(seconds=settings.API_TOKEN_TTL_STAFF):
                raise exceptions.AuthenticationFailed()
            if not has_second_factor(user):
                _activate((user, token))
                raise MfaRequired(mfa_required_detail())
        if token.last_used is None or now - token.last_used > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return user, token


class LanguageSessionAuthentication(SessionAuthentication):
    def authenticate(self, request):
        result = _activate(super().authenticate(request))
        if result is not None and result[0].needs_second_factor:
            if not has_second_factor(result[0]) or not session_passed_second_factor(
                request._request
            ):
                raise MfaRequired(mfa_required_detail())
        return result

    def enforce_csrf(self, request) -> None:
        """As DRF's, but the refusal says what happened (403 csrf_failed), not "your role"."""
        try:
            super().enforce_csrf(request)
        except exceptions.PermissionDenied:
            raise CsrfFailed() from None
