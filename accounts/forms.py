from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

User = get_user_model()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of pages and e-mails"),
        choices=User.Language.choices,
        widget=forms.RadioSelect,
    )
