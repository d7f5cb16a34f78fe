"""Forms of the public and applicant pages: they validate input; rules stay in rules.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from subsidy import validators
from subsidy.engine import rules
from subsidy.models import MAX_PRICE, Origin, PaymentMethod, Programme

YES_NO = [("true", _("Yes")), ("false", _("No"))]


def _yes(value: str) -> bool:
    return value == "true"


class CompanyFactsForm(forms.Form):
    """The company as the self-check sees it: no name, NIB or NPWP."""

    programme = forms.ModelChoiceField(
        label=_("Programme"), queryset=Programme.objects.order_by("-year"), empty_label=None
    )
    workers = forms.IntegerField(
        label=_("Number of workers"), min_value=0, max_value=10**7, widget=forms.NumberInput()
    )
    investment_value = forms.IntegerField(
        label=_("Investment value in Rupiah"),
        help_text=_("Machines and equipment, excluding land and buildings."),
        min_value=0,
        max_value=10**15,
    )
    kbli = forms.CharField(
        label=_("KBLI code"),
        help_text=_("The 5-digit business classification on your NIB, e.g. 25120."),
        max_length=5,
        validators=[validators.kbli],
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workers"].widget.attrs.update(inputmode="numeric")
        self.fields["investment_value"].widget.attrs.update(inputmode="numeric")
        self.fields["kbli"].widget.attrs.update(inputmode="numeric", autocomplete="off")


class MachineFactsForm(forms.Form):
    """One machine of the self-check."""

    price = forms.IntegerField(
        label=_("Price excluding VAT, in Rupiah"), min_value=1, max_value=MAX_PRICE
    )
    origin = forms.ChoiceField(
        label=_("Where was the machine made?"), choices=Origin.choices, widget=forms.RadioSelect
    )
    invoice_date = forms.DateField(
        label=_("Invoice date"), widget=forms.DateInput(attrs={"type": "date"})
    )
    is_new = forms.TypedChoiceField(
        label=_("Is the machine new?"), choices=YES_NO, coerce=_yes, widget=forms.RadioSelect
    )
    installed_on = forms.DateField(
        label=_("Installed on"),
        help_text=_("Leave empty if the machine is not installed yet."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    payment_method = forms.ChoiceField(label=_("Paid by"), choices=PaymentMethod.choices)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["price"].widget.attrs.update(inputmode="numeric")

    def facts(self) -> rules.MachineFacts:
        return rules.MachineFacts(**self.cleaned_data)


class BaseMachineFormSet(forms.BaseFormSet):
    def _construct_form(self, i: int, **kwargs: object) -> forms.Form:
        form = super()._construct_form(i, **kwargs)
        # Names the machine in the error summary: "Machine 2: Price: ...".
        form.summary_prefix = _("Machine %(number)s") % {"number": i + 1}
        return form


MachineFormSet = forms.formset_factory(
    MachineFactsForm,
    formset=BaseMachineFormSet,
    extra=0,
    min_num=1,
    max_num=50,
    validate_min=True,
    validate_max=True,
)
