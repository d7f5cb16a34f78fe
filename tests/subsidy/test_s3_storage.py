"""Documents, exports and dossiers with the documents' storage in an S3 bucket: a real local
S3 server (moto's server mode on 127.0.0.1) reached over HTTP, as production reaches its store.

Nothing lands on the web process's disk; downloads stay permission-checked and then stream
from the bucket or redirect to a signed URL that expires; the bucket answers no unsigned read.
"""

import hashlib
import io
import urllib.error
import urllib.request
import zipfile
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from config.settings.documents import documents_storage as storage_setting
from subsidy.exports import jobs
from subsidy.models import Application, Document, Export
from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY, MotoS3
from tests.subsidy.test_api_permissions import in_state
from tests.subsidy.test_documents import JPEG_BYTES, files_under
from tests.utils import PDF_BYTES, client_for, pdf_upload

S = Application.Status
pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def moto(tmp_path_factory) -> MotoS3:
    server = MotoS3(tmp_path_factory.mktemp("moto") / "moto.log")
    server.start()
    yield server
    server.stop()


def _point_documents_at(settings, endpoint_url: str, bucket: str) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "documents": storage_setting(
            bucket=bucket,
            endpoint_url=endpoint_url,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            region=REGION,
            url_seconds=60,
        ),
    }


@pytest.fixture
def bucket(moto, settings) -> str:
    """A new empty bucket, made the documents' storage for this test."""
    name = moto.new_bucket()
    _point_documents_at(settings, moto.endpoint_url, name)
    settings.DOCUMENTS_S3_URL_SECONDS = 60
    return name


@pytest.fixture
def draft(company) -> Application:
    return in_state(company, S.DRAFT)


def _upload(applicant, application, content: bytes = PDF_BYTES, name: str = "faktur.pdf"):
    response = client_for(applicant).post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"kind": "invoice", "file": pdf_upload(name, content)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def _fetch(url: str) -> tuple[int, Message, bytes]:
    """GET as a browser would, without our session or signature of its own."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - 127.0.0.1 only
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_an_upload_is_an_object_in_the_bucket_and_nothing_on_disk(
    applicant, draft, bucket, moto, settings
):
    uploaded = _upload(applicant, draft)
    document = Document.objects.get(pk=uploaded["id"])

    assert moto.keys(bucket) == [document.file.name]
    assert moto.read(bucket, document.file.name) == PDF_BYTES
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == []
    # Private: no grant to everyone or to any signed-in AWS user.
    grants = moto.client().get_object_acl(Bucket=bucket, Key=document.file.name)["Grants"]
    assert not [g for g in grants if "URI" in g["Grantee"]]


def test_the_object_url_without_a_signature_is_refused_by_the_store(applicant, draft, bucket, moto):
    document = Document.objects.get(pk=_upload(applicant, draft)["id"])

    status, _headers, body = _fetch(f"{moto.endpoint_url}/{bucket}/{document.file.name}")

    assert status == 403
    assert PDF_BYTES not in body


def test_a_download_streams_from_the_bucket_after_the_permission_check(
    applicant, other_applicant, draft, bucket, settings
):
    settings.DOCUMENTS_S3_REDIRECT = False
    uploaded = _upload(applicant, draft)

    response = client_for(applicant).get(uploaded["download_url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert client_for(other_applicant).get(uploaded["download_url"]).status_code == 404


def test_a_download_redirects_to_a_short_lived_signed_url_named_as_ours(
    applicant, other_applicant, draft, bucket, moto, settings
):
    settings.DOCUMENTS_S3_REDIRECT = True
    uploaded = _upload(applicant, draft, JPEG_BYTES, "evil.html")
    document = Document.objects.get(pk=uploaded["id"])
    served = f"faktur-permohonan-{draft.pk}-{document.pk}.jpg"

    response = client_for(applicant).get(uploaded["download_url"])

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(f"{moto.endpoint_url}/{bucket}/{document.file.name}?")
    query = parse_qs(urlsplit(location).query)
    assert query["X-Amz-Expires"] == ["60"]
    assert "X-Amz-Signature" in query
    # The redirect is as private as the file: never cached, under the site's policy.
    assert "no-store" in response["Cache-Control"]
    assert "Content-Security-Policy" in response
    assert response["X-Content-Type-Options"] == "nosniff"
    # Others are refused before any URL is made.
    assert client_for(other_applicant).get(uploaded["download_url"]).status_code == 404

    status, headers, body = _fetch(location)
    assert status == 200
    assert body == JPEG_BYTES
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["Content-Disposition"] == f'attachment; filename="{served}"'


def test_without_a_bucket_the_redirect_setting_changes_nothing(applicant, draft, settings):
    settings.DOCUMENTS_S3_REDIRECT = True  # the folder can make no URL: it streams
    uploaded = _upload(applicant, draft)

    response = client_for(applicant).get(uploaded["download_url"])

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_the_applicants_page_download_redirects_too(client, applicant, draft, bucket, settings):
    settings.DOCUMENTS_S3_REDIRECT = True
    uploaded = _upload(applicant, draft)
    client.force_login(applicant)

    response = client.get(f"/documents/{uploaded['id']}/download/")

    assert response.status_code == 302
    assert "X-Amz-Signature=" in response["Location"]


def test_the_officers_inline_preview_streams_even_with_redirects(
    client, applicant, verifier, company, bucket, settings
):
    """The case page frames the preview from its own origin (CSP frame-src 'self'): a redirect
    to the store would be blocked, so previews always stream."""
    settings.DOCUMENTS_S3_REDIRECT = True
    case = in_state(company, S.REVISION_REQUESTED)
    uploaded = _upload(applicant, case)
    client.force_login(verifier)

    response = client.get(f"/office/documents/{uploaded['id']}/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline;")
    assert b"".join(response.streaming_content) == PDF_BYTES


def test_removing_a_document_removes_its_object(
    applicant, draft, bucket, moto, django_capture_on_commit_callbacks
):
    uploaded = _upload(applicant, draft)
    assert len(moto.keys(bucket)) == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(applicant).delete(
            f"/api/v1/applications/{draft.pk}/documents/{uploaded['id']}/"
        )

    assert response.status_code == 204
    assert moto.keys(bucket) == []


def test_an_export_job_writes_its_file_to_the_bucket(
    auditor, company, bucket, moto, settings, django_capture_on_commit_callbacks
):
    in_state(company, S.SUBMITTED)
    with django_capture_on_commit_callbacks(execute=True):  # the eager worker runs the job
        response = client_for(auditor).post(
            "/api/v1/exports/", {"kind": "applications", "format": "csv"}, format="json"
        )
    assert response.status_code == 202
    export = Export.objects.get(pk=response.json()["id"])

    assert export.status == Export.Status.DONE
    assert moto.keys(bucket) == [export.file.name]
    stored = moto.read(bucket, export.file.name)
    assert hashlib.sha256(stored).hexdigest() == export.sha256
    assert files_under(settings.PRIVATE_MEDIA_ROOT) == []
    download = client_for(auditor).get(f"/api/v1/exports/{export.pk}/download/")
    assert b"".join(download.streaming_content) == stored
    # Expired after the keeping days: the object goes, the record stays.
    Export.objects.filter(pk=export.pk).update(finished_at=export.finished_at.replace(year=2001))
    assert jobs.delete_expired_exports() == 1
    assert moto.keys(bucket) == []


def test_the_dossier_reads_the_documents_from_the_bucket(applicant, draft, bucket, moto):
    document = Document.objects.get(pk=_upload(applicant, draft)["id"])
    missing = Document.objects.get(pk=_upload(applicant, draft, name="hilang.pdf")["id"])
    moto.client().delete_object(Bucket=bucket, Key=missing.file.name)

    response = client_for(applicant).get(f"/api/v1/applications/{draft.pk}/dossier/")

    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.read(f"documents/invoice-{document.pk}.pdf") == PDF_BYTES
    # An object gone from the bucket is left out and named, as a missing file on disk is.
    assert not [n for n in archive.namelist() if n.startswith(f"documents/invoice-{missing.pk}")]


def test_healthz_reports_the_bucket_ok(client, bucket, monkeypatch):
    # A loaded CI machine may take longer than production's half second to make the client.
    monkeypatch.setattr("config.health.HEALTH_TIMEOUT", 5.0)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["storage"] == "ok"


def test_healthz_is_503_when_the_bucket_does_not_exist(client, moto, settings, monkeypatch):
    monkeypatch.setattr("config.health.HEALTH_TIMEOUT", 5.0)
    _point_documents_at(settings, moto.endpoint_url, "ikm-no-such-bucket")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["storage"] == "down"
    assert "ikm-no-such-bucket" in response.json()["errors"]["storage"]


def test_healthz_is_503_within_its_bound_when_the_store_does_not_answer(client, settings):
    # A store that takes the connection and never says a word (a hung server).
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    _point_documents_at(settings, f"http://127.0.0.1:{silent.getsockname()[1]}", "ikm-documents")
    try:
        response = client.get("/healthz")
    finally:
        silent.close()

    assert response.status_code == 503
    assert response.json()["storage"] == "down"
    # /healthz's own bound answered, not the client's read timeout (1 s) or its retries.
    assert "did not answer within" in response.json()["errors"]["storage"]


def test_no_code_asks_a_storage_for_a_path():
    """A bucket has no file system path: application code opens, saves and deletes through the
    storage only."""
    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for folder in ("subsidy", "config", "accounts")
        for path in (root / folder).rglob("*.py")
        if ".file.path" in path.read_text() or "storage.path(" in path.read_text()
    ]
    assert offenders == []


def test_a_store_that_does_not_answer_is_a_503_and_the_upload_saves_nothing(
    applicant, draft, settings
):
    """The bucket's server down (nothing listens on its port): an upload and a download answer
    the API's 503 `unavailable` with a sentence, not a 500, and no document row is left."""
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    _point_documents_at(settings, closed, "ikm-documents")

    upload = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/documents/",
        {"kind": "invoice", "file": pdf_upload()},
        format="multipart",
    )

    assert upload.status_code == 503, upload.content
    assert upload.json()["code"] == "unavailable" and upload.json()["detail"]
    assert upload["Retry-After"] == "30"
    assert not Document.objects.filter(application=draft).exists()
