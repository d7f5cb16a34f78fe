"""Background exports as records (API.md "Exports"): who may ask for one, asking (the record,
then the job after commit), who sees which records, and whether a file may still be read.

The API and the pages both call here; the job that writes the file is jobs.py.
"""

import datetime as dt
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import AUDITOR
from config.errors import ServiceError
from subsidy import access, audit, jobs
from subsidy.exports import rows
from subsidy.models import Export

# The list's filters (subsidy.filters.ApplicationFilter) an export takes; the API checks
# the shape of each (its schema), the filter set their values.
FILTER_NAMES = rows.FILTER_NAMES
# The one filter that takes several values; those whose JSON value is a number or a boolean.
LIST_FILTERS = frozenset({"status"})
INTEGER_FILTERS = frozenset({"programme", "company", "case_officer", "waiting_days_min"})
BOOLEAN_FILTERS = frozenset({"has_findings", "has_signals"})


def may_export(user: object) -> bool:
    """Programme staff, auditors and superusers: those who read every case (DOMAIN.md)."""
    return bool(user.is_authenticated and access.sees_everything(user))


def require_exporter(user: object) -> None:
    if not may_export(user):
        raise ServiceError("forbidden", _("Only programme staff and auditors may export."))


def sees_every_export(user: object) -> bool:
    """Auditors (and superusers) read every export's record: who exported what, and when."""
    return bool(user.is_superuser or user.has_role(AUDITOR))


def exports_visible_to(user: object) -> QuerySet[Export]:
    exports = Export.objects.select_related("created_by")
    if sees_every_export(user):
        return exports
    return exports.filter(created_by=user)


def export_params(filters: Mapping) -> dict[str, object]:
    """The stored filters as the list's query parameters: text, and a list for status."""
    params: dict[str, object] = {}
    for name, value in filters.items():
        if isinstance(value, list):
            params[name] = [_param_text(v) for v in value]
        else:
            params[name] = _param_text(value)
    return params


def filters_from_query(query: QueryDict) -> dict[str, object]:
    """The filters of a list's query string (the workbench's) as an export stores them, in the
    API's JSON types; blanks and other parameters (page, sort) are left out. What is not of
    its type stays text, for the filter set to refuse."""
    filters: dict[str, object] = {}
    for name in FILTER_NAMES:
        values = [v for v in query.getlist(name) if v.strip()]
        if not values:
            continue
        if name in LIST_FILTERS:
            filters[name] = values
            continue
        value = values[-1]
        if name in INTEGER_FILTERS and value.isascii() and value.isdigit():
            filters[name] = int(value)
        elif name in BOOLEAN_FILTERS and value in ("true", "false"):
            filters[name] = value == "true"
        else:
            filters[name] = value
    return filters


def _param_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _invalid(errors: dict) -> ServiceError:
    return ServiceError(
        "invalid", _("The data sent is not valid; see the errors for each field."), errors=errors
    )


def _check_filters(filters: Mapping) -> None:
    """Known names, plain values (a list only for status); the filter set judges the values."""
    problems: dict[str, list[str]] = {}
    for name, value in filters.items():
        if name not in FILTER_NAMES:
            problems[name] = [_("There is no such filter.")]
        elif name in LIST_FILTERS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems[name] = [_("Send a list of texts.")]
        elif not isinstance(value, str | int | bool):
            problems[name] = [_("Send a text, a whole number or true or false.")]
    if problems:
        raise _invalid({"filters": problems})


@transaction.atomic
def export_create(*, by: object, kind: str, format: str, filters: Mapping) -> Export:
    """Record an export of what `by` may see with the list's `filters`; the job runs after
    commit. Refused (and nothing recorded) for applicants, or a bad kind, format or filter."""
    require_exporter(by)
    problems = {}
    if kind not in Export.Kind.values:
        problems["kind"] = [_("Choose applications or items.")]
    if format not in Export.Format.values:
        problems["format"] = [_("Choose csv or xlsx.")]
    if not isinstance(filters, Mapping):
        problems["filters"] = [_("Send the filters as an object.")]
    if problems:
        raise _invalid(problems)
    filters = dict(filters)
    _check_filters(filters)
    try:
        rows.export_queryset(kind, by, export_params(filters))  # lazy: only the filters are read
    except ServiceError as exc:
        raise _invalid({"filters": exc.extra.get("errors", {})}) from exc
    export = Export(
        created_by=by, kind=kind, format=format, filters=filters, queued_at=timezone.now()
    )
    export.full_clean()
    export.save()
    _audit(export)
    jobs.enqueue_after_commit(jobs.RUN_EXPORT, export.pk)
    return export


def _audit(export: Export) -> None:
    """The audit trail's line for an export: who took which list, filtered how, in what form."""
    audit.record(
        actor=export.created_by,
        action="export",
        object_type="export",
        object_id=export.pk,
        changes={
            "kind": [None, export.kind],
            "format": [None, export.format],
            "streamed": [None, export.streamed],
            "filters": [None, export.filters],
        },
    )


@transaction.atomic
def stream_started(*, by: object, kind: str, query: QueryDict) -> Export:
    """The record of a CSV about to be streamed to `by` (who may export: the view checked it)
    with the list's filters from `query`; finished by stream_finished once the last byte left."""
    export = Export.objects.create(
        created_by=by,
        kind=kind,
        format=Export.Format.CSV,
        streamed=True,
        filters=filters_from_query(query),
        status=Export.Status.RUNNING,
        started_at=timezone.now(),
    )
    _audit(export)
    return export


def stream_finished(export: Export, *, rows: int, size: int, sha256: str, complete: bool) -> Export:
    """What left: every row (done, with the file's SHA-256) or a download cut short (failed)."""
    export.rows, export.size, export.finished_at = rows, size, timezone.now()
    if complete:
        export.status, export.progress, export.sha256 = Export.Status.DONE, 100, sha256
    else:
        export.status, export.failure = Export.Status.FAILED, Export.Failure.STOPPED
    export.save(
        update_fields=["rows", "size", "finished_at", "status", "progress", "sha256", "failure"]
    )
    return export


def expires_at(export: Export) -> dt.datetime | None:
    """When the file is deleted: EXPORT_KEEP_DAYS after it was written (a streamed CSV: never
    kept, so no date)."""
    if export.status != Export.Status.DONE or export.finished_at is None or export.streamed:
        return None
    return export.finished_at + dt.timedelta(days=settings.EXPORT_KEEP_DAYS)


def is_expired(export: Export, now: dt.datetime | None = None) -> bool:
    ends = expires_at(export)
    return export.expired_at is not None or (ends is not None and ends <= (now or timezone.now()))


def downloadable(export: Export) -> Export:
    """The export whose file may be read now, or the refusal: not done or streamed (409),
    expired (410)."""
    if export.streamed:
        raise ServiceError(
            "export_not_ready",
            _("This CSV was streamed straight to whoever asked for it; no copy is kept."),
        )
    if export.status != Export.Status.DONE:
        raise ServiceError(
            "export_not_ready",
            _("This export has no file yet: it is %(status)s.")
            % {"status": export.get_status_display()},
        )
    if is_expired(export):
        raise ServiceError(
            "export_expired",
            _(
                "This export's file was kept for %(days)s days and has been deleted. "
                "Export the list again."
            )
            % {"days": settings.EXPORT_KEEP_DAYS},
        )
    return export


def download_name(export: Export) -> str:
    day = timezone.localtime(export.finished_at or export.created_at).date().isoformat()
    return f"ikm-{export.kind}-{export.pk}-{day}.{export.format}"


CONTENT_TYPES = {
    Export.Format.CSV: "text/csv; charset=utf-8",
    Export.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def failure_text(export: Export) -> str:
    """Why an export failed, in the reader's language."""
    if export.status != Export.Status.FAILED:
        return ""
    return str(Export.Failure(export.failure).label) if export.failure else _("It failed.")
