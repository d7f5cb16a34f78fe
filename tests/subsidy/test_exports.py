"""Background exports (API.md "Exports"): who may ask, what is refused, and the files the job
writes (run here by the eager worker of the test settings)."""

import csv
import datetime as dt
import hashlib
import io

import openpyxl
import pytest
from django.utils import timezone

from subsidy.api.exports import FILTER_PROPERTIES
from subsidy.exports import jobs, records, rows
from subsidy.filters import ApplicationFilter
from subsidy.models import Application, Export
from subsidy.storage import get_documents_storage as storage
from tests.subsidy.test_api_permissions import in_state
from tests.utils import client_for

S = Application.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(company, other_company):
    """Three submitted cases and an approved one, one of them with a name a spreadsheet
    would run as a formula."""
    company.name = '=HYPERLINK("x")'
    company.save(update_fields=["name"])
    return [
        in_state(company, S.SUBMITTED),
        in_state(company, S.SUBMITTED),
        in_state(other_company, S.SUBMITTED),
        in_state(other_company, S.APPROVED),
    ]


def _post(user, body, capture):
    with capture(execute=True):
        return client_for(user).post("/api/v1/exports/", body, format="json")


def _file_bytes(export: Export) -> bytes:
    with storage().open(export.file.name, "rb") as stored:
        return stored.read()


# --- Who may ask, and what is refused --------------------------------------------------------


def test_an_applicant_may_not_export(applicant, django_capture_on_commit_callbacks):
    response = _post(
        applicant, {"kind": "applications", "format": "csv"}, django_capture_on_commit_callbacks
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert not Export.objects.exists()
    assert client_for(applicant).get("/api/v1/exports/").status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "companies", "format": "csv"}, "kind"),
        ({"kind": "applications", "format": "pdf"}, "format"),
        ({"format": "csv"}, "kind"),
        ({"kind": "applications", "format": "csv", "filters": []}, "filters"),
        ({"kind": "applications", "format": "csv", "filters": {"colour": "red"}}, "filters"),
        ({"kind": "applications", "format": "csv", "filters": {"status": "x"}}, "filters"),
        ({"kind": "applications", "format": "csv", "filters": {"status": ["paid"]}}, "filters"),
        ({"kind": "items", "format": "xlsx", "filters": {"programme": 0}}, "filters"),
        ({"kind": "items", "format": "xlsx", "filters": {"programme": "5"}}, "filters"),
        ({"kind": "items", "format": "xlsx", "filters": {"kbli_division": "2"}}, "filters"),
        ({"kind": "items", "format": "xlsx", "filters": {"submitted_after": "kemarin"}}, "filters"),
        ({"kind": "items", "format": "xlsx", "filters": {"has_findings": "yes"}}, "filters"),
    ],
)
def test_a_bad_kind_format_or_filter_is_refused_and_nothing_recorded(
    verifier, body, field, django_capture_on_commit_callbacks
):
    response = _post(verifier, body, django_capture_on_commit_callbacks)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["errors"]
    assert not Export.objects.exists()


def test_the_filters_are_the_lists_own():
    assert (
        set(FILTER_PROPERTIES) == set(records.FILTER_NAMES) == set(ApplicationFilter.base_filters)
    )


def test_a_verifier_exports_and_gets_202_with_the_record(
    verifier, cases, django_capture_on_commit_callbacks
):
    response = _post(
        verifier,
        {"kind": "applications", "format": "csv", "filters": {"status": ["submitted"]}},
        django_capture_on_commit_callbacks,
    )

    assert response.status_code == 202
    body = response.json()
    assert set(body) >= {
        "id",
        "kind",
        "format",
        "filters",
        "status",
        "progress",
        "rows",
        "created_by",
        "created_at",
        "finished_at",
        "sha256",
        "download_url",
    }
    assert body["kind"] == "applications"
    assert body["format"] == "csv"
    assert body["filters"] == {"status": ["submitted"]}
    assert body["created_by"] == verifier.username
    # The answer is written before the job runs (after commit).
    assert body["status"] == "queued"
    assert body["progress"] == 0
    assert body["download_url"] is None

    done = client_for(verifier).get(f"/api/v1/exports/{body['id']}/").json()
    assert done["status"] == "done"
    assert done["progress"] == 100
    assert done["rows"] == 3
    assert done["download_url"] == f"/api/v1/exports/{body['id']}/download/"


def test_staff_see_their_own_exports_and_auditors_everyones(
    verifier, approver, auditor, cases, django_capture_on_commit_callbacks
):
    mine = _post(
        verifier, {"kind": "items", "format": "csv"}, django_capture_on_commit_callbacks
    ).json()
    theirs = _post(
        approver, {"kind": "applications", "format": "xlsx"}, django_capture_on_commit_callbacks
    ).json()

    listed = client_for(verifier).get("/api/v1/exports/").json()["results"]
    assert [e["id"] for e in listed] == [mine["id"]]
    assert client_for(verifier).get(f"/api/v1/exports/{theirs['id']}/").status_code == 404
    other = client_for(verifier).get(f"/api/v1/exports/{theirs['id']}/download/")
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"

    audited = client_for(auditor).get("/api/v1/exports/").json()["results"]
    assert {(e["id"], e["created_by"]) for e in audited} == {
        (mine["id"], verifier.username),
        (theirs["id"], approver.username),
    }
    assert client_for(auditor).get(f"/api/v1/exports/{theirs['id']}/download/").status_code == 200


# --- The files -------------------------------------------------------------------------------


def test_the_csv_holds_every_filtered_row_as_the_streamed_csv_and_its_sha256(
    auditor, cases, django_capture_on_commit_callbacks
):
    body = _post(
        auditor,
        {"kind": "applications", "format": "csv", "filters": {"status": ["submitted"]}},
        django_capture_on_commit_callbacks,
    ).json()
    export = Export.objects.get(pk=body["id"])

    response = client_for(auditor).get(f"/api/v1/exports/{export.pk}/download/")
    content = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert hashlib.sha256(content).hexdigest() == export.sha256
    assert len(content) == export.size
    assert content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert tuple(table[0]) == rows.APPLICATION_COLUMNS
    submitted = sorted(a.reference for a in cases if a.status == S.SUBMITTED)
    assert sorted(line[0] for line in table[1:]) == submitted
    names = {line[2] for line in table[1:]}
    assert '\'=HYPERLINK("x")' in names
    # The same bytes as rows.csv_line writes for the streamed CSV.
    queryset = rows.export_queryset("applications", auditor, {"status": ["submitted"]})
    expected = "\ufeff" + rows.csv_line(rows.APPLICATION_COLUMNS)
    expected += "".join(rows.csv_line(row) for row in rows.application_rows(queryset))
    assert content == expected.encode()


def test_the_xlsx_opens_and_holds_the_rows_and_its_sha256_matches(
    auditor, cases, django_capture_on_commit_callbacks
):
    body = _post(
        auditor, {"kind": "items", "format": "xlsx"}, django_capture_on_commit_callbacks
    ).json()
    export = Export.objects.get(pk=body["id"])
    content = _file_bytes(export)

    assert hashlib.sha256(content).hexdigest() == export.sha256
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert workbook.sheetnames == ["items"]
    table = list(workbook["items"].iter_rows(values_only=True))
    assert table[0] == rows.ITEM_COLUMNS
    assert len(table) - 1 == export.rows == 4
    references = {line[0] for line in table[1:]}
    assert references == {a.reference for a in cases}
    # Text stays text: the formula-like name is not a formula, and prices are numbers.
    assert '=HYPERLINK("x")' in {line[1] for line in table[1:]}
    price = rows.ITEM_COLUMNS.index("price")
    assert all(isinstance(line[price], int) for line in table[1:])
    invoice_date = rows.ITEM_COLUMNS.index("invoice_date")
    assert all(isinstance(line[invoice_date], dt.datetime) for line in table[1:])


def test_past_the_sheet_limit_a_new_sheet_starts_with_its_header(tmp_path):
    path = str(tmp_path / "split.xlsx")
    values = [(f"RMP-{n:03d}", n) for n in range(1, 8)]

    written = jobs.write_xlsx(
        path,
        ("reference", "n"),
        iter(values),
        lambda n: None,
        sheet_name="applications",
        sheet_rows=3,
    )

    workbook = openpyxl.load_workbook(path, read_only=True)
    assert written == 7
    assert workbook.sheetnames == [
        "applications",
        "applications 2",
        "applications 3",
        "applications 4",
    ]
    sheets = [list(workbook[name].iter_rows(values_only=True)) for name in workbook.sheetnames]
    assert all(sheet[0] == ("reference", "n") for sheet in sheets)
    assert [len(sheet) - 1 for sheet in sheets] == [2, 2, 2, 1]
    assert [line for sheet in sheets for line in sheet[1:]] == values


def test_the_job_splits_sheets_at_the_configured_limit(
    auditor, cases, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(jobs, "XLSX_SHEET_ROWS", 3)
    body = _post(
        auditor, {"kind": "applications", "format": "xlsx"}, django_capture_on_commit_callbacks
    ).json()
    export = Export.objects.get(pk=body["id"])

    workbook = openpyxl.load_workbook(io.BytesIO(_file_bytes(export)), read_only=True)
    assert workbook.sheetnames == ["applications", "applications 2"]
    assert sum(workbook[n].max_row - 1 for n in workbook.sheetnames) == export.rows == 4


def test_an_export_with_no_row_is_a_header_alone(auditor, django_capture_on_commit_callbacks):
    body = _post(
        auditor, {"kind": "applications", "format": "xlsx"}, django_capture_on_commit_callbacks
    ).json()
    export = Export.objects.get(pk=body["id"])

    workbook = openpyxl.load_workbook(io.BytesIO(_file_bytes(export)), read_only=True)
    assert export.status == "done"
    assert export.rows == 0
    assert list(workbook.active.iter_rows(values_only=True)) == [rows.APPLICATION_COLUMNS]


def test_the_rows_are_those_the_creator_may_still_see(
    verifier, cases, django_capture_on_commit_callbacks
):
    """A role taken away between asking and writing: failed with the reason, no file."""
    export = records.export_create(by=verifier, kind="applications", format="csv", filters={})
    verifier.groups.clear()
    verifier.__dict__.pop("role_names", None)

    assert jobs.run_export(export.pk) == "failed"
    export.refresh_from_db()
    assert export.status == "failed"
    assert export.failure == "refused"
    assert not export.file
    assert records.failure_text(export) == str(Export.Failure.REFUSED.label)


def test_a_failing_write_marks_the_export_failed_with_its_reason(
    auditor, cases, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "write_csv", broken)
    body = _post(
        auditor, {"kind": "applications", "format": "csv"}, django_capture_on_commit_callbacks
    ).json()

    answer = client_for(auditor).get(f"/api/v1/exports/{body['id']}/").json()
    assert answer["status"] == "failed"
    assert answer["failure"] == "error"
    assert answer["error"]  # a sentence in the caller's language
    assert answer["download_url"] is None
    assert "disk full" in Export.objects.get(pk=body["id"]).error
    response = client_for(auditor).get(f"/api/v1/exports/{body['id']}/download/")
    assert response.status_code == 409
    assert response.json()["code"] == "export_not_ready"


def test_running_the_job_twice_writes_once(auditor, cases):
    export = records.export_create(by=auditor, kind="applications", format="csv", filters={})

    assert jobs.run_export(export.pk) == "done"
    first = Export.objects.get(pk=export.pk)
    assert jobs.run_export(export.pk) == "finished"
    assert Export.objects.get(pk=export.pk).file.name == first.file.name


# --- Seven days, then 410 --------------------------------------------------------------------


def test_after_seven_days_the_file_is_deleted_and_download_answers_410(
    auditor, cases, django_capture_on_commit_callbacks
):
    body = _post(
        auditor, {"kind": "applications", "format": "csv"}, django_capture_on_commit_callbacks
    ).json()
    export = Export.objects.get(pk=body["id"])
    url = f"/api/v1/exports/{export.pk}/download/"
    assert client_for(auditor).get(url).status_code == 200

    six_days_later = export.finished_at + dt.timedelta(days=6, hours=23)
    assert jobs.delete_expired_exports(now=six_days_later) == 0
    assert storage().exists(export.file.name)

    # Time moves on: the export was finished eight days ago.
    Export.objects.filter(pk=export.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))
    response = client_for(auditor).get(url)
    assert response.status_code == 410
    assert response.json()["code"] == "export_expired"

    assert jobs.delete_expired_exports() == 1
    assert not storage().exists(export.file.name)
    record = client_for(auditor).get(f"/api/v1/exports/{export.pk}/").json()
    assert record["expired"] is True
    assert record["download_url"] is None
    assert record["sha256"] == export.sha256  # the record stays: who, when, what, which bytes
    assert record["rows"] == 4
    assert client_for(auditor).get(url).status_code == 410


# --- Dead workers -----------------------------------------------------------------------------


def _running(export: Export, *, attempts: int, heartbeat_age: int) -> None:
    Export.objects.filter(pk=export.pk).update(
        status="running",
        attempts=attempts,
        progress=40,
        heartbeat_at=timezone.now() - dt.timedelta(seconds=heartbeat_age),
    )


def test_a_running_export_with_a_fresh_heartbeat_is_left_to_its_worker(auditor, cases, settings):
    export = records.export_create(by=auditor, kind="applications", format="csv", filters={})
    _running(export, attempts=1, heartbeat_age=5)

    assert jobs.run_export(export.pk) == "busy"
    assert jobs.sweep_exports() == {"requeued": [], "failed": []}
    assert Export.objects.get(pk=export.pk).status == "running"


def test_its_own_message_delivered_again_takes_a_running_export_over_at_once(auditor, cases):
    """Celery requeues the message of a run whose pool process died; the heartbeat that run
    wrote a moment ago is still fresh, yet the same message means that run is gone."""
    export = records.export_create(by=auditor, kind="applications", format="csv", filters={})
    first = jobs.claim(export.pk, delivery="message-1")
    assert (first.status, first.attempts, first.claimed_by) == ("running", 1, "message-1")

    assert jobs.run_export(export.pk, delivery="message-2") == "busy"
    assert jobs.run_export(export.pk, delivery="message-1") == "done"

    export.refresh_from_db()
    assert (export.status, export.attempts, export.rows) == ("done", 2, 4)
    assert hashlib.sha256(_file_bytes(export)).hexdigest() == export.sha256
    assert jobs.run_export(export.pk, delivery="message-1") == "finished"


def test_the_sweep_queues_again_an_export_whose_worker_died(
    auditor, cases, settings, django_capture_on_commit_callbacks
):
    export = records.export_create(by=auditor, kind="applications", format="csv", filters={})
    _running(export, attempts=1, heartbeat_age=settings.EXPORT_STALE_SECONDS + 1)

    with django_capture_on_commit_callbacks(execute=True):
        swept = jobs.sweep_exports()

    assert swept == {"requeued": [export.pk], "failed": []}
    export.refresh_from_db()
    assert export.status == "done"
    assert export.attempts == 2
    assert export.rows == 4
    assert hashlib.sha256(_file_bytes(export)).hexdigest() == export.sha256


def test_the_sweep_fails_an_export_with_no_attempt_left(auditor, cases, settings):
    export = records.export_create(by=auditor, kind="applications", format="csv", filters={})
    _running(
        export,
        attempts=settings.EXPORT_MAX_ATTEMPTS,
        heartbeat_age=settings.EXPORT_STALE_SECONDS + 1,
    )

    assert jobs.sweep_exports() == {"requeued": [], "failed": [export.pk]}
    export.refresh_from_db()
    assert export.status == "failed"
    assert export.failure == "worker_lost"
    assert not export.file


def test_a_worker_that_lost_its_claim_stores_nothing(auditor, cases):
    """A worker thought dead (its export claimed again by another) finds out at its next
    progress write and stops: no second file, no "done" from the older attempt."""
    export = records.export_create(by=auditor, kind="applications", format="csv", filters={})
    claimed = jobs.claim(export.pk)
    Export.objects.filter(pk=export.pk).update(attempts=claimed.attempts + 1)

    with pytest.raises(jobs.ClaimLost):
        jobs.Progress(claimed, 10).save(5)
    with pytest.raises(jobs.ClaimLost):
        jobs._write_and_store(claimed)
    record = Export.objects.get(pk=export.pk)
    assert (record.status, record.progress, record.file.name) == ("running", 0, "")
    assert not storage().exists("exports")
