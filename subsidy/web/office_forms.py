"""Forms of the officers' pages: the workbench's filter widgets and each action's payload."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subsidy.models import Application, Scale
from subsidy.regions import provinces
from subsidy.services.site_visits import MAX_PHOTOS
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

    def __init__(
        self,
        *args: object,
        programmes: list[tuple[int, str]],
        officers: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        """`programmes` and `officers`: the choices, as (id, name)."""
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [
            ("", _("Any")),
            *((str(pk), name) for pk, name in programmes),
        ]
        self.fields["province"].choices = [
            ("", _("Any")),
            *((code, p.name) for code, p in sorted(provinces().items())),
        ]
        self.fields["case_officer"].choices = [
            ("", _("Any")),
            *((str(pk), name) for pk, name in officers),
        ]


# The site-visit checklist (workflow.transitions.CHECKLIST_ITEMS) in the officer's words.
CHECKLIST_LABELS = {
    "machines_present": _("The machines are present at the site"),
    "machines_new": _("The machines are new"),
    "machines_installed": _("The machines are installed"),
    "not_transferred": _("The machines have not been transferred to another party"),
}


class ChecklistFields(forms.Form):
    """The four answers, each ticked when found true on site."""

    machines_present = forms.BooleanField(
        label=CHECKLIST_LABELS["machines_present"], required=False
    )
    machines_new = forms.BooleanField(label=CHECKLIST_LABELS["machines_new"], required=False)
    machines_installed = forms.BooleanField(
        label=CHECKLIST_LABELS["machines_installed"], required=False
    )
    not_transferred = forms.BooleanField(label=CHECKLIST_LABELS["not_transferred"], required=False)

    CHECKLIST_FIELDS = CHECKLIST_ITEMS

    def checklist(self) -> dict[str, bool]:
        return {name: bool(self.cleaned_data.get(name)) for name in self.CHECKLIST_FIELDS}


class ActionForm(ChecklistFields):
    """The payload an action needs (DOMAIN.md), and the officer's confirmation."""

    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    # The recorded visit the checklist was filled from (recommend): the service links it.
    site_visit = forms.IntegerField(required=False, widget=forms.HiddenInput)
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

    def __init__(self, *args: object, requires: str | None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.requires = requires
        keep = {"comment", "confirm"}
        if requires == CHECKLIST:
            keep.update({*self.CHECKLIST_FIELDS, "site_visit"})
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
            payload["checklist"] = self.checklist()
        if self.requires == TRANSFER:
            payload["transfer_reference"] = data.get("transfer_reference") or None
            payload["transferred_on"] = data.get("transferred_on")
        return payload


class PhotosInput(forms.FileInput):
    """Several photos at once, from the phone's camera (the back one) or the gallery."""

    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """A list of uploaded files; what each one is, the service decides (files.check_photo)."""

    widget = PhotosInput

    def clean(self, data: object, initial: object = None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(PhotosField, self).clean(file, initial) for file in files if file]


class SiteVisitForm(ChecklistFields):
    """A site visit as the verifier records it; subsidy.services.site_visits judges it."""

    visited_on = forms.DateField(
        label=_("Date of the visit"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    place = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=300,
        help_text=_("The address or site where the machines were seen."),
    )
    notes = forms.CharField(
        label=_("Notes (optional)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    photos = PhotosField(
        label=_("Photos"),
        required=False,
        help_text=_(
            "JPEG or PNG, up to %(count)s photos. Take them with the camera on site: the time "
            "and position the camera wrote are read from each photo."
        )
        % {"count": MAX_PHOTOS},
        widget=PhotosInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    field_order = ["visited_on", "place", *CHECKLIST_ITEMS, "notes", "photos"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate()

    def clean_photos(self) -> list:
        photos = self.cleaned_data["photos"]
        if len(photos) > MAX_PHOTOS:
            raise forms.ValidationError(
                _("Send at most %(count)s photos at once.") % {"count": MAX_PHOTOS}
            )
        return photos

    def record(self) -> dict:
        """The keyword arguments of site_visit_record."""
        data = self.cleaned_data
        return {
            "visited_on": data["visited_on"],
            "place": data["place"],
            "checklist": self.checklist(),
            "notes": data["notes"],
            "photos": data["photos"],
        }


class VisitPhotoForm(forms.Form):
    """One more photo for a recorded visit, from the camera."""

    photo = forms.FileField(
        label=_("Add a photo"),
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
