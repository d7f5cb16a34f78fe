"""The second factor, through django-allauth's MFA: who must have one, and checking a code.

Codes are checked by allauth's own form (TOTP with its used-code guard, recovery codes each
used once, its rate limit and failure signal); nothing here computes a TOTP.
"""

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.base.forms import BaseAuthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest

# Recovery codes alone are no factor: they back up one of these.
FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_second_factor(user) -> bool:
    """The user has enrolled an authenticator app or a security key."""
    return is_mfa_enabled(user, list(FACTOR_TYPES))


def session_passed_second_factor(request: HttpRequest) -> bool:
    """This session's log-in (or a later re-authentication or enrolment) used the factor."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


def record_second_factor(request: HttpRequest, authenticator: Authenticator) -> None:
    """Note in the session, as allauth's own log-in does, that the factor was just shown."""
    record_authentication(
        request, authenticator.user, "mfa", id=authenticator.pk, type=authenticator.type
    )


def check_code(user, code: str) -> bool:
    """A valid, unused TOTP code or unused recovery code of ``user`` (it is then used up)."""
    form = BaseAuthenticateForm(data={"code": code}, user=user)
    if not form.is_valid():
        return False
    form.authenticator.record_usage()
    return True
