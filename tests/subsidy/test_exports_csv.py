"""GET /api/v1/exports/applications.csv and items.csv (API.md "Exports"): columns, rows,
filters, cells a spreadsheet cannot run, who may, and a memory that stays flat."""

import csv
import datetime as dt
import gc
import hashlib
import io
import logging
from pathlib import Path

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.utils import timezone

from subsidy.exports import rows, stream
from subsidy.models import Application, AuditEntry, Company, Export, MachineItem
from tests.factories import CompanyFactory, MachineItemFactory, ProgrammeFactory, UserFactory
from tests.subsidy.test_api_permissions import in_state
from tests.utils import client_for

S = Application.Status
APPLICATIONS_URL = "/api/v1/exports/applications.csv"
ITEMS_URL = "/api/v1/exports/items.csv"
BOM = "\ufeff"

# API.md, "Exports, dossiers, statistics, eligibility", written out here on purpose.
APPLICATION_HEADER = (
    "reference,programme_year,company_name,nib,npwp,kbli,scale,province,province_name,regency,"
    "regency_name,status,submitted_at,eligible_total,computed_discount,approved_amount,"
    "disbursed_amount,transfer_reference,transferred_on,case_officer"
)
ITEM_HEADER = (
    "reference,company_name,nib,item_id,description,brand,model,serial_number,origin,"
    "supplier_name,supplier_npwp,invoice_number,invoice_date,price,vat,payment_method,is_new,"
    "installed_on,rate,discount,findings"
)


def download(user, url: str, query: str = "") -> str:
    response = client_for(user).get(url + query)
    assert response.status_code == 200, response.content
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return b"".join(response.streaming_content).decode("utf-8")


def records(text: str) -> list[dict]:
    assert text.startswith(BOM)
    return list(csv.DictReader(io.StringIO(text[len(BOM) :], newline="")))


@pytest.fixture
def cases(company, other_company, verifier):
    """Cases of two companies in several states, one with a case officer and a transfer."""
    disbursed = in_state(
        company,
        S.DISBURSED,
        transfer_reference="TRF-001",
        transferred_on=timezone.localdate(),
        case_officer=verifier,
    )
    return {
        "draft": in_state(company, S.DRAFT),
        "submitted": in_state(other_company, S.SUBMITTED),
        "approved": in_state(other_company, S.APPROVED),
        "disbursed": disbursed,
    }


def test_the_header_is_the_contracts_columns_in_order_after_a_bom(auditor, cases):
    text = download(auditor, APPLICATIONS_URL)
    assert text.startswith(BOM + APPLICATION_HEADER + "\n")
    assert download(auditor, ITEMS_URL).startswith(BOM + ITEM_HEADER + "\n")


def test_an_empty_export_is_the_header_alone(auditor):
    assert download(auditor, APPLICATIONS_URL) == BOM + APPLICATION_HEADER + "\n"


def test_a_row_per_application_the_caller_may_see_drafts_included(auditor, verifier, cases):
    expected = sorted(a.pk for a in cases.values())
    for user in (auditor, verifier):
        found = records(download(user, APPLICATIONS_URL))
        by_status = {row["status"]: row for row in found}
        assert len(found) == len(expected) == Application.objects.count()
        assert set(by_status) == {"draft", "submitted", "approved", "disbursed"}
        assert by_status["draft"]["reference"] == ""


def test_cells_are_written_as_the_contract_says(auditor, cases, verifier):
    disbursed = cases["disbursed"]
    row = next(
        r for r in records(download(auditor, APPLICATIONS_URL)) if r["status"] == "disbursed"
    )
    company = disbursed.company
    assert row == {
        "reference": disbursed.reference,
        "programme_year": str(disbursed.programme.year),
        "company_name": company.name,
        "nib": company.nib,
        "npwp": company.npwp,
        "kbli": company.kbli,
        "scale": "kecil",
        "province": "33",
        "province_name": "Jawa Tengah",
        "regency": "33.10",
        "regency_name": "Kabupaten Klaten",
        "status": "disbursed",
        "submitted_at": timezone.localtime(disbursed.submitted_at).isoformat(),
        "eligible_total": str(disbursed.eligible_total),
        "computed_discount": str(disbursed.computed_discount),
        "approved_amount": str(disbursed.approved_amount),
        "disbursed_amount": str(disbursed.disbursed_amount),
        "transfer_reference": "TRF-001",
        "transferred_on": timezone.localdate().isoformat(),
        "case_officer": verifier.username,
    }
    assert row["submitted_at"].endswith("+07:00")
    submitted = next(
        r for r in records(download(auditor, APPLICATIONS_URL)) if r["status"] == "submitted"
    )
    # Null is an empty cell.
    assert submitted["approved_amount"] == submitted["transferred_on"] == ""


def test_item_rows_hold_the_machine_and_its_findings_codes(auditor, cases):
    draft = cases["draft"]
    item = draft.items.get()
    MachineItem.objects.filter(pk=item.pk).update(
        is_new=False,
        installed_on=None,
        findings=[{"code": "used_machine"}, {"code": "not_installed"}],
    )
    found = records(download(auditor, ITEMS_URL, f"?company={draft.company_id}&status=draft"))
    assert len(found) == 1
    row = found[0]
    assert row["reference"] == ""
    assert row["company_name"] == draft.company.name
    assert row["item_id"] == str(item.pk)
    assert row["supplier_npwp"] == item.supplier_npwp
    assert row["invoice_date"] == item.invoice_date.isoformat()
    assert row["price"] == "100000000" and row["vat"] == "11000000"
    assert row["payment_method"] == "bank_transfer" and row["origin"] == "domestic"
    assert row["is_new"] == "false" and row["installed_on"] == ""
    assert row["rate"] == "0.4000"
    assert row["findings"] == "used_machine;not_installed"
    everything = records(download(auditor, ITEMS_URL))
    assert len(everything) == MachineItem.objects.count() == 4


def _api_list(user, query: str) -> list[dict]:
    client, found, page = client_for(user), [], 1
    while True:
        response = client.get(f"/api/v1/applications/?page_size=200&page={page}&{query}")
        assert response.status_code == 200
        found += response.json()["results"]
        if not response.json()["next"]:
            return found
        page += 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "status=approved&status=disbursed",
        "province=33&scale=kecil",
        "search=CV&submitted_after=2000-01-01",
        "has_findings=false",
    ],
)
def test_totals_equal_the_apis_for_the_same_filters(auditor, cases, query):
    exported = records(download(auditor, APPLICATIONS_URL, "?" + query))
    listed = _api_list(auditor, query)
    assert len(exported) == len(listed)
    assert sorted(r["reference"] for r in exported) == sorted(a["reference"] or "" for a in listed)
    for column in ("eligible_total", "computed_discount", "approved_amount", "disbursed_amount"):
        assert sum(int(r[column] or 0) for r in exported) == sum(a[column] or 0 for a in listed)
    items = records(download(auditor, ITEMS_URL, "?" + query))
    assert len(items) == sum(len(a["items"]) for a in listed)


def test_a_formula_arrives_as_text(auditor, programme):
    company = CompanyFactory(name='=HYPERLINK("x")')
    application = in_state(company, S.SUBMITTED, transfer_reference="+62-1")
    MachineItem.objects.filter(application=application).update(
        description="@SUM(A1)", brand="-1", model="a,b", supplier_name='PT "Maju"\nJaya'
    )
    row = records(download(auditor, APPLICATIONS_URL))[0]
    assert row["company_name"] == '\'=HYPERLINK("x")'
    assert row["transfer_reference"] == "'+62-1"
    item = records(download(auditor, ITEMS_URL))[0]
    assert item["company_name"] == '\'=HYPERLINK("x")'
    assert (item["description"], item["brand"]) == ("'@SUM(A1)", "'-1")
    assert item["model"] == "a,b" and item["supplier_name"] == 'PT "Maju"\nJaya'


def test_an_applicant_is_refused_and_anonymous_must_sign_in(applicant, cases, api):
    for url in (APPLICATIONS_URL, ITEMS_URL):
        refused = client_for(applicant).get(url)
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        assert api.get(url).status_code == 401


def test_a_user_without_a_role_is_refused(cases):
    assert client_for(UserFactory()).get(APPLICATIONS_URL).status_code == 403


def test_an_invalid_filter_is_the_apis_400(auditor, cases):
    for query in ("?status=nope", "?submitted_after=", "?kbli_division=x", "?programme=0"):
        response = client_for(auditor).get(APPLICATIONS_URL + query)
        assert response.status_code == 400, query
        body = response.json()
        assert body["code"] == "invalid"
        listed = client_for(auditor).get("/api/v1/applications/" + query)
        assert listed.status_code == 400
        assert body["errors"] == listed.json()["errors"]


def test_an_accept_header_for_csv_gets_the_file_and_a_refusal_stays_json(auditor, applicant):
    response = client_for(auditor).get(APPLICATIONS_URL, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response.streaming
    refused = client_for(applicant).get(APPLICATIONS_URL, HTTP_ACCEPT="text/csv")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"


def test_export_queryset_refuses_an_invalid_filter_clearly(auditor):
    with pytest.raises(Exception) as refused:
        rows.export_queryset(rows.APPLICATIONS, auditor, QueryDict("scale=huge"))
    assert refused.value.code == "invalid"
    assert "scale" in refused.value.as_dict()["errors"]


def test_reading_the_rows_takes_a_constant_number_of_queries(
    auditor, cases, django_assert_max_num_queries
):
    for _ in range(5):
        in_state(CompanyFactory(), S.SUBMITTED)
    with django_assert_max_num_queries(3):
        assert len(list(rows.application_rows(Application.objects.all()))) == 9
    with django_assert_max_num_queries(3):
        assert len(list(rows.item_rows(MachineItem.objects.all()))) == 9


def test_the_file_counts_its_rows_and_hashes_its_bytes(auditor, cases, caplog):
    queryset = rows.export_queryset(rows.ITEMS, auditor, QueryDict(""))
    file = stream.CsvFile(rows.ITEMS, queryset)
    data = b"".join(file)
    assert file.rows == 4 and file.size == len(data)
    assert file.sha256 == hashlib.sha256(data).hexdigest()
    with caplog.at_level(logging.INFO, logger="subsidy.exports.stream"):
        text = download(auditor, APPLICATIONS_URL, "?status=draft")
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert f"of applications by user {auditor.pk}: 1 rows" in caplog.text
    assert digest in caplog.text


def test_every_streamed_csv_is_an_export_record_and_an_audit_entry(auditor, verifier, cases):
    """PAGES.md: every export is recorded (who, when, filters, rows, SHA-256), streamed ones
    too; auditors see the record among the exports, and the audit trail holds it."""
    text = download(verifier, ITEMS_URL, "?status=draft&province=31")
    data = text.encode()

    export = Export.objects.get()
    assert (export.created_by, export.kind, export.format) == (verifier, "items", "csv")
    assert export.streamed and export.status == Export.Status.DONE and export.progress == 100
    assert export.filters == {"status": ["draft"], "province": "31"}
    assert export.rows == len(records(text)) and export.size == len(data)
    assert export.sha256 == hashlib.sha256(data).hexdigest()
    entry = AuditEntry.objects.get(object_type="export", object_id=export.pk)
    assert (entry.actor, entry.action) == (verifier, "export")
    assert entry.changes["streamed"] == [None, True]
    # The auditor sees it; there is no file to download, and the API says so.
    listed = client_for(auditor).get("/api/v1/exports/").json()["results"]
    assert [(e["id"], e["streamed"], e["download_url"]) for e in listed] == [
        (export.pk, True, None)
    ]
    refused = client_for(verifier).get(f"/api/v1/exports/{export.pk}/download/")
    assert refused.status_code == 409
    browser = Client()
    browser.force_login(auditor)
    page = browser.get("/office/exports/")
    assert page.status_code == 200
    assert "Dialirkan langsung kepada yang meminta; salinannya tidak disimpan." in page.text
    assert export.sha256 in page.text


@pytest.mark.django_db(transaction=True)
def test_a_download_cut_short_is_recorded_as_stopped(auditor, cases):
    response = client_for(auditor).get(APPLICATIONS_URL)
    next(iter(response.streaming_content))  # the BOM and header left; then the client went away
    response.close()  # what the server does then: the file's generator is closed first

    export = Export.objects.get()
    assert export.status == Export.Status.FAILED
    assert export.failure == Export.Failure.STOPPED
    assert export.sha256 == ""


def test_a_refused_filter_records_nothing(auditor, cases):
    response = client_for(auditor).get(APPLICATIONS_URL + "?status=nonsense")
    assert response.status_code == 400
    assert not Export.objects.exists()
    assert not AuditEntry.objects.filter(object_type="export").exists()


@pytest.mark.postgres
def test_copy_and_the_python_rows_write_the_same_bytes(auditor, verifier, cases):
    """The two ways to the file (COPY on PostgreSQL, rows.csv_line elsewhere) agree on every
    awkward cell: quotes, commas, line breaks, formulas, empty and null, times with and
    without microseconds, unknown region codes."""
    odd = CompanyFactory(name='="1";\r\n "x", @y', province="99", regency="", npwp="", kbli="10")
    application = in_state(
        odd,
        S.APPROVED,
        submitted_at=dt.datetime(2026, 3, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        transfer_reference="",
    )
    MachineItem.objects.filter(application=application).update(
        description="-x", brand="", rate=None, findings=[{"code": "a"}], installed_on=None
    )
    MachineItemFactory(application=application, description="Ünïcode — 机", is_new=False)
    files = {}
    for kind in (rows.APPLICATIONS, rows.ITEMS):
        queryset = rows.export_queryset(kind, auditor, QueryDict(""))
        copied = b"".join(stream.csv_chunks(kind, queryset, copy=True))
        files[kind] = b"".join(stream.csv_chunks(kind, queryset, copy=False))
        assert copied == files[kind]
        assert copied.count(b"\n") > 5
    # The session's time zone is Django's again: times read afterwards are right.
    application.refresh_from_db()
    assert application.submitted_at == dt.datetime(2026, 3, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert "2026-03-01T09:03:04.000005+07:00" in files[rows.APPLICATIONS].decode()


@pytest.mark.postgres
def test_on_postgresql_the_stream_is_a_copy(auditor, cases, monkeypatch):
    def not_this_way(*args: object) -> None:
        raise AssertionError("the rows were read through the ORM")

    monkeypatch.setattr(stream, "_python_lines", not_this_way)
    queryset = rows.export_queryset(rows.APPLICATIONS, auditor, QueryDict("status=draft"))
    assert stream.uses_copy(queryset)
    found = records(b"".join(stream.csv_chunks(rows.APPLICATIONS, queryset)).decode())
    assert [row["status"] for row in found] == ["draft"]


@pytest.mark.postgres
def test_a_download_stopped_halfway_leaves_the_connection_usable(auditor, programme):
    _seed_many(programme, 3000)
    queryset = rows.export_queryset(rows.APPLICATIONS, auditor, QueryDict(""))
    chunks = stream.csv_chunks(rows.APPLICATIONS, queryset)
    next(chunks), next(chunks)  # the header, then the first rows
    chunks.close()  # what the server does when the client goes away
    with connection.cursor() as cursor:
        cursor.execute("SHOW TimeZone")
        assert cursor.fetchone()[0] == connection.timezone_name
    assert Application.objects.filter(status=S.SUBMITTED).count() == 1000


# --- Memory ------------------------------------------------------------------------------

MANY = 100_000
MEMORY_LIMIT = 20 * 1024 * 1024


def _rss() -> int:
    """Resident memory of this process, from the kernel (C buffers of the driver included)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    import resource

    return pages * resource.getpagesize()


def _seed_many(programme, count: int) -> None:
    """`count` applications of 1,000 companies (one live case each, the rest withdrawn or
    rejected), written by one INSERT ... SELECT (PostgreSQL and SQLite alike), with long
    names so the file is larger than the limit."""
    companies = Company.objects.bulk_create(
        Company(
            name=f"PT Industri Mesin Presisi dan Perkakas Nusantara Sejahtera Abadi {n:05d}",
            nib=f"{8100000000000 + n:013d}",
            npwp=f"{20000000000000 + n:015d}",
            kbli="25120",
            province="33",
            regency="33.10",
        )
        for n in range(1000)
    )
    first = companies[0].pk
    assert [c.pk for c in companies] == list(range(first, first + 1000))
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO subsidy_application (
                programme_id, company_id, reference, status, created_at, updated_at,
                submitted_at, scale, eligible_total, computed_discount, findings, breakdown,
                data_version, transfer_reference)
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %s)
            SELECT %s, %s + i %% 1000, 'RMP-' || i,
                CASE WHEN i < 1000 THEN 'submitted' WHEN i %% 2 = 0 THEN 'withdrawn'
                ELSE 'rejected' END,
                %s, %s, %s, 'kecil', 123456789, 49382715, '[]', '{}', 0,
                'Transfer bank nomor ' || (1000000000 + i) || ' untuk restrukturisasi'
            FROM n
            """,
            [count - 1, programme.pk, first, now, now, now],
        )
    assert Application.objects.count() == count


def test_a_hundred_thousand_rows_stream_in_flat_memory(auditor):
    programme = ProgrammeFactory()
    _seed_many(programme, MANY)
    client = client_for(auditor)
    gc.collect()
    start = peak = _rss()
    response = client.get(APPLICATIONS_URL)
    assert response.status_code == 200
    received = lines = 0
    for number, chunk in enumerate(response.streaming_content):
        received += len(chunk)
        lines += chunk.count(b"\n")
        if number % 16 == 0:
            peak = max(peak, _rss())
    peak = max(peak, _rss())
    assert lines == MANY + 1  # the header, and one line per application
    # Far larger than the limit: a file built in memory would not pass.
    assert received > MEMORY_LIMIT
    assert peak - start < MEMORY_LIMIT, f"memory grew {(peak - start) / 2**20:.1f} MiB"
    assert connection.vendor in ("postgresql", "sqlite")
