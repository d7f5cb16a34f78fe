"""django-allauth's hooks: who a web sign-up becomes, and in which language."""

from allauth.account.adapter import DefaultAccountAdapter
from django.db import transaction
from django.http import HttpRequest
from django.utils import translation

from .roles import APPLICANT, grant_role


class AccountAdapter(DefaultAccountAdapter):
    """Web sign-up makes an applicant, never a staff account (as POST /auth/register/)."""

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
