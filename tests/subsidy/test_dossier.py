"""The case dossier: one zip per case, its files checked against its manifest, who may take it."""

import csv
import hashlib
import io
import json
import tracemalloc
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from pypdf import PdfReader

from subsidy import formats
from subsidy.models import Application, AuditEntry, Document
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services
from subsidy.services import site_visits as site_visit_services
from subsidy.storage import documents_storage
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.utils import audit_trigger_off, client_for, complete_application, jpeg, pdf_upload

pytestmark = pytest.mark.django_db

CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)
ROOT_FILES = {"summary.pdf", "breakdown.csv", "history.json", "manifest.csv"}
MiB = 1024 * 1024


@pytest.fixture
def case(
    applicant, company, programme, verifier, approver, finance, django_capture_on_commit_callbacks
) -> Application:
    """A disbursed case with two machines, its documents, a site visit with a photo, and an
    extra invoice uploaded under a hostile file name."""
    with django_capture_on_commit_callbacks(execute=True):
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(application, applicant, items=1, description="Mesin CNC bubut")
        complete_application(
            application, applicant, items=1, description='=HYPERLINK("http://x")', is_new=False
        )
        document_services.document_upload(
            application=application, by=applicant, kind="invoice", file=pdf_upload("../evil.html")
        )
    with django_capture_on_commit_callbacks(execute=True):
        application = workflow.application_submit(application=application, by=applicant)
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier)
    site_visit_services.site_visit_record(
        application=application,
        by=verifier,
        visited_on=timezone.localdate(),
        place="Jl. Pemuda No. 1, Klaten",
        checklist=CHECKLIST,
        photos=[jpeg()],
    )
    application = workflow.application_recommend(application=application, by=verifier)
    application = workflow.application_approve(application=application, by=approver)
    return workflow.application_disburse(
        application=application,
        by=finance,
        transfer_reference="TRX-2026-0042",
        transferred_on=timezone.localdate(),
    )


def _url(application: Application) -> str:
    return f"/api/v1/applications/{application.pk}/dossier/"


def _download(user, application: Application) -> tuple[object, zipfile.ZipFile]:
    response = client_for(user).get(_url(application))
    assert response.status_code == 200, response
    body = b"".join(response.streaming_content)
    return response, zipfile.ZipFile(io.BytesIO(body))


def _manifest(archive: zipfile.ZipFile) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))


def _summary_text(archive: zipfile.ZipFile) -> str:
    reader = PdfReader(io.BytesIO(archive.read("summary.pdf")))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


# --- The zip and its manifest --------------------------------------------------------------


def test_the_dossier_is_a_zip_named_from_the_reference(auditor, case):
    response, archive = _download(auditor, case)

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="dossier-{case.reference}.zip"'
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert ROOT_FILES <= names
    assert {name for name in names if "/" in name} == {
        name for name in names if name.startswith("documents/")
    }


def test_the_manifest_lists_every_other_file_with_its_sha256_and_size(auditor, case):
    _, archive = _download(auditor, case)

    rows = _manifest(archive)
    assert {row["path"] for row in rows} == set(archive.namelist()) - {"manifest.csv"}
    for row in rows:
        data = archive.read(row["path"])
        assert row["sha256"] == hashlib.sha256(data).hexdigest()
        assert int(row["bytes"]) == len(data)


def test_every_document_of_the_case_is_in_it_as_uploaded(auditor, case):
    _, archive = _download(auditor, case)

    documents = list(Document.objects.filter(application=case))
    assert len(documents) >= 3
    for document in documents:
        data = archive.read(f"documents/{document.kind}-{document.pk}.pdf")
        assert hashlib.sha256(data).hexdigest() == document.sha256


def test_documents_are_named_by_kind_id_and_content_never_by_the_upload_name(auditor, case):
    evil = Document.objects.get(application=case, kind="invoice", original_name="evil.html")

    _, archive = _download(auditor, case)

    names = archive.namelist()
    assert f"documents/invoice-{evil.pk}.pdf" in names
    assert not [name for name in names if "evil" in name or ".." in name or ".html" in name]


def test_a_document_whose_content_is_no_longer_pdf_gets_no_pdf_suffix(auditor, case):
    document = Document.objects.filter(application=case).first()
    with documents_storage.open(document.file.name, "wb") as stored:
        stored.write(b"<script>alert(1)</script>")

    _, archive = _download(auditor, case)

    assert f"documents/{document.kind}-{document.pk}.bin" in archive.namelist()
    text = _summary_text(archive)
    assert f"documents/{document.kind}-{document.pk}.bin" in text
    assert f"{document.kind}-{document.pk}.bin: SHA-256-nya bukan yang tercatat saat" in text


def test_the_auditor_gets_the_site_visit_photos(auditor, case):
    _, archive = _download(auditor, case)

    photos = [n for n in archive.namelist() if n.startswith("documents/site_visit_photo-")]
    assert len(photos) == 1
    assert photos[0].endswith(".jpg")


# --- Who may take it -------------------------------------------------------------------------


def test_the_cases_applicant_gets_it_without_the_site_visit_photos(applicant, case):
    _, archive = _download(applicant, case)

    assert ROOT_FILES <= set(archive.namelist())
    assert not [n for n in archive.namelist() if "site_visit_photo" in n]


def test_an_applicant_of_another_company_gets_404(other_applicant, case):
    response = client_for(other_applicant).get(_url(case))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not AuditEntry.objects.filter(object_type="dossier").exists()


def test_anonymous_gets_401(api, case):
    response = api.get(_url(case))

    assert response.status_code == 401


@pytest.mark.parametrize("role", ["verifier", "approver", "finance", "auditor"])
def test_every_staff_role_gets_it(request, role, case):
    _, archive = _download(request.getfixturevalue(role), case)

    assert ROOT_FILES <= set(archive.namelist())


def test_each_download_is_recorded_with_who_and_the_zips_sha256(auditor, case):
    response = client_for(auditor).get(_url(case))
    body = b"".join(response.streaming_content)

    entry = AuditEntry.objects.get(object_type="dossier")
    assert (entry.actor, entry.action, entry.application_id) == (auditor, "download", case.pk)
    assert entry.changes["sha256"] == [None, hashlib.sha256(body).hexdigest()]
    assert entry.changes["bytes"] == [None, len(body)]
    history = client_for(auditor).get(f"/api/v1/applications/{case.pk}/history/").json()
    assert ("gita", "download") in {(e["actor"], e["action"]) for e in history}


# --- What is in it ---------------------------------------------------------------------------


def test_history_holds_the_transitions_the_audit_entries_and_an_intact_chain(auditor, case):
    _, archive = _download(auditor, case)

    history = json.loads(archive.read("history.json"))
    actions = [(t["actor"], t["action"], t["to_status"]) for t in history["transitions"]]
    assert actions == [
        ("ani", "create", "draft"),
        ("ani", "submit", "submitted"),
        ("citra", "start_review", "under_review"),
        ("citra", "pass_review", "field_verification"),
        ("citra", "recommend", "recommended"),
        ("eka", "approve", "approved"),
        ("fajar", "disburse", "disbursed"),
    ]
    # All but the download itself, recorded once the zip was built.
    stored = list(
        AuditEntry.objects.filter(application_id=case.pk)
        .exclude(object_type="dossier")
        .order_by("seq")
    )
    assert [e["seq"] for e in history["audit_entries"]] == [e.seq for e in stored]
    assert [e["mac"] for e in history["audit_entries"]] == [e.mac for e in stored]
    assert {"site_visit", "document", "item"} <= {
        e["object_type"] for e in history["audit_entries"]
    }
    chain = history["audit_chain"]
    assert chain["intact"] is True
    assert chain["entries_checked"] == AuditEntry.objects.count() - 1
    assert (chain["broken_at"], chain["reason"]) == (None, "")


def test_a_tampered_chain_shows_as_broken_in_history_and_summary(auditor, case):
    entry = AuditEntry.objects.filter(application_id=case.pk, action="approve").get()
    with audit_trigger_off():  # a database superuser's edit
        AuditEntry.objects.filter(pk=entry.pk).update(comment="approved twice the amount")

    _, archive = _download(auditor, case)

    chain = json.loads(archive.read("history.json"))["audit_chain"]
    assert chain["intact"] is False
    assert chain["broken_at"] == entry.seq
    assert "altered" in chain["reason"]
    assert f"Jejak audit rusak pada entri {entry.seq}" in _summary_text(archive)


def test_the_summary_pdf_holds_the_case(auditor, case, company):
    _, archive = _download(auditor, case)

    text = _summary_text(archive)
    assert f"Nomor : {case.reference}" in text
    assert case.programme.name in text
    assert "Status : Dicairkan" in text
    assert company.name in text
    assert f"NIB : {company.nib}" in text
    assert "Mesin CNC bubut" in text
    assert "Rp 100.000.000 40% Rp 40.000.000" in text  # the eligible machine
    assert "Tidak memenuhi syarat: Mesin bukan mesin baru." in text  # excluded, and why
    assert f"Potongan harga yang disetujui : {formats.rupiah(case.approved_amount)}" in text
    assert f"Dicairkan : {formats.rupiah(case.disbursed_amount)}" in text
    assert "TRX-2026-0042" in text
    assert "Jejak audit utuh" in text


def test_the_summary_is_in_the_users_language(auditor, case):
    auditor.language = "en"
    auditor.save(update_fields=["language"])

    _, archive = _download(auditor, case)

    text = _summary_text(archive)
    assert f"Reference : {case.reference}" in text
    assert "The audit trail is intact" in text


def test_the_breakdown_has_a_row_per_machine_with_the_engines_figures(auditor, case):
    _, archive = _download(auditor, case)

    raw = archive.read("breakdown.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    items = list(case.items.order_by("id"))
    assert [int(row["item_id"]) for row in rows] == [item.pk for item in items]
    eligible, excluded = rows
    assert (eligible["price"], eligible["rate"], eligible["discount"]) == (
        "100000000",
        "0.4000",
        "40000000",
    )
    assert (eligible["is_new"], eligible["findings"]) == ("true", "")
    assert (excluded["discount"], excluded["findings"], excluded["is_new"]) == (
        "0",
        "not_new",
        "false",
    )
    # A formula stays text in a spreadsheet.
    assert excluded["description"] == '\'=HYPERLINK("http://x")'


def test_a_missing_file_is_left_out_and_named_in_the_summary(auditor, case):
    document = Document.objects.filter(application=case, kind="invoice").last()
    documents_storage.delete(document.file.name)

    _, archive = _download(auditor, case)

    assert not [n for n in archive.namelist() if n.startswith(f"documents/invoice-{document.pk}")]
    text = _summary_text(archive)
    assert "Dokumen yang tidak disertakan" in text
    assert "Berkas yang tersimpan hilang atau tidak dapat dibaca." in text
    assert "evil.html" in text


# --- Memory ----------------------------------------------------------------------------------


def test_a_big_document_is_copied_without_holding_it_in_memory(auditor, applicant, case, tmp_path):
    block = b"%PDF-1.4\n" + bytes(range(256)) * 4096  # about 1 MiB, starts as a PDF
    size = 50 * MiB
    digest = hashlib.sha256()
    name = documents_storage.save("documents/big/scan.pdf", ContentFile(b""))
    with documents_storage.open(name, "wb") as target:
        written = 0
        while written < size:
            piece = block[: size - written]
            target.write(piece)
            digest.update(piece)
            written += len(piece)
    document = Document.objects.create(
        application=case,
        kind="other",
        file=name,
        original_name="scan.pdf",
        size=size,
        content_type="application/pdf",
        sha256=digest.hexdigest(),
        uploaded_by=applicant,
    )
    client = client_for(auditor)
    received = tmp_path / "dossier.zip"

    tracemalloc.start()
    try:
        response = client.get(_url(case))
        with received.open("wb") as out:
            for chunk in response.streaming_content:
                out.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 200
    # Measured: 1.3 MiB for a 50 MiB document (a chunk read, a chunk written, the rest).
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB"
    with zipfile.ZipFile(received) as archive:
        path = f"documents/other-{document.pk}.pdf"
        manifest = {row["path"]: row for row in _manifest(archive)}
        assert manifest[path]["sha256"] == document.sha256
        assert int(manifest[path]["bytes"]) == size
        copied = hashlib.sha256()
        with archive.open(path) as entry:
            while chunk := entry.read(MiB):
                copied.update(chunk)
        assert copied.hexdigest() == document.sha256
    recorded = AuditEntry.objects.get(object_type="dossier").changes["sha256"][1]
    assert recorded == hashlib.sha256(received.read_bytes()).hexdigest()
