"""Background exports on the officers' pages (PAGES.md "Reports and exports"): ask for one from
the workbench with its filters, watch its progress, download it while it is kept.

Thin: asking, seeing and downloading are subsidy.exports.records, as for the API.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import ServiceError
from subsidy import files
from subsidy.exports import records
from subsidy.models import Export
from subsidy.services import reads

from .office import staff_only

PAGE_SIZE = 25
# Query parameters longer than this are not a workbench's filters.
MAX_QUERY = 2000


def _row(export: Export) -> dict:
    """What the page shows of one export, and whether its status still changes."""
    return {
        "export": export,
        # A streamed CSV's record is finished by its own response, never by a job to watch.
        "working": not export.streamed
        and export.status in (Export.Status.QUEUED, Export.Status.RUNNING),
        "expired": records.is_expired(export),
        "reason": records.failure_text(export),
        "filters": [
            (name, ", ".join(map(str, value)) if isinstance(value, list) else str(value))
            for name, value in export.filters.items()
        ],
    }


@staff_only
@require_GET
def exports(request: HttpRequest) -> HttpResponse:
    """`/office/exports/`: one's exports (an auditor's: everyone's), newest first."""
    page = Paginator(records.exports_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "page": page,
        "rows": [_row(export) for export in page.object_list],
        "every_export": records.sees_every_export(request.user),
        "keep_days": settings.EXPORT_KEEP_DAYS,
    }
    return render(request, "office/exports.html", context)


@staff_only
@require_POST
def export_new(request: HttpRequest) -> HttpResponse:
    """Record an export of the workbench's filtered list; its job runs in the background."""
    query = request.POST.get("query", "")[:MAX_QUERY]
    try:
        export = records.export_create(
            by=request.user,
            kind=request.POST.get("kind", ""),
            format=request.POST.get("format", ""),
            filters=records.filters_from_query(QueryDict(query)),
        )
    except ServiceError as error:
        problems = [
            f"{name}: {' '.join(map(str, messages_))}"
            for name, messages_ in _flat(error.extra.get("errors", {}))
        ]
        messages.error(request, " ".join([str(error.detail), *problems]))
        return redirect("office:exports")
    messages.success(
        request,
        _("Export #%(id)s is being written; this page shows its progress.") % {"id": export.pk},
    )
    return redirect("office:exports")


def _flat(errors: dict, prefix: str = "") -> list[tuple[str, list]]:
    """The messages of nested errors ({"filters": {"programme": [...]}}) by field."""
    flat = []
    for name, value in errors.items():
        if isinstance(value, dict):
            flat.extend(_flat(value, f"{prefix}{name}."))
        else:
            flat.append((f"{prefix}{name}", value))
    return flat


@staff_only
@require_GET
def export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status cell of one export: htmx polls it while the export is queued or running."""
    export = get_object_or_404(records.exports_visible_to(request.user), pk=pk)
    return render(request, "office/_export_status.html", {"row": _row(export)})


@staff_only
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    """The file while it is kept; a page saying why not otherwise (409 not written, 410 gone)."""
    export = get_object_or_404(records.exports_visible_to(request.user), pk=pk)
    try:
        records.downloadable(export)
    except ServiceError as error:
        return render(
            request,
            "office/export_unavailable.html",
            {"export": export, "detail": error.detail},
            status=error.status,
        )
    reads.staff_read(by=request.user, object_type="export", object_id=export.pk)
    return files.file_response(
        export.file,
        content_type=records.CONTENT_TYPES[export.format],
        name=records.download_name(export),
        inline=False,
    )
