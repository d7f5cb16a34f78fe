"""The scan job on a real worker (Redis, PostgreSQL) while clamd is down, then up: the file stays
pending, the job retries with backoff, and once clamd answers the file is found clean."""

import time

import pytest

from accounts.roles import APPLICANT
from subsidy.models import Document
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services
from subsidy.storage import documents_storage
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import pdf_upload

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.clamav]


def wait_until(condition, timeout: float, what: str, log=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {log()}")


@pytest.fixture
def shared_storage(settings):
    """The worker's settings (config.settings.test) keep documents in TEST_FILES_ROOT/private;
    this process writes there too, under the same random names."""
    settings.PRIVATE_MEDIA_ROOT = settings.TEST_FILES_ROOT / "private"


def test_a_worker_retries_while_clamd_is_down_then_finds_the_file_clean(
    real_worker, clamd_server, shared_storage, settings, monkeypatch
):
    # Made here, committed: the worker reads them (fixtures of `db` would hold them uncommitted).
    applicant = UserFactory(username="ani", roles=[APPLICANT])
    company = CompanyFactory(members=[applicant])
    programme = ProgrammeFactory()
    # Scanning on in both processes, at clamd's address before clamd runs.
    settings.CLAMAV_ADDRESS = clamd_server.address
    monkeypatch.setenv("CLAMAV_ADDRESS", clamd_server.address)
    monkeypatch.setenv("SCAN_RETRY_SECONDS", "1")
    real_worker.start(concurrency=1)
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    document = document_services.document_upload(
        application=application, by=applicant, kind="invoice", file=pdf_upload()
    )
    try:
        wait_until(
            lambda: real_worker.log().count("stays pending, retry in") >= 2,
            timeout=60,
            what="two failed tries of the scan",
            log=real_worker.log,
        )
        document.refresh_from_db()
        assert document.scan_status == "pending"  # never clean by default
        # The wait doubles (SCAN_RETRY_SECONDS=1 here).
        assert "retry in 1 s" in real_worker.log()
        assert "retry in 2 s" in real_worker.log()

        clamd_server.start()
        up = time.monotonic()
        wait_until(
            lambda: Document.objects.get(pk=document.pk).scan_status != "pending",
            timeout=90,
            what="the scan after clamd came up",
            log=real_worker.log,
        )
        print(f"scanned {time.monotonic() - up:.1f} s after clamd answered")
        document.refresh_from_db()
        assert document.scan_status == "clean", real_worker.log()
        assert document.scanned_at is not None
    finally:
        if document.file.name:
            documents_storage.delete(document.file.name)
