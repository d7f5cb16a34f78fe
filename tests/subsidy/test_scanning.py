"""Malware scanning: the quarantine around an upload, with scanning off, the scanner down, and a
real clamd of the test's own (tests/clamd_server.py) with an EICAR signature only."""

import datetime as dt
import io
import socket
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from subsidy import dossier, scanning, tasks
from subsidy.models import AuditEntry, Document, Notice
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services
from subsidy.storage import documents_storage
from subsidy.workflow import actions as workflow
from tests.clamd_server import ClamdServer, eicar, free_port
from tests.utils import PDF_BYTES, client_for, complete_application, pdf_upload

pytestmark = pytest.mark.django_db

PENDING, CLEAN, INFECTED, NOT_SCANNED = "pending", "clean", "infected", "not_scanned"


@pytest.fixture
def draft(applicant, company, programme):
    return application_services.application_create(
        by=applicant, programme=programme, company=company
    )


@pytest.fixture
def scanner_down(settings):
    """Scanning on, at an address where nothing listens."""
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{free_port()}"
    return settings.CLAMAV_ADDRESS


def eicar_pdf() -> bytes:
    """A file that passes every content check (a PDF) with the EICAR test string inside."""
    return b"%PDF-1.4\n%" + eicar() + b"\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def api_upload(user, application, content: bytes, name: str = "faktur.pdf", language="id"):
    return client_for(user).post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"kind": "invoice", "file": SimpleUploadedFile(name, content)},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def download(user, document_id: int, language="id"):
    return client_for(user).get(
        f"/api/v1/documents/{document_id}/download/", HTTP_ACCEPT_LANGUAGE=language
    )


def files_under(root) -> list[Path]:
    return [p for p in Path(root).rglob("*") if p.is_file()] if Path(root).exists() else []


def stored(document: Document) -> bool:
    return bool(document.file.name) and documents_storage.exists(document.file.name)


# --- Scanning off: the embedded default -------------------------------------------------------


def test_with_scanning_off_an_upload_is_usable_at_once_and_marked_not_scanned(
    applicant, draft, verifier, client
):
    assert not scanning.enabled()

    response = api_upload(applicant, draft, PDF_BYTES)

    assert response.status_code == 201, response.json()
    assert response.json()["scan_status"] == NOT_SCANNED
    assert response.json()["scan_detail"] == ""
    document = Document.objects.get()
    assert download(applicant, document.pk).status_code == 200
    assert "documents.invoice" not in workflow.missing_for_submission(draft)


def test_officers_see_not_scanned_on_the_case_page(
    django_capture_on_commit_callbacks, applicant, draft, verifier, client
):
    with django_capture_on_commit_callbacks(execute=True):
        complete_application(draft, applicant)
        workflow.application_submit(application=draft, by=applicant)
    client.force_login(verifier)

    page = client.get(reverse("office:case", args=[draft.pk])).text

    assert 'data-scan-status="not_scanned"' in page
    assert "Tidak dipindai" in page


def test_healthz_and_preflight_say_scanning_is_off(client):
    assert client.get("/healthz").json()["scanner"] == "off"
    assert scanning.ping() == "off"


# --- Scanner down: the file stays in quarantine -------------------------------------------------


def test_with_the_scanner_down_an_upload_stays_pending_and_out_of_reach(
    django_capture_on_commit_callbacks, scanner_down, applicant, draft, client
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_upload(applicant, draft, PDF_BYTES)

    assert response.status_code == 201
    document = Document.objects.get()
    assert document.scan_status == PENDING  # never "clean" by default
    assert stored(document)
    # Not downloadable: the API (403, a code and a sentence) and the page (403 saying why).
    refused = download(applicant, document.pk)
    assert refused.status_code == 403
    assert refused.json()["code"] == "document_being_checked"
    assert "masih diperiksa terhadap malware" in refused.json()["detail"]
    assert "still being checked" in download(applicant, document.pk, "en").json()["detail"]
    client.force_login(applicant)
    page = client.get(reverse("applicant:document_download", args=[document.pk]))
    assert page.status_code == 403
    assert "masih diperiksa terhadap malware" in page.text
    # Listed to its applicant as being checked, without a link.
    listing = client.get(reverse("applicant:documents", args=[draft.pk])).text
    assert 'data-scan-status="pending"' in listing
    assert "Sedang diperiksa" in listing
    assert reverse("applicant:document_download", args=[document.pk]) not in listing
    # Not counted as the required invoice.
    assert "documents.invoice" in workflow.missing_for_submission(draft)


def test_submit_is_refused_while_a_required_document_is_being_checked(
    django_capture_on_commit_callbacks, scanner_down, applicant, draft
):
    with django_capture_on_commit_callbacks(execute=True):
        complete_application(draft, applicant)
    assert set(Document.objects.values_list("scan_status", flat=True)) == {PENDING}

    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/transitions/",
        {"action": "submit"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "documents_being_checked"
    assert "still being checked for malware" in body["detail"]
    assert set(body["kinds"]) == set(draft.programme.required_documents)
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.reference


def test_the_upload_page_says_the_file_is_being_checked(scanner_down, applicant, draft, client):
    client.force_login(applicant)

    response = client.post(
        reverse("applicant:document_upload", args=[draft.pk, "invoice"]),
        {"file": SimpleUploadedFile("faktur.pdf", PDF_BYTES)},
        follow=True,
    )

    assert Document.objects.get().scan_status == PENDING
    assert "Dokumen ini masih diperiksa terhadap malware." in response.text


def test_the_submit_page_says_the_documents_are_still_being_checked(
    django_capture_on_commit_callbacks, scanner_down, applicant, draft, client
):
    with django_capture_on_commit_callbacks(execute=True):
        complete_application(draft, applicant)
    client.force_login(applicant)

    page = client.post(f"/applications/{draft.pk}/check-answers/", {"declaration": "on"})

    assert page.status_code == 200
    assert "Beberapa dokumen wajib masih diperiksa terhadap malware: " in page.text
    assert 'data-scan-status="pending"' in page.text
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_dossier_leaves_out_a_pending_file_and_names_it(
    django_capture_on_commit_callbacks, scanner_down, applicant, draft
):
    with django_capture_on_commit_callbacks(execute=True):
        document = document_services.document_upload(
            application=draft, by=applicant, kind="invoice", file=pdf_upload()
        )

    built = dossier.build_dossier(draft, by=applicant, language="en")

    with zipfile.ZipFile(built.file) as archive:
        names = archive.namelist()
    assert not [n for n in names if n.startswith("documents/")]
    assert [(d.record_id, d.reason) for d in built.contents.left_out] == [
        (document.pk, scanning.unusable_reason(document))
    ]


def test_healthz_reports_a_refusing_scanner_down_without_failing_health(scanner_down, client):
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["scanner"] == "down"
    assert "CLAMAV_ADDRESS" in body["errors"]["scanner"]


def test_healthz_answers_within_its_bound_when_the_scanner_never_answers(
    client, settings, monkeypatch
):
    # A clamd that accepts the connection and never says a word (a hung daemon).
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    settings.CLAMAV_ADDRESS = f"127.0.0.1:{silent.getsockname()[1]}"
    # Only the scanner is timed: the database answers at once here.
    monkeypatch.setattr("config.health.check_database", lambda: "ok")
    try:
        response = client.get("/healthz")
    finally:
        silent.close()

    assert response.status_code == 200
    assert response.json()["scanner"] == "down"
    # The wait (0.5 s) or the client's own socket timeout (the same 0.5 s), whichever is first.
    assert "CLAMAV_ADDRESS" in response.json()["errors"]["scanner"]


def test_beat_queues_again_only_scans_pending_past_the_requeue_time_once_clamd_answers(
    scanner_down, applicant, draft, settings, monkeypatch
):
    old, _recent = (
        document_services.document_upload(
            application=draft, by=applicant, kind="invoice", file=pdf_upload()
        )
        for _ in range(2)
    )
    Document.objects.filter(pk=old.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(minutes=settings.SCAN_REQUEUE_MINUTES + 1)
    )
    queued = []
    monkeypatch.setattr(tasks.scan_document, "delay", lambda pk, **kw: queued.append((pk, kw)))

    # Still down: nothing is added to the scans that keep retrying.
    assert tasks.requeue_pending_scans() == 0
    # Back: the old one is queued, tried once (beat comes back itself); the recent one waits.
    monkeypatch.setattr(scanning, "ping", lambda: "ok")
    assert tasks.requeue_pending_scans() == 1
    assert queued == [(old.pk, {"retry": False})]


# --- A real clamd -------------------------------------------------------------------------------


@pytest.mark.clamav
@pytest.mark.django_db(transaction=True)
def test_eicar_is_refused_through_the_api_and_kept_out_of_reach(clamd, applicant, draft, settings):
    response = api_upload(applicant, draft, eicar_pdf(), name="faktur-bersih.pdf")

    # The scan ran in process after the upload committed (no worker in this test).
    assert response.status_code == 201
    body = response.json()
    assert body["scan_status"] == INFECTED
    assert body["scan_detail"] == (
        "Dokumen ini ditolak: ditemukan malware di dalamnya (IKM.Test.EICAR.UNOFFICIAL)."
    )
    document = Document.objects.get()
    assert document.scan_signature == "IKM.Test.EICAR.UNOFFICIAL"
    assert document.file.name == ""
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == []  # deleted from storage
    assert download(applicant, document.pk).status_code == 403
    assert "documents.invoice" in workflow.missing_for_submission(draft)
    # Recorded in the history, and the applicant told in their language.
    entry = AuditEntry.objects.get(action="scan")
    assert entry.changes["scan_status"] == [PENDING, INFECTED]
    assert entry.changes["signature"] == [None, "IKM.Test.EICAR.UNOFFICIAL"]
    notice = Notice.objects.get(kind="document_refused")
    assert notice.recipient == applicant
    assert "faktur-bersih.pdf" in notice.body and "ditolak" in notice.body
    history = client_for(applicant).get(f"/api/v1/applications/{draft.pk}/history/").json()
    assert any(e["action"] == "scan" for e in history)
    # The applicant may remove the refused row (nothing is left in storage to delete).
    document_services.document_delete(document=document, by=applicant)
    assert not Document.objects.exists()


@pytest.mark.clamav
@pytest.mark.django_db(transaction=True)
def test_a_clean_pdf_is_accepted_through_the_api_and_usable(clamd, applicant, draft):
    response = api_upload(applicant, draft, PDF_BYTES)

    assert response.status_code == 201
    assert response.json()["scan_status"] == CLEAN
    document = Document.objects.get()
    assert document.scanned_at is not None and document.scan_signature == ""
    got = download(applicant, document.pk)
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == PDF_BYTES
    assert "documents.invoice" not in workflow.missing_for_submission(draft)
    assert AuditEntry.objects.get(action="scan").changes == {"scan_status": [PENDING, CLEAN]}


@pytest.mark.clamav
@pytest.mark.django_db(transaction=True)
def test_when_the_scanner_comes_back_the_beat_job_scans_the_pending_file_clean(
    clamd_server, settings, applicant, draft
):
    settings.CLAMAV_ADDRESS = clamd_server.address  # not started yet: down
    response = api_upload(applicant, draft, PDF_BYTES)
    assert response.json()["scan_status"] == PENDING
    assert scanning.ping().startswith("ClamAV unreachable")
    document = Document.objects.get()
    Document.objects.filter(pk=document.pk).update(
        uploaded_at=timezone.now() - dt.timedelta(minutes=settings.SCAN_REQUEUE_MINUTES + 1)
    )

    clamd_server.start()
    assert scanning.ping() == "ok"
    assert tasks.requeue_pending_scans() == 1

    document.refresh_from_db()
    assert document.scan_status == CLEAN
    assert download(applicant, document.pk).status_code == 200


@pytest.mark.clamav
def test_healthz_reports_a_running_scanner_ok(clamd, client, monkeypatch):
    # A loaded CI machine may take longer than half a second to open the database connection.
    monkeypatch.setattr("config.health.HEALTH_TIMEOUT", 5.0)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "eager",
        "storage": "ok",
        "scanner": "ok",
    }


@pytest.mark.clamav
def test_a_scan_streams_the_file_in_chunks_through_the_storage_api(clamd):
    big = io.BytesIO(b"%PDF-1.4\n" + b"0" * (3 * 1024 * 1024) + eicar())

    assert scanning.scan_stream(big) == "IKM.Test.EICAR.UNOFFICIAL"
    assert scanning.scan_stream(io.BytesIO(PDF_BYTES)) is None


@pytest.mark.clamav
def test_a_unix_socket_address_is_scanned_through_the_socket(tmp_path, settings):
    server = ClamdServer(tmp_path / "unix", unix_socket=True)
    server.start()
    try:
        settings.CLAMAV_ADDRESS = server.address
        assert settings.CLAMAV_ADDRESS.endswith("clamd.sock")
        assert scanning.ping() == "ok"
        assert scanning.scan_stream(io.BytesIO(eicar_pdf())) == "IKM.Test.EICAR.UNOFFICIAL"
    finally:
        server.stop()
    assert scanning.ping().startswith("ClamAV unreachable")


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param({"stream": ("ERROR", "INSTREAM size limit exceeded")}, id="error"),
        pytest.param({}, id="nothing"),
    ],
)
def test_an_answer_that_is_neither_ok_nor_found_is_never_taken_for_clean(
    scanner_down, applicant, draft, monkeypatch, answer
):
    class Answering:
        def instream(self, stream):
            return answer

    monkeypatch.setattr(scanning, "_client", lambda timeout: Answering())
    document = document_services.document_upload(
        application=draft, by=applicant, kind="invoice", file=pdf_upload()
    )

    with pytest.raises(scanning.ScannerUnavailable):
        scanning.scan_document(document.pk)
    document.refresh_from_db()
    assert document.scan_status == PENDING


def test_english_readers_get_the_refusal_in_english():
    document = Document(scan_status=INFECTED, scan_signature="IKM.Test.EICAR.UNOFFICIAL")

    with translation.override("en"):
        assert scanning.unusable_reason(document) == (
            "This document was refused: malware was found in it (IKM.Test.EICAR.UNOFFICIAL)."
        )
