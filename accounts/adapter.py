"""django-allauth's hooks: who a web sign-up becomes, and in which language."""

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import lazy

from config.client_ip import client_ip

from .roles import APPLICANT, grant_role
from .services import credentials_refused_message

_refused = lazy(credentials_refused_message, str)()


class AccountAdapter(DefaultAccountAdapter):
    """Web sign-up makes an applicant, never a staff account (as POST /auth/register/)."""

    # A refused log-in reads the same whichever the reason (accounts.services).
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": _refused,
        "email_password_mismatch": _refused,
    }

    def save_user(self, request: HttpRequest, user, form, commit: bool = True):
        user = super().save_user(request, user, form, commit=False)
        # The language the visitor was reading in becomes the account's language.
        language = translation.get_language() or ""
        if language[:2] in dict(user.Language.choices):
            user.language = language[:2]
        if commit:
            with transaction.atomic():
                user.save()
                grant_role(user, APPLICANT)
        return user

    def get_client_ip(self, request: HttpRequest) -> str:
        """allauth's rate limits key on the same trusted address as the throttles."""
        return client_ip(request) or super().get_client_ip(request)
