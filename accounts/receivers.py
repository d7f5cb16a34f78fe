"""Reactions to log-in, log-out and enrolment (connected in AccountsConfig.ready)."""

from allauth.core import context
from allauth.mfa.models import Authenticator
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from .middleware import staff_session_start
from .second_factor import FACTOR_TYPES, record_second_factor
from .services import api_tokens_revoke_for_session


@receiver(user_logged_in, dispatch_uid="accounts.start_staff_session")
def start_staff_session(
    sender: object, request: HttpRequest | None, user, **kwargs: object
) -> None:
    """A staff session's 8 hours count from its log-in."""
    if request is not None and hasattr(request, "session") and user.needs_second_factor:
        staff_session_start(request.session)


@receiver(user_logged_out, dispatch_uid="accounts.revoke_session_tokens")
def revoke_session_tokens(sender: object, request: HttpRequest | None, **kwargs: object) -> None:
    """Logging out ends the API tokens that this session made."""
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        api_tokens_revoke_for_session(session_key=session.session_key)


@receiver(post_save, sender=Authenticator, dispatch_uid="accounts.enrolment_passes_the_factor")
def enrolment_passes_the_factor(sender: object, instance: Authenticator, created: bool, **kwargs):
    """Enrolling needs a valid code (or the key's signature): the session that enrols has shown
    the factor, as if it had logged in with it. (On the save, inside the request: allauth's
    authenticator_added signal comes after the commit, too late for some callers.)"""
    request = context.request
    if (
        created
        and instance.type in FACTOR_TYPES
        and request is not None
        and getattr(request, "user", None) is not None
        and request.user.pk == instance.user_id
    ):
        record_second_factor(request, instance)
