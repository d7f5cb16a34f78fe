"""Django admin: a read-only window on the programme's data for superusers.

Every change to this data goes through the services (or the workflow), which validate it,
record it in the audit trail and mark the refund results stale; an admin form would skip all
three. So nothing here can be added, changed or deleted: programmes are administered through
the API (POST/PUT/PATCH /api/v1/programmes/, superusers only), and the rest by the workflow.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import (
    Application,
    AuditChainHead,
    AuditEntry,
    Company,
    Document,
    MachineItem,
    Notice,
    Programme,
    ProgrammeRate,
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


class ProgrammeRateInline(ReadOnlyInline):
    model = ProgrammeRate
    fields = ["scale", "origin", "rate"]


@admin.register(Programme)
class ProgrammeAdmin(ReadOnlyAdmin):
    list_display = [
        "year",
        "name",
        "application_opens",
        "application_closes",
        "budget",
        "max_refund_per_company",
    ]
    search_fields = ["name", "year"]
    inlines = [ProgrammeRateInline]


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
