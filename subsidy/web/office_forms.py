"""Forms of the officers' pages: the workbench's filter widgets and each action's payload."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subsidy.models import Application, Scale
from subsidy.regions import provinces
from subsidy.workflow.transitions import CHECKLIST, CHECKLIST_ITEMS, COMMENT, TRANSFER

YES_NO = [("", _("Any")), ("true", _("Yes")), ("false", _("No"))]


class WorkbenchFilterForm(forms.Form):
    """The widgets and labels of the workbench's filters; subsidy.filters.ApplicationFilter
    (the API's filter set) validates and applies them."""

    search = forms.CharField(label=_("Reference, company name or NIB"), required=False)
    programme = forms.ChoiceField(label=_("Programme"), required=False)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any")), *Application.Status.choices],
    )
    province = forms.ChoiceField(label=_("Province"), required=False)
    regency = forms.CharField(
        label=_("Regency code"),
        required=False,
        help_text=_("For example 33.10"),
    )
    scale = forms.ChoiceField(
        label=_("Scale"), required=False, choices=[("", _("Any")), *Scale.choices]
    )
    kbli_division = forms.CharField(
        label=_("KBLI division"), required=False, help_text=_("Two digits, 10 to 33")
    )
    has_findings = forms.ChoiceField(label=_("Has findings"), required=False, choices=YES_NO)
    has_signals = forms.ChoiceField(label=_("Has signals"), required=False, choices=YES_NO)
    case_officer = forms.ChoiceField(label=_("Case officer"), required=False)
    waiting_days_min = forms.IntegerField(
        label=_("Waiting at least (days)"), required=False, min_value=0
    )

    def __init__(self, *args: object, programmes: list, officers: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [
            ("", _("Any")),
            *((str(p.pk), p.name) for p in programmes),
        ]
        self.fields["province"].choices = [
            ("", _("Any")),
            *((code, p.name) for code, p in sorted(provinces().items())),
        ]
        self.fields["case_officer"].choices = [
            ("", _("Any")),
            *((str(u.pk), u.get_full_name() or u.username) for u in officers),
        ]


class ActionForm(forms.Form):
    """The payload an action needs (DOMAIN.md), and the officer's confirmation."""

    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    machines_present = forms.BooleanField(
        label=_("The machines are present at the site"), required=False
    )
    machines_new = forms.BooleanField(label=_("The machines are new"), required=False)
    machines_installed = forms.BooleanField(label=_("The machines are installed"), required=False)
    not_transferred = forms.BooleanField(
        label=_("The machines have not been transferred to another party"), required=False
    )
    transfer_reference = forms.CharField(
        label=_("Transfer reference"), required=False, max_length=100
    )
    transferred_on = forms.DateField(
        label=_("Transferred on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    confirm = forms.BooleanField(
        label=_("I have checked this case and want to take this action"),
        error_messages={"required": _("Confirm that you want to take this action.")},
    )

    CHECKLIST_FIELDS = CHECKLIST_ITEMS

    def __init__(self, *args: object, requires: str | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.requires = requires
        keep = {"comment", "confirm"}
        if requires == CHECKLIST:
            keep.update(self.CHECKLIST_FIELDS)
        if requires == TRANSFER:
            keep.update({"transfer_reference", "transferred_on"})
            self.fields["transferred_on"].initial = timezone.localdate()
        if requires == COMMENT:
            self.fields["comment"].label = _("Reason (required)")
        else:
            self.fields["comment"].label = _("Comment (optional)")
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    def payload(self) -> dict:
        """What the service receives; the service judges it (required comment, checklist)."""
        data = self.cleaned_data
        payload: dict = {"comment": data.get("comment", "")}
        if self.requires == CHECKLIST:
            payload["checklist"] = {name: bool(data.get(name)) for name in self.CHECKLIST_FIELDS}
        if self.requires == TRANSFER:
            payload["transfer_reference"] = data.get("transfer_reference") or None
            payload["transferred_on"] = data.get("transferred_on")
        return payload
