"""Uploaded documents: accepted by content, size-limited, stored privately under random names."""

import hashlib
import os
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from config.errors import ServiceError
from subsidy.models import Application, AuditEntry, Document
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services
from subsidy.storage import documents_storage
from subsidy.workflow import actions as workflow
from tests.factories import ProgrammeFactory
from tests.utils import PDF_BYTES, complete_application, item_data

pytestmark = pytest.mark.django_db

JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
ZIP_BYTES = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 30
TEXT_BYTES = b"Faktur No. INV/001\nJumlah: Rp 100.000.000\n"


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in Path(root).rglob("*") if p.is_file()) if Path(root).exists() else []


@pytest.fixture
def draft(applicant, company, programme):
    return application_services.application_create(
        by=applicant, programme=programme, company=company
    )


def codes(application: Application) -> list[str]:
    application.refresh_from_db()
    return [f["code"] for f in application.findings]


@pytest.mark.parametrize(
    ("name", "content", "content_type", "suffix"),
    [
        ("faktur.pdf", PDF_BYTES, "application/pdf", ".pdf"),
        ("foto.jpg", JPEG_BYTES, "image/jpeg", ".jpg"),
        ("foto.png", PNG_BYTES, "image/png", ".png"),
        ("x.pdf", PNG_BYTES, "image/png", ".png"),  # the content decides, not the name
        ("scan", JPEG_BYTES, "image/jpeg", ".jpg"),
    ],
)
def test_pdf_jpeg_and_png_are_accepted_by_their_content(
    applicant, draft, settings, name, content, content_type, suffix
):
    document = document_services.document_upload(
        application=draft, by=applicant, kind="invoice", file=upload(name, content)
    )
    document.refresh_from_db()
    assert document.content_type == content_type
    assert document.file.name.endswith(suffix)
    assert document.original_name == name
    assert document.size == len(content)
    assert Path(document.file.path).read_bytes() == content


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("x.pdf", TEXT_BYTES),
        ("setup.exe", EXE_BYTES),
        ("faktur.pdf", EXE_BYTES),
        ("arsip.zip", ZIP_BYTES),
        ("faktur.pdf", b""),
        ("faktur.pdf", b"%PDF"),  # too short to be the PDF signature
    ],
)
def test_other_content_is_refused_and_leaves_nothing_behind(
    applicant, draft, settings, name, content
):
    before = (Document.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as caught:
        document_services.document_upload(
            application=draft, by=applicant, kind="invoice", file=upload(name, content)
        )
    assert "file" in caught.value.message_dict
    assert (Document.objects.count(), AuditEntry.objects.count()) == before
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == []


@pytest.mark.parametrize(("size", "accepted"), [(1023, True), (1024, True), (1025, False)])
def test_the_size_limit_comes_from_settings(applicant, draft, settings, size, accepted):
    settings.DOCUMENT_MAX_BYTES = 1024
    content = PDF_BYTES + b"%" * (size - len(PDF_BYTES))
    assert len(content) == size
    if accepted:
        document = document_services.document_upload(
            application=draft, by=applicant, kind="invoice", file=upload("a.pdf", content)
        )
        assert document.size == size
    else:
        with pytest.raises(ValidationError) as caught:
            document_services.document_upload(
                application=draft, by=applicant, kind="invoice", file=upload("a.pdf", content)
            )
        assert "file" in caught.value.message_dict
        assert "KB" in str(caught.value.message_dict["file"])  # "1.0 KB", not "0 MB"
        assert not Document.objects.exists()
        assert files_under(settings.PRIVATE_MEDIA_ROOT) == []


def test_the_default_limit_is_ten_megabytes(settings):
    assert settings.DOCUMENT_MAX_BYTES == 10 * 1024 * 1024


def test_a_document_is_stored_privately_under_a_random_name(applicant, draft, settings):
    document = document_services.document_upload(
        application=draft,
        by=applicant,
        kind="invoice",
        file=upload("Tagihan CV Maju Jaya rahasia.pdf", PDF_BYTES),
    )
    path = Path(document.file.path)
    root = Path(settings.PRIVATE_MEDIA_ROOT)
    assert path.is_relative_to(root)
    assert files_under(root) == [path]
    # Kind, application and a random part: nothing of the uploader's name.
    assert re.fullmatch(
        rf"documents/faktur-permohonan-{draft.pk}-[0-9a-f]{{16}}\.pdf", document.file.name
    )
    assert "rahasia" not in document.file.name.lower()
    assert "tagihan" not in document.file.name.lower()
    # Nowhere a web server serves files from.
    for served in (settings.STATIC_ROOT, getattr(settings, "MEDIA_ROOT", "") or None):
        if served:
            assert not path.is_relative_to(Path(served))
    # A second upload of the same name gets another random name.
    again = document_services.document_upload(
        application=draft,
        by=applicant,
        kind="invoice",
        file=upload("Tagihan CV Maju Jaya rahasia.pdf", PDF_BYTES),
    )
    assert again.file.name != document.file.name


def test_the_sha256_of_the_content_is_kept(applicant, draft):
    content = PDF_BYTES + b"% nomor 42\n"
    document = document_services.document_upload(
        application=draft, by=applicant, kind="invoice", file=upload("a.pdf", content)
    )
    document.refresh_from_db()
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert hashlib.sha256(Path(document.file.path).read_bytes()).hexdigest() == document.sha256


def test_an_upload_that_fails_after_writing_the_file_removes_it(
    applicant, draft, settings, monkeypatch
):
    def broken_audit(**kwargs: object) -> None:
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(document_services.audit, "record", broken_audit)
    with pytest.raises(RuntimeError):
        document_services.document_upload(
            application=draft, by=applicant, kind="invoice", file=upload("a.pdf", PDF_BYTES)
        )
    assert not Document.objects.exists()
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == []


def test_an_item_of_another_application_is_refused(applicant, draft, programme):
    other = application_services.application_create(
        by=applicant, programme=ProgrammeFactory(), company=draft.company
    )
    item = application_services.item_create(application=other, by=applicant, **item_data())
    with pytest.raises(ValidationError) as caught:
        document_services.document_upload(
            application=draft,
            by=applicant,
            kind="invoice",
            file=upload("a.pdf", PDF_BYTES),
            item=item,
        )
    assert "item" in caught.value.message_dict


# --- Deleting, and who may --------------------------------------------------------------------


def test_deleting_a_document_removes_its_file_after_commit(
    applicant, draft, django_capture_on_commit_callbacks
):
    document = document_services.document_upload(
        application=draft, by=applicant, kind="invoice", file=upload("a.pdf", PDF_BYTES)
    )
    path, pk = Path(document.file.path), document.pk
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document_services.document_delete(document=document, by=applicant)
        # Until the transaction commits, a rollback could still bring the row back.
        assert path.exists()
    assert not Document.objects.filter(pk=pk).exists()
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_type, entry.object_id) == ("delete", "document", pk)
    for callback in callbacks:
        callback()
    assert not path.exists()


@pytest.mark.parametrize("status", ["submitted", "under_review"])
def test_documents_change_only_in_draft_or_revision_requested(
    applicant, draft, verifier, settings, status
):
    complete_application(draft, applicant)
    workflow.application_submit(application=draft, by=applicant)
    if status == "under_review":
        workflow.application_start_review(application=draft, by=verifier)
    draft.refresh_from_db()
    files = files_under(settings.PRIVATE_MEDIA_ROOT)
    with pytest.raises(ServiceError) as caught:
        document_services.document_upload(
            application=draft, by=applicant, kind="other", file=upload("a.pdf", PDF_BYTES)
        )
    assert caught.value.code == "invalid_transition"
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == files
    document = draft.documents.first()
    with pytest.raises(ServiceError) as caught:
        document_services.document_delete(document=document, by=applicant)
    assert caught.value.code == "invalid_transition"
    assert Document.objects.filter(pk=document.pk).exists()


def test_documents_may_change_again_when_a_revision_is_requested(applicant, draft, verifier):
    complete_application(draft, applicant)
    workflow.application_submit(application=draft, by=applicant)
    workflow.application_start_review(application=draft, by=verifier)
    workflow.application_request_revision(application=draft, by=verifier, comment="Foto buram.")
    draft.refresh_from_db()
    assert draft.status == Application.Status.REVISION_REQUESTED
    document = document_services.document_upload(
        application=draft, by=applicant, kind="installation_photo", file=upload("f.png", PNG_BYTES)
    )
    assert draft.documents.filter(pk=document.pk, kind="installation_photo").exists()
    document_services.document_delete(document=document, by=applicant)
    assert not Document.objects.filter(pk=document.pk).exists()


@pytest.mark.parametrize(
    ("who", "code"),
    [("other_applicant", "not_found"), ("verifier", "forbidden"), ("auditor", "forbidden")],
)
def test_only_an_applicant_of_the_company_uploads_or_deletes(
    request, applicant, draft, settings, who, code
):
    user = request.getfixturevalue(who)
    document = document_services.document_upload(
        application=draft, by=applicant, kind="invoice", file=upload("a.pdf", PDF_BYTES)
    )
    files = files_under(settings.PRIVATE_MEDIA_ROOT)
    with pytest.raises(ServiceError) as caught:
        document_services.document_upload(
            application=draft, by=user, kind="invoice", file=upload("b.pdf", PDF_BYTES)
        )
    assert caught.value.code == code
    with pytest.raises(ServiceError) as caught:
        document_services.document_delete(document=document, by=user)
    assert caught.value.code == code
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == files
    assert Document.objects.filter(pk=document.pk).exists()


def test_the_local_folder_has_no_public_url_and_follows_the_setting(applicant, draft, settings):
    """Files are reached only through the permission-checked views: the storage refuses to
    make a URL. It reads PRIVATE_MEDIA_ROOT at each use (each test has its own folder)."""
    document = document_services.document_upload(
        application=draft, by=applicant, kind="invoice", file=upload("a.pdf", PDF_BYTES)
    )
    with pytest.raises(ValueError, match="no URL"):
        documents_storage.url(document.file.name)
    assert documents_storage.location == os.path.abspath(settings.PRIVATE_MEDIA_ROOT)
