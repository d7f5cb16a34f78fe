"""The background export job (API.md "Exports"): claim the record, write the rows as CSV or
XLSX into a temporary file, store it, and only then say done.

A worker may be killed at any instant. So: the job claims the record with a locked update that
counts an attempt, and every later write (progress, done, failed) is conditional on that
attempt, so a worker that lost its claim changes nothing; the file is stored completely (its
size checked) before the record says done. A killed run costs its restart, never more:

- its own message delivered again (late acks: Celery requeues it when a pool process dies,
  Redis after the visibility timeout when the whole worker died) takes the export over at
  once: the claim names the message holding it, and a message is with one worker at a time;
- any other message for a running export with a live heartbeat does nothing ("busy");
- a running export whose heartbeat stopped is queued again by `sweep_exports` (beat) or,
  after its last attempt, failed: never done with a short file.
"""

import datetime as dt
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from typing import BinaryIO

import xlsxwriter
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone

from config.errors import ServiceError
from subsidy import jobs
from subsidy.exports import records, rows
from subsidy.models import Export, export_path
from subsidy.storage import documents_storage

logger = logging.getLogger(__name__)

S = Export.Status
# Progress (and the heartbeat) is written after this many rows or seconds, whichever first.
PROGRESS_EVERY_ROWS = 1000
PROGRESS_EVERY_SECONDS = 1.0
# Excel's rows per sheet, the header included: past it a new sheet starts, with its header.
XLSX_SHEET_ROWS = 1_048_576
# Lines joined before one write to the file.
CSV_BATCH = 500
BOM = "\ufeff"
READ_CHUNK = 1024 * 1024


class ClaimLost(Exception):
    """Another attempt has taken the export over (this worker was thought dead): stop quietly."""


# --- Claiming and finishing ------------------------------------------------------------------


def _stale_before(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(seconds=settings.EXPORT_STALE_SECONDS)


def claim(export_id: int, delivery: str = "") -> Export | str:
    """The export, now running under a new attempt held by `delivery` (the queue message's
    id); or why not: "missing", "finished", "busy" (another live run is writing it) or
    "failed" (it ran out of attempts)."""
    now = timezone.now()
    with transaction.atomic():
        export = Export.objects.select_for_update().filter(pk=export_id).first()
        if export is None:
            return "missing"
        if export.status in (S.DONE, S.FAILED):
            return "finished"
        redelivered = bool(delivery) and export.claimed_by == delivery
        if (
            export.status == S.RUNNING
            and not redelivered
            and export.heartbeat_at >= _stale_before(now)
        ):
            return "busy"
        if export.attempts >= settings.EXPORT_MAX_ATTEMPTS:
            _mark_failed(export, Export.Failure.WORKER_LOST, "no attempt left", now=now)
            return "failed"
        export.status = S.RUNNING
        export.attempts += 1
        export.claimed_by = delivery
        export.progress = 0
        export.rows = 0
        export.started_at = export.heartbeat_at = now
        export.save(
            update_fields=[
                "status",
                "attempts",
                "claimed_by",
                "progress",
                "rows",
                "started_at",
                "heartbeat_at",
            ]
        )
    return export


def _mine(export: Export):
    """The record while this attempt still holds it."""
    return Export.objects.filter(pk=export.pk, status=S.RUNNING, attempts=export.attempts)


def _mark_failed(export: Export, failure: str, error: str, *, now: dt.datetime) -> bool:
    changed = _mine(export).update(
        status=S.FAILED, failure=failure, error=error[:2000], finished_at=now, heartbeat_at=now
    )
    return bool(changed)


class Progress:
    """Writes the share of rows done (0 to 99; 100 only once the file is stored) and the
    heartbeat, every PROGRESS_EVERY_ROWS rows or PROGRESS_EVERY_SECONDS, by one UPDATE."""

    def __init__(self, export: Export, total: int) -> None:
        self.export = export
        self.total = total
        self.saved_rows = 0
        self.saved_at = time.monotonic()

    def tick(self, written: int) -> None:
        if (
            written - self.saved_rows >= PROGRESS_EVERY_ROWS
            or time.monotonic() - self.saved_at >= PROGRESS_EVERY_SECONDS
        ):
            self.save(written)

    def save(self, written: int) -> None:
        percent = min(99, written * 100 // self.total) if self.total else 0
        if not _mine(self.export).update(
            progress=percent, rows=written, heartbeat_at=timezone.now()
        ):
            raise ClaimLost
        self.saved_rows = written
        self.saved_at = time.monotonic()


# --- Writing ---------------------------------------------------------------------------------


def write_csv(
    out: BinaryIO, columns: Sequence[str], values: Iterable[tuple], tick: Callable[[int], None]
) -> tuple[int, str, int]:
    """The rows as the streamed CSV writes them (BOM, header, rows::csv_line); returns the rows
    written, the SHA-256 of the bytes and their count, both taken as the bytes are written."""
    digest = hashlib.sha256()
    size = 0

    def emit(text: str) -> None:
        nonlocal size
        data = text.encode("utf-8")
        digest.update(data)
        out.write(data)
        size += len(data)

    emit(BOM + rows.csv_line(columns))
    batch: list[str] = []
    written = 0
    for written, row in enumerate(values, start=1):
        batch.append(rows.csv_line(row))
        if len(batch) >= CSV_BATCH:
            emit("".join(batch))
            batch.clear()
        tick(written)
    if batch:
        emit("".join(batch))
    return written, digest.hexdigest(), size


def write_xlsx(
    path: str,
    columns: Sequence[str],
    values: Iterable[tuple],
    tick: Callable[[int], None],
    *,
    sheet_name: str,
    sheet_rows: int = XLSX_SHEET_ROWS,
) -> int:
    """The rows in an XLSX workbook written row by row (xlsxwriter's constant-memory mode), a new
    sheet with its header each `sheet_rows` rows; returns the rows written.

    Text stays text (no formula, number or link is read into it); whole numbers are numbers;
    dates and times (Asia/Jakarta) are Excel dates."""
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    header = workbook.add_format({"bold": True})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    sheets = 0
    sheet = None
    line = sheet_rows  # start a sheet on the first row
    written = 0
    for written, row in enumerate(values, start=1):
        if line >= sheet_rows:
            sheets += 1
            sheet = workbook.add_worksheet(sheet_name if sheets == 1 else f"{sheet_name} {sheets}")
            sheet.write_row(0, 0, columns, header)
            sheet.freeze_panes(1, 0)
            line = 1
        for column, value in enumerate(row):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                sheet.write_string(line, column, value)
            elif kind is int:
                sheet.write_number(line, column, value)
            elif kind is bool:
                sheet.write_boolean(line, column, value)
            elif kind is dt.datetime:
                local = timezone.localtime(value) if timezone.is_aware(value) else value
                sheet.write_datetime(line, column, local.replace(tzinfo=None), time_format)
            elif kind is dt.date:
                sheet.write_datetime(line, column, value, date_format)
            else:
                sheet.write_string(line, column, rows.csv_cell(value))
        line += 1
        tick(written)
    if sheet is None:  # no row: the header alone
        sheet = workbook.add_worksheet(sheet_name)
        sheet.write_row(0, 0, columns, header)
    workbook.close()
    return written


def file_sha256(path: str) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as source:
        while chunk := source.read(READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _rows_of(export: Export) -> tuple[Sequence[str], Iterable[tuple], int]:
    """The columns, the rows and their count, as the export's creator may see them now."""
    user = export.created_by
    records.require_exporter(user)  # a role taken away since: refused, not written
    queryset = rows.export_queryset(export.kind, user, records.export_params(export.filters))
    total = queryset.count()
    if export.kind == Export.Kind.ITEMS:
        return rows.ITEM_COLUMNS, rows.item_rows(queryset), total
    return rows.APPLICATION_COLUMNS, rows.application_rows(queryset), total


def _write_and_store(export: Export) -> None:
    columns, values, total = _rows_of(export)
    if not _mine(export).update(total=total, heartbeat_at=timezone.now()):
        raise ClaimLost
    progress = Progress(export, total)
    handle, path = tempfile.mkstemp(prefix=f"export-{export.pk}-", suffix=f".{export.format}")
    try:
        if export.format == Export.Format.CSV:
            with os.fdopen(handle, "wb") as out:
                written, sha256, size = write_csv(out, columns, values, progress.tick)
        else:
            os.close(handle)
            written = write_xlsx(
                path,
                columns,
                values,
                progress.tick,
                sheet_name=export.kind,
                sheet_rows=XLSX_SHEET_ROWS,
            )
            sha256, size = file_sha256(path)
        progress.save(written)  # the heartbeat before storing; a lost claim stores nothing
        name = _store(export, path, size)
    finally:
        os.unlink(path)
    finished = _mine(export).update(
        status=S.DONE,
        progress=100,
        rows=written,
        sha256=sha256,
        size=size,
        file=name,
        finished_at=timezone.now(),
        failure="",
        error="",
    )
    if not finished:
        documents_storage.delete(name)
        raise ClaimLost


def _store(export: Export, path: str, size: int) -> str:
    """Copy the finished file into the documents' storage (a folder or the bucket); checked
    complete before it counts."""
    storage = documents_storage
    with open(path, "rb") as source:
        name = storage.save(export_path(export, f"export.{export.format}"), File(source))
    if storage.size(name) != size:
        storage.delete(name)
        raise OSError(f"stored {storage.size(name)} bytes of {size}")
    return name


def run_export(export_id: int, delivery: str = "") -> str:
    """Claim and write one export: "done", "failed", or why nothing was done ("finished",
    "busy", "missing", "lost"). `delivery` names the queue message running it."""
    claimed = claim(export_id, delivery)
    if isinstance(claimed, str):
        return claimed
    export = claimed
    now = timezone.now
    try:
        _write_and_store(export)
    except ClaimLost:
        logger.warning("export %s: attempt %s lost its claim", export.pk, export.attempts)
        return "lost"
    except ServiceError as exc:
        _mark_failed(export, Export.Failure.REFUSED, f"{exc.code}: {exc}", now=now())
        return "failed"
    except SoftTimeLimitExceeded:
        _mark_failed(export, Export.Failure.TIME_LIMIT, "soft time limit", now=now())
        return "failed"
    except Exception as exc:
        logger.exception("export %s failed", export.pk)
        _mark_failed(export, Export.Failure.ERROR, f"{type(exc).__name__}: {exc}", now=now())
        return "failed"
    return "done"


# --- Beat: dead workers and old files ----------------------------------------------------------


def sweep_exports(now: dt.datetime | None = None) -> dict[str, list[int]]:
    """Queue again what a dead worker left running (its heartbeat stale) and what waited in the
    queue far too long (a lost message); fail what has no attempt left."""
    now = now or timezone.now()
    stale = _stale_before(now)
    requeued, failed = [], []
    for export in Export.objects.filter(status=S.RUNNING, heartbeat_at__lt=stale):
        if export.attempts >= settings.EXPORT_MAX_ATTEMPTS:
            if Export.objects.filter(
                pk=export.pk, status=S.RUNNING, attempts=export.attempts, heartbeat_at__lt=stale
            ).update(
                status=S.FAILED,
                failure=Export.Failure.WORKER_LOST,
                error="the worker stopped; no attempt left",
                finished_at=now,
            ):
                failed.append(export.pk)
        elif Export.objects.filter(
            pk=export.pk, status=S.RUNNING, attempts=export.attempts, heartbeat_at__lt=stale
        ).update(status=S.QUEUED, queued_at=now):
            requeued.append(export.pk)
    # A queue can be long: only a wait far past the stale limit means the message was lost.
    lost_before = now - dt.timedelta(seconds=12 * settings.EXPORT_STALE_SECONDS)
    for pk in Export.objects.filter(status=S.QUEUED, queued_at__lt=lost_before).values_list(
        "pk", flat=True
    ):
        if Export.objects.filter(pk=pk, status=S.QUEUED, queued_at__lt=lost_before).update(
            queued_at=now
        ):
            requeued.append(pk)
    for pk in requeued:
        jobs.enqueue_after_commit(jobs.RUN_EXPORT, pk)
    if requeued or failed:
        logger.warning("exports queued again: %s; failed: %s", requeued, failed)
    return {"requeued": requeued, "failed": failed}


def delete_expired_exports(now: dt.datetime | None = None) -> int:
    """Delete the files written more than EXPORT_KEEP_DAYS ago; their records stay."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.EXPORT_KEEP_DAYS)
    storage = documents_storage
    deleted = 0
    for export in Export.objects.filter(
        status=S.DONE, streamed=False, expired_at__isnull=True, finished_at__lte=cutoff
    ).only("pk", "file"):
        if export.file.name:
            storage.delete(export.file.name)
        deleted += Export.objects.filter(pk=export.pk, expired_at__isnull=True).update(
            expired_at=now, file=""
        )
    return deleted
