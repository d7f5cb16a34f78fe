"""Django admin: superusers set up programmes; everything else is a read-only window.

Every write goes through the services, which validate it, record it in the audit trail and
mark the refund results stale. The programme form therefore hands its values to
programme_create/programme_update (the API's services) and shows their errors on its fields;
the other models change only through the workflow and the API, so here they are view only.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.errors import ServiceError
from subsidy import formats, validators
from subsidy.choices import DocumentKind
from subsidy.engine import rules
from subsidy.services.programmes import PROGRAMME_FIELDS, programme_create, programme_update

from .models import (
    Application,
    AuditChainHead,
    AuditEntry,
    Company,
    Document,
    MachineItem,
    Notice,
    Programme,
    ReferenceCounter,
)


class ReadOnlyMixin:
    """View only, for every user: the services own every write."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    pass


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return list(self.fields)


RATE_LABELS = {
    (rules.KECIL, rules.DOMESTIC): _("Rate: small industry, domestic machine"),
    (rules.KECIL, rules.IMPORTED): _("Rate: small industry, imported machine"),
    (rules.MENENGAH, rules.DOMESTIC): _("Rate: medium industry, domestic machine"),
    (rules.MENENGAH, rules.IMPORTED): _("Rate: medium industry, imported machine"),
}


def _rate_field(scale: str, origin: str) -> str:
    return f"rate_{scale}_{origin}"


class ProgrammeForm(forms.ModelForm):
    """The programme's settings and its four rates, saved by the programme services."""

    required_documents = forms.MultipleChoiceField(
        label=_("required documents"),
        choices=DocumentKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = Programme
        fields = PROGRAMME_FIELDS

    by = None  # the superuser saving the form, set by ProgrammeAdmin.get_form

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        rates = {}
        if self.instance.pk:
            rates = {(r.scale, r.origin): r.rate for r in self.instance.rates.all()}
        for (scale, origin), label in RATE_LABELS.items():
            self.fields[_rate_field(scale, origin)] = forms.DecimalField(
                label=label,
                max_digits=5,
                decimal_places=4,
                validators=[validators.rate],
                initial=rates.get((scale, origin)),
                help_text=_("A fraction of the price: 0.4 is 40%."),
            )

    def _rates(self) -> list[dict]:
        return [
            {"scale": s, "origin": o, "rate": self.cleaned_data[_rate_field(s, o)]}
            for s, o in RATE_LABELS
        ]

    def _post_clean(self) -> None:
        """Save through the service: its checks are the API's, its errors go on the fields.

        Django's own model validation is skipped: the service runs full_clean itself, and a
        second, different message for the same problem would only confuse.
        """
        if self._errors:
            return
        changed = set(self.changed_data)
        fields = {n: self.cleaned_data[n] for n in PROGRAMME_FIELDS if n in self.cleaned_data}
        try:
            if self.instance.pk is None:
                self.instance = programme_create(by=self.by, rates=self._rates(), **fields)
            else:
                rates_changed = any(_rate_field(s, o) in changed for s, o in RATE_LABELS)
                self.instance = programme_update(
                    programme=self.instance,
                    by=self.by,
                    rates=self._rates() if rates_changed else None,
                    **{n: v for n, v in fields.items() if n in changed},
                )
        except ValidationError as exc:
            # "rates" and checks across fields have no field of their own: shown at the top.
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        except ServiceError as exc:
            self.add_error(None, str(exc.detail))


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    form = ProgrammeForm
    list_display = [
        "year",
        "name",
        "application_opens",
        "application_closes",
        "budget_rupiah",
        "min_refund_rupiah",
        "max_refund_rupiah",
    ]
    search_fields = ["name", "year"]
    fieldsets = [
        (None, {"fields": ["year", "name"]}),
        (
            _("Windows"),
            {
                "fields": [
                    ("application_opens", "application_closes"),
                    ("purchase_from", "purchase_to"),
                    "install_by",
                ]
            },
        ),
        (
            _("Money and limits"),
            {"fields": ["budget", "min_refund", "max_refund_per_company", "max_participations"]},
        ),
        (_("Rates"), {"fields": [_rate_field(s, o) for s, o in RATE_LABELS]}),
        (_("Documents"), {"fields": ["required_documents"]}),
    ]

    def get_form(self, request: HttpRequest, obj: object = None, **kwargs: object) -> type:
        # The rate fields are the form's own, not the model's: the admin must not look for them.
        kwargs["fields"] = PROGRAMME_FIELDS
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"by": request.user})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: Programme, form: ProgrammeForm, change: bool
    ) -> None:
        """Already saved, with its rates and audit entry, by the service in the form's clean."""

    def save_related(
        self, request: HttpRequest, form: ProgrammeForm, formsets: list, change: bool
    ) -> None:
        """The rates were saved with the programme; there is nothing else to relate."""

    @admin.display(description=_("budget"), ordering="budget")
    def budget_rupiah(self, programme: Programme) -> str:
        return formats.rupiah(programme.budget)

    @admin.display(description=_("minimum refund"), ordering="min_refund")
    def min_refund_rupiah(self, programme: Programme) -> str:
        return formats.rupiah(programme.min_refund)

    @admin.display(description=_("maximum refund per company"), ordering="max_refund_per_company")
    def max_refund_rupiah(self, programme: Programme) -> str:
        return formats.rupiah(programme.max_refund_per_company)


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(ReadOnlyAdmin):
    list_display = ["programme", "last_number"]
    list_select_related = ["programme"]


@admin.register(Company)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ["name", "nib", "npwp", "kbli", "province", "regency", "workers"]
    list_filter = ["province"]
    search_fields = ["name", "nib", "npwp"]


class MachineItemInline(ReadOnlyInline):
    model = MachineItem
    fields = ["description", "serial_number", "origin", "invoice_number", "price", "discount"]


class DocumentInline(ReadOnlyInline):
    model = Document
    fields = ["kind", "original_name", "size", "content_type", "uploaded_at"]


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = [
        "__str__",
        "programme",
        "company",
        "status",
        "submitted_at",
        "computed_discount",
        "approved_amount",
        "disbursed_amount",
        "case_officer",
    ]
    list_filter = ["status", "programme"]
    list_select_related = ["programme", "company", "case_officer"]
    search_fields = ["reference", "company__name", "company__nib"]
    date_hierarchy = "submitted_at"
    inlines = [MachineItemInline, DocumentInline]
    # Fields the model marks not editable are shown only when named here.
    readonly_fields = ["status", "created_at", "updated_at"]


@admin.register(MachineItem)
class MachineItemAdmin(ReadOnlyAdmin):
    list_display = ["description", "application", "serial_number", "price", "rate", "discount"]
    list_select_related = ["application"]
    search_fields = ["description", "serial_number", "invoice_number", "application__reference"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "application", "kind", "size", "content_type", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    list_select_related = ["application"]
    search_fields = ["original_name", "sha256", "application__reference"]
    # The stored file name is private; the file is read through the permission-checked API.
    exclude = ["file"]
    readonly_fields = ["download", "uploaded_at"]

    @admin.display(description=_("file"))
    def download(self, document: Document) -> str:
        return format_html(
            '<a href="/api/v1/documents/{}/download/">{}</a>',
            document.pk,
            document.original_name or _("download"),
        )


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "application_id",
        "from_status",
        "to_status",
    ]
    list_filter = ["action", "object_type"]
    list_select_related = ["actor"]
    search_fields = ["=application_id", "=object_id", "comment"]


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "last_seq"]


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["key", "recipient", "kind", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["recipient"]
    search_fields = ["key", "recipient__username", "title"]
    readonly_fields = ["created_at"]
