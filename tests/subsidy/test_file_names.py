"""Stored and served names are ours (kind, reference, sniffed type); the uploader's name is only
text to show, cleaned of folders, control characters and bidi overrides."""

import re
from urllib.parse import quote

import pytest

from subsidy.file_names import display_name
from subsidy.models import Application, Document
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow import transitions
from tests.subsidy.test_api_permissions import in_state
from tests.subsidy.test_documents import JPEG_BYTES
from tests.utils import PDF_BYTES, client_for, jpeg

S = Application.Status
pytestmark = pytest.mark.django_db

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: "invoice<RLO>fdp.exe" shows as "invoiceexe.pdf"
HOSTILE = {
    "dot-dot": ("../../etc/passwd", "passwd"),
    "windows folders": ("..\\..\\boot.ini", "boot.ini"),
    "rtl override": (f"invoice{RLO}fdp.exe", "invoicefdp.exe"),
    "isolates": ("a\u2066b\u2067c\u2068d\u2069.pdf", "abcd.pdf"),
    "embeddings": ("a\u202ab\u202bc\u202cd\u202d.pdf", "abcd.pdf"),
    "crlf": ("faktur\r\nX-Evil: 1.pdf", "faktur X-Evil: 1.pdf"),
    "nul": ("faktur\x00.exe.pdf", "faktur .exe.pdf"),
    "only dots": ("..", ""),
    "plain": ("Faktur CV Maju Jaya.pdf", "Faktur CV Maju Jaya.pdf"),
}
# The characters no name to show may keep.
FORBIDDEN = re.compile("[\x00-\x1f\x7f/\\\\\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(("raw", "shown"), HOSTILE.values(), ids=HOSTILE.keys())
def test_display_name_keeps_only_harmless_text(raw, shown):
    assert display_name(raw) == shown
    assert not FORBIDDEN.search(display_name(raw))


def test_display_name_is_at_most_255_characters():
    assert display_name("x" * 300 + ".pdf") == ("x" * 300 + ".pdf")[-255:]


def _multipart(kind: str, filename: str, content: bytes) -> tuple[bytes, str]:
    """A form with the file name as a browser may send it: percent-encoded (RFC 2231), so
    CR, LF, NUL and slashes reach the server as typed."""
    boundary = "ikmboundary7d1f"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="kind"\r\n\r\n'
            f"{kind}\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; '
            f"filename*=UTF-8''{quote(filename, safe='')}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def revision(company) -> Application:
    """An application with its reference that its applicant may still add documents to."""
    return in_state(company, S.REVISION_REQUESTED)


def _upload(applicant, application, kind: str, filename: str, content: bytes) -> dict:
    body, content_type = _multipart(kind, filename, content)
    response = client_for(applicant).post(
        f"/api/v1/applications/{application.pk}/documents/", body, content_type=content_type
    )
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.parametrize(
    "raw",
    [raw for raw, shown in HOSTILE.values() if shown],
    ids=[k for k in HOSTILE if k != "only dots"],
)
def test_a_hostile_upload_name_is_stored_and_served_under_our_name(applicant, revision, raw):
    uploaded = _upload(applicant, revision, "invoice", raw, PDF_BYTES)
    document = Document.objects.get(pk=uploaded["id"])
    reference = revision.reference

    assert re.fullmatch(rf"documents/faktur-{reference}-[0-9a-f]{{16}}\.pdf", document.file.name)
    assert not FORBIDDEN.search(document.original_name)
    assert uploaded["original_name"] == document.original_name
    download = client_for(applicant).get(uploaded["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"] == (
        f'attachment; filename="faktur-{reference}-{document.pk}.pdf"'
    )
    assert b"".join(download.streaming_content) == PDF_BYTES


def test_a_jpeg_named_evil_html_is_stored_and_downloaded_as_a_jpeg(applicant, revision):
    uploaded = _upload(applicant, revision, "payment_proof", "evil.html", JPEG_BYTES)
    document = Document.objects.get(pk=uploaded["id"])

    assert document.content_type == "image/jpeg"
    assert document.file.name.endswith(".jpg")
    assert ".html" not in document.file.name
    assert document.original_name == "evil.html"  # shown as text only
    download = client_for(applicant).get(uploaded["download_url"])
    assert download["Content-Type"] == "image/jpeg"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"] == (
        f'attachment; filename="bukti-bayar-{revision.reference}-{document.pk}.jpg"'
    )


def test_before_a_reference_the_name_carries_the_application_number(applicant, company):
    draft = in_state(company, S.DRAFT)
    uploaded = _upload(applicant, draft, "nib", "NIB scan.PDF", PDF_BYTES)
    document = Document.objects.get(pk=uploaded["id"])

    assert re.fullmatch(
        rf"documents/nib-permohonan-{draft.pk}-[0-9a-f]{{16}}\.pdf", document.file.name
    )
    download = client_for(applicant).get(uploaded["download_url"])
    assert (
        f'filename="nib-permohonan-{draft.pk}-{document.pk}.pdf"' in download["Content-Disposition"]
    )


def test_the_officers_preview_shows_inline_under_our_name(client, verifier, applicant, revision):
    uploaded = _upload(applicant, revision, "invoice", f"x{RLO}lmth.pdf", PDF_BYTES)
    client.force_login(verifier)

    response = client.get(f"/office/documents/{uploaded['id']}/")

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'inline; filename="faktur-{revision.reference}-{uploaded["id"]}.pdf"'
    )


def test_a_site_photo_is_stored_and_served_under_the_reference(verifier, company):
    case = in_state(company, S.FIELD_VERIFICATION)
    photo_file = jpeg()
    photo_file.name = f"IMG{RLO}gpj.html"
    visit = site_visit_services.site_visit_record(
        application=case,
        by=verifier,
        visited_on=case.submitted_at.date(),
        place="Jl. Pemuda No. 1, Klaten",
        checklist=dict.fromkeys(transitions.CHECKLIST_ITEMS, True),
        photos=[photo_file],
    )
    photo = visit.photos.get()

    assert re.fullmatch(
        rf"site-visits/foto-kunjungan-{case.reference}-[0-9a-f]{{16}}\.jpg", photo.file.name
    )
    assert photo.original_name == "IMGgpj.html"
    response = client_for(verifier).get(f"/api/v1/site-visit-photos/{photo.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == (
        f'attachment; filename="foto-kunjungan-{case.reference}-{photo.pk}.jpg"'
    )
