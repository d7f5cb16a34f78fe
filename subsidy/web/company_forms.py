"""Forms of the company and member pages: they check the input's shape; the services judge it."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from config.errors import ServiceError
from subsidy import kbli, regions, validators
from subsidy.models import Company
from subsidy.services import companies as company_services

# The fields the company services take: the form asks for exactly those.
COMPANY_FORM_FIELDS = tuple(company_services.COMPANY_FIELDS)


def province_choices() -> list[tuple[str, str]]:
    return [("", _("Choose a province")), *((p.code, p.name) for p in regions.provinces().values())]


def regency_choices(province: str) -> list[tuple[str, str]]:
    found = regions.provinces().get(province or "")
    if found is None:
        return [("", _("Choose the province first"))]
    return [("", _("Choose a regency or city")), *found.regencies]


class CompanyForm(forms.Form):
    """A company's data; the service validates it against the model (one set of rules)."""

    name = forms.CharField(label=_("Company name"), max_length=200)
    nib = forms.CharField(
        label=_("NIB (business identification number)"),
        help_text=_("13 digits, from OSS. Leave empty if you have none yet."),
        max_length=13,
        required=False,
    )
    npwp = forms.CharField(
        label=_("Company NPWP"),
        help_text=_("15 or 16 digits; dots and dashes are fine."),
        max_length=25,
        required=False,
    )
    kbli = forms.CharField(
        label=_("KBLI code"),
        help_text=_("The 5-digit business classification on your NIB, e.g. 25120."),
        max_length=5,
        required=False,
    )
    workers = forms.IntegerField(label=_("Number of workers"), min_value=0, max_value=10**7)
    investment_value = forms.IntegerField(
        label=_("Investment value in Rupiah"),
        help_text=_("Machines and equipment, excluding land and buildings."),
        min_value=0,
        max_value=10**15,
    )
    province = forms.ChoiceField(label=_("Province"), required=False)
    regency = forms.ChoiceField(label=_("Regency or city"), required=False)
    address = forms.CharField(
        label=_("Address of the factory"),
        max_length=validators.ADDRESS_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    bank_name = forms.CharField(label=_("Bank name"), max_length=100, required=False)
    bank_account_number = forms.CharField(
        label=_("Bank account number"), max_length=34, required=False
    )
    bank_account_name = forms.CharField(
        label=_("Name on the bank account"),
        help_text=_("The refund is transferred only to an account in the company's name."),
        max_length=200,
        required=False,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        province = self.data.get("province") if self.is_bound else self.initial.get("province")
        self.fields["province"].choices = province_choices()
        self.fields["regency"].choices = regency_choices(province or "")
        self.fields["province"].widget.attrs.update(
            {
                # htmx fills the regency list of the chosen province; without JavaScript the
                # "show its regencies" button re-renders the form with them.
                "hx-get": reverse_lazy("applicant:regency_options"),
                "hx-target": "#id_regency",
                "hx-trigger": "change",
                "autocomplete": "off",
            }
        )
        for name in ("workers", "investment_value", "nib", "npwp", "kbli", "bank_account_number"):
            self.fields[name].widget.attrs.update(inputmode="numeric")
        self.fields["kbli"].widget.attrs.update(autocomplete="off")

    @classmethod
    def initial_of(cls, company: Company) -> dict[str, object]:
        return {name: getattr(company, name) for name in COMPANY_FORM_FIELDS}

    def division_name(self) -> str:
        """The KBLI division's name of what was typed (or stored), to show beside the code."""
        value = self.data.get("kbli") if self.is_bound else self.initial.get("kbli")
        return kbli.division_name(value or "")

    def as_unjudged(self) -> "CompanyForm":
        """The same values, unbound: the form again with the province's regencies."""
        return type(self)(initial={name: self.data.get(name, "") for name in self.fields})


class InviteMemberForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address of the person to invite"),
        help_text=_("They get a link to join the company; it works for 14 days."),
        max_length=254,
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update(autocomplete="off", inputmode="email")


def add_service_errors(form: forms.Form, error: ValidationError | ServiceError) -> None:
    """A service's refusal on the form: each field's message next to it, the rest on top."""
    if isinstance(error, ServiceError):
        form.add_error(None, str(error.detail))
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages)
