"""An auditor filters the workbench, exports it as XLSX, watches the bar reach 100% and
downloads the file.

The job runs in a thread of its own while the page polls, as a worker would beside the web
server: that needs a database that serves both at once (PostgreSQL)."""

import threading
import time

import openpyxl
import pytest
from django.db import connection
from playwright.sync_api import expect

from accounts.roles import AUDITOR
from subsidy import jobs as queue
from subsidy.exports import jobs, rows
from subsidy.models import Application, Export
from tests.browser.conftest import PHONE, check_page
from tests.browser.test_officer_journey import desk, log_in  # noqa: F401 (fixture)
from tests.factories import CompanyFactory, UserFactory
from tests.subsidy.test_api_permissions import in_state

pytestmark = pytest.mark.postgres
S = Application.Status
ROW_SECONDS = 2.5


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    """Exports asked for are kept here instead of running at once; rows come slowly."""
    asked: list[int] = []
    monkeypatch.setattr(queue, "enqueue_after_commit", lambda name, pk: asked.append(pk))
    monkeypatch.setattr(jobs, "PROGRESS_EVERY_SECONDS", 0)
    application_rows = rows.application_rows

    def slowly(queryset):
        for row in application_rows(queryset):
            time.sleep(ROW_SECONDS)
            yield row

    monkeypatch.setattr(rows, "application_rows", slowly)
    return asked


def _run_in_background(export_id: int) -> threading.Thread:
    def run() -> None:
        try:
            jobs.run_export(export_id)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_auditor_exports_the_filtered_list_as_xlsx_and_downloads_it(
    desk,  # noqa: F811
    live_server,
    queued,
    tmp_path,
):
    page = desk
    submitted = [in_state(CompanyFactory(name=f"CV Logam {n}"), S.SUBMITTED) for n in (1, 2)]
    in_state(CompanyFactory(name="CV Kayu"), S.APPROVED)
    log_in(page, live_server, UserFactory(username="gita", roles=[AUDITOR]))

    page.goto(live_server.url + "/office/")
    page.get_by_label("Status", exact=True).select_option("submitted")
    expect(page.get_by_text("2 kasus cocok.")).to_be_visible()
    check_page(page)
    page.get_by_role("button", name="Ekspor XLSX: permohonan").click()

    expect(page.get_by_role("heading", name="Ekspor", exact=True)).to_be_visible()
    [export_id] = queued
    bar = page.get_by_label(f"Kemajuan ekspor #{export_id}")
    expect(bar).to_have_attribute("value", "0")
    expect(page.get_by_text("dalam antrean")).to_be_visible()
    check_page(page)

    worker = _run_in_background(export_id)
    try:
        # The page polls its status cell each second: the bar moves without a reload.
        expect(bar).to_have_attribute("value", "50", timeout=15_000)
        expect(bar).to_have_attribute("value", "100", timeout=30_000)
    finally:
        worker.join(timeout=60)
    link = page.get_by_role("link", name=f"Unduh ekspor #{export_id}")
    expect(link).to_be_visible()
    check_page(page)
    page.set_viewport_size(PHONE)
    check_page(page)

    with page.expect_download() as download:
        link.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".xlsx"
    table = list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))
    assert table[0] == rows.APPLICATION_COLUMNS
    assert sorted(line[0] for line in table[1:]) == sorted(a.reference for a in submitted)
    export = Export.objects.get(pk=export_id)
    assert export.filters == {"status": ["submitted"]}
    assert export.rows == 2
