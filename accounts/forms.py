from allauth.account.adapter import get_adapter
from allauth.account.forms import LoginForm as AllauthLoginForm
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from .services import awaits_email_verification, resend_verification

User = get_user_model()


class LoginForm(AllauthLoginForm):
    """allauth's log-in, but an account still waiting for its address to be verified is
    answered as a wrong password is (with one message naming both), and is sent a new link:
    the token endpoint does the same (accounts.apis.TokenApi)."""

    def clean(self):
        cleaned_data = super().clean()
        user = getattr(self, "user", None)
        if user is not None and awaits_email_verification(user):
            resend_verification(user=user, request=self.request)
            self.user = None
            raise get_adapter(self.request).validation_error("username_password_mismatch")
        return cleaned_data


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of pages and e-mails"),
        choices=User.Language.choices,
        widget=forms.RadioSelect,
    )
