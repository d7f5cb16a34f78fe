"""Forms of the applicant's application pages: they validate what is typed, the services decide.

A service's ValidationError or ServiceError becomes form errors with the API's own messages
(`add_service_errors`), so one translation serves both surfaces.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from config.errors import ServiceError
from subsidy.choices import DocumentKind
from subsidy.models import MachineItem

YES_NO = [("true", _("Yes")), ("false", _("No"))]

# The programme's words for each field an applicant fills in (MachineItem.INPUT_FIELDS).
MACHINE_LABELS = {
    "description": _("What machine is it?"),
    "brand": _("Brand"),
    "model": _("Model or type"),
    "serial_number": _("Serial number"),
    "origin": _("Where was the machine made?"),
    "supplier_name": _("Supplier's name"),
    "supplier_npwp": _("Supplier's NPWP"),
    "invoice_number": _("Invoice number"),
    "tax_invoice_number": _("Tax invoice (faktur pajak) number"),
    "invoice_date": _("Invoice date"),
    "price": _("Price excluding VAT, in Rupiah"),
    "vat": _("VAT (PPN), in Rupiah"),
    "payment_method": _("Paid by"),
    "is_new": _("Is the machine new?"),
    "installed_on": _("Installed on"),
}

MACHINE_HELP = {
    "description": _("For example: CNC lathe, MIG welding machine."),
    "brand": _("Optional."),
    "model": _("Optional."),
    "serial_number": _("As written on the machine's plate."),
    "supplier_npwp": _("15 or 16 digits; dots and dashes may be typed."),
    "invoice_date": _("The date on the invoice."),
    "price": _("Digits only, without dots: 185000000."),
    "vat": _("Digits only; 0 if the invoice shows no VAT."),
    "installed_on": _("Leave empty if the machine is not installed yet."),
}


def _yes(value: str) -> bool:
    return value == "true"


def add_service_errors(form: forms.Form, error: ValidationError | ServiceError) -> None:
    """Put a service's refusal on the form: each field's message next to it, the rest on top."""
    if isinstance(error, ServiceError):
        form.add_error(None, str(error.detail))
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)


class MachineForm(forms.Form):
    """One machine, in the programme's words; item_create / item_update do the rest."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        fields = fields_for_model(MachineItem, fields=MachineItem.INPUT_FIELDS)
        for name in MachineItem.INPUT_FIELDS:
            field = fields[name]
            if name in ("invoice_date", "installed_on"):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            if name == "origin":
                field.widget = forms.RadioSelect(choices=field.choices[1:])
                field.choices = field.choices[1:]
            if name == "is_new":
                field = forms.TypedChoiceField(
                    choices=YES_NO, coerce=_yes, widget=forms.RadioSelect, initial="true"
                )
            if name == "supplier_npwp":
                # Typed with its punctuation (01.234.567.8-901.000); the service keeps digits.
                field = forms.CharField(max_length=30)
                field.widget.attrs.update(inputmode="numeric", autocomplete="off")
            if name in ("price", "vat"):
                field.widget.attrs.update(inputmode="numeric")
            field.label = MACHINE_LABELS[name]
            field.help_text = MACHINE_HELP.get(name, "")
            self.fields[name] = field

    @classmethod
    def initial_of(cls, item: MachineItem) -> dict[str, object]:
        initial = {name: getattr(item, name) for name in MachineItem.INPUT_FIELDS}
        initial["is_new"] = "true" if item.is_new else "false"
        return initial


class DocumentUploadForm(forms.Form):
    """One file of one kind, optionally attached to one of the application's machines."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("PDF, JPEG or PNG."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*,application/pdf"}),
    )
    item = forms.ModelChoiceField(
        label=_("Which machine is it for?"),
        queryset=MachineItem.objects.none(),
        required=False,
        empty_label=_("The whole application"),
    )

    def __init__(self, *args: object, kind: str, items: list[MachineItem], **kwargs: object):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == DocumentKind.INSTALLATION_PHOTO:
            # Straight from the phone's back camera.
            self.fields["file"].widget.attrs["capture"] = "environment"
            self.fields["file"].help_text = _("Take a photo, or choose a PDF, JPEG or PNG file.")
        if items:
            self.fields["item"].queryset = MachineItem.objects.filter(
                pk__in=[item.pk for item in items]
            ).order_by("id")
        else:
            del self.fields["item"]


class ConfirmForm(forms.Form):
    """The declaration before submitting."""

    declaration = forms.BooleanField(
        label=_("I declare that this data is true."),
        error_messages={"required": _("Tick the declaration to submit.")},
    )


class WithdrawForm(forms.Form):
    comment = forms.CharField(
        label=_("Why are you withdrawing? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
