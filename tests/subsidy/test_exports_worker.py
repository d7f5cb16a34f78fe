"""Background exports on a real worker (Redis broker, PostgreSQL), as in production: the
progress rises as rows are written, and a worker killed mid-export never leaves a job "done"
with a short file."""

import hashlib
import io
import os
import signal
import time

import openpyxl
import pytest
from django.db import transaction

from subsidy import tasks
from subsidy.demo.seeding import seed_demo
from subsidy.exports import records
from subsidy.models import Application, Export
from subsidy.storage import get_documents_storage as storage
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

SLOW_APP = "tests.slow_export_worker"
ROWS = 60


@pytest.fixture
def shared_files(settings):
    """The worker stores files under the test settings' folder: read them from there too, and
    delete what the test made."""
    settings.PRIVATE_MEDIA_ROOT = settings.TEST_FILES_ROOT / "private"
    yield
    for export in Export.objects.exclude(file=""):
        storage().delete(export.file.name)


@pytest.fixture
def auditor_with_cases(shared_files):
    seed_demo(applications=ROWS, compute=False, items_per_application=1)
    return UserFactory(username="gita", roles=["auditor"])


def _export(auditor, fmt: str = "xlsx") -> Export:
    with transaction.atomic():
        return records.export_create(by=auditor, kind="applications", format=fmt, filters={})


def _stored(export: Export) -> bytes:
    with storage().open(export.file.name, "rb") as stored:
        return stored.read()


def _check_full_file(export: Export, total: int) -> None:
    content = _stored(export)
    assert hashlib.sha256(content).hexdigest() == export.sha256
    assert len(content) == export.size
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    table = list(workbook.active.iter_rows(values_only=True))
    assert len(table) - 1 == export.rows == total
    assert {line[0] for line in table[1:]} == set(
        Application.objects.values_list("reference", flat=True)
    )


def _watch(export: Export, timeout: float, until) -> list[tuple[str, int, int]]:
    """(status, progress, rows) as often as they can be read, until `until` is true."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = Export.objects.values_list("status", "progress", "rows").get(pk=export.pk)
        if not seen or seen[-1] != row:
            seen.append(row)
        if until(row):
            return seen
        time.sleep(0.02)
    raise AssertionError(f"timed out; seen {seen}")


def test_progress_rises_from_0_to_100_and_the_file_matches_its_record(
    real_worker, auditor_with_cases, monkeypatch
):
    monkeypatch.setenv("EXPORT_TEST_ROW_DELAY", "0.05")  # about 3 s of rows
    real_worker.start(app_module=SLOW_APP)
    total = Application.objects.count()

    export = _export(auditor_with_cases)
    seen = _watch(export, 90, lambda row: row[0] in ("done", "failed"))

    export.refresh_from_db()
    assert export.status == "done", (seen, real_worker.log())
    assert seen[0][1] == 0
    progress = [p for _status, p, _rows in seen]
    assert progress == sorted(progress), "progress never goes back"
    assert any(0 < p < 100 for p in progress), f"no progress between 0 and 100: {seen}"
    assert progress[-1] == 100
    assert all(status != "done" for status, p, _rows in seen if p < 100)
    _check_full_file(export, total)


def test_a_killed_worker_leaves_the_export_requeued_and_then_done_with_the_full_file(
    real_worker, auditor_with_cases, monkeypatch, settings
):
    # A short stale limit, for the worker (read from the environment) and for this process.
    monkeypatch.setenv("EXPORT_STALE_SECONDS", "3")
    settings.EXPORT_STALE_SECONDS = 3
    monkeypatch.setenv("EXPORT_TEST_ROW_DELAY", "0.1")  # about 6 s of rows
    real_worker.start(app_module=SLOW_APP)
    total = Application.objects.count()

    export = _export(auditor_with_cases)
    _watch(export, 60, lambda row: row[0] == "running" and 0 < row[1] < 80)
    real_worker.kill()  # SIGKILL: the main process and its pool, as a crash would

    export.refresh_from_db()
    assert (export.status, export.attempts, export.file.name) == ("running", 1, "")
    assert export.rows < total
    rows_at_kill = export.rows

    real_worker.start()  # an ordinary worker now

    def finished(row) -> bool:
        tasks.sweep_exports()  # the beat job, run here: it queues to the worker
        return row[0] in ("done", "failed")

    seen = _watch(export, 60, finished)
    export.refresh_from_db()
    short_done = sum(1 for status, _p, rows in seen if status == "done" and rows < total)
    print(
        f"\nfault export-worker-kill: rows_at_kill={rows_at_kill} rows={export.rows}/{total} "
        f"attempts={export.attempts} status={export.status} done_short={short_done}"
    )
    assert short_done == 0
    assert export.status == "done", (seen, real_worker.log())
    assert export.attempts == 2
    _check_full_file(export, total)


def test_a_killed_pool_process_has_its_job_redelivered_and_finished(
    real_worker, auditor_with_cases, monkeypatch, settings
):
    """Late acks with reject-on-worker-lost: the worker's main process survives its pool
    process and queues the job again; the same message delivered again takes the export over at
    once, though the dead run's heartbeat is still fresh (no wait timed against it, no sweep)."""
    monkeypatch.setenv("EXPORT_STALE_SECONDS", "3")
    settings.EXPORT_STALE_SECONDS = 3
    monkeypatch.setenv("EXPORT_TEST_ROW_DELAY", "0.1")
    real_worker.start(app_module=SLOW_APP)
    total = Application.objects.count()

    export = _export(auditor_with_cases, fmt="xlsx")
    _watch(export, 60, lambda row: row[0] == "running" and 0 < row[1] < 60)
    [child] = real_worker.pool_children()
    os.kill(child, signal.SIGKILL)

    seen = _watch(export, 90, lambda row: row[0] in ("done", "failed"))
    export.refresh_from_db()
    short_done = sum(1 for status, _p, rows in seen if status == "done" and rows < total)
    print(
        f"\nfault export-pool-kill: rows={export.rows}/{total} attempts={export.attempts} "
        f"status={export.status} done_short={short_done}"
    )
    assert short_done == 0
    assert export.status == "done", (seen, real_worker.log())
    assert export.attempts == 2
    _check_full_file(export, total)


def test_an_export_that_kills_its_worker_every_time_ends_failed(
    real_worker, auditor_with_cases, monkeypatch, settings
):
    monkeypatch.setenv("EXPORT_STALE_SECONDS", "2")
    settings.EXPORT_STALE_SECONDS = 2
    monkeypatch.setenv("EXPORT_TEST_ROW_DELAY", "0.1")
    real_worker.start(app_module=SLOW_APP)

    export = _export(auditor_with_cases)
    for attempt in range(1, settings.EXPORT_MAX_ATTEMPTS + 1):
        _watch(
            export,
            60,
            lambda row, attempt=attempt: (
                tasks.sweep_exports() is not None
                and row[0] == "running"
                and 0 < row[1]
                and Export.objects.get(pk=export.pk).attempts == attempt
            ),
        )
        real_worker.kill()
        real_worker.start(app_module=SLOW_APP)

    seen = _watch(export, 30, lambda row: tasks.sweep_exports() is not None and row[0] == "failed")
    export.refresh_from_db()
    assert export.failure == "worker_lost", seen
    assert not export.file
    assert all(status != "done" for status, _p, _rows in seen)
