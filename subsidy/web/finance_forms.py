"""The form of finance's transfer upload: one CSV file; subsidy.services.transfers reads it."""

from django import forms
from django.utils.translation import gettext_lazy as _


class TransferUploadForm(forms.Form):
    file = forms.FileField(
        label=_("The bank's CSV file"),
        help_text=_(
            "A header line reference,transfer_reference,transferred_on, then one line per "
            "transfer; dates as YYYY-MM-DD."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
