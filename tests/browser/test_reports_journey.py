"""An auditor reads the programme report at a desk; a visitor reads the statistics on a phone."""

import csv
import io

import pytest
from playwright.sync_api import expect

from accounts.roles import AUDITOR
from tests.browser.conftest import check_page
from tests.browser.test_officer_journey import DESK, log_in
from tests.factories import ProgrammeFactory, UserFactory
from tests.subsidy.test_statistics import paid

SMALL_PHONE = {"width": 360, "height": 740}


@pytest.fixture
def programme_with_payments(transactional_db):
    programme = ProgrammeFactory()
    for number in range(3):
        paid(programme, amount=10_000_000 * (number + 1), province="33")
    for _ in range(2):
        paid(programme, amount=7_000_000, province="51", kbli="10110")
    paid(programme, amount=5_000_000, province="35", status="approved")
    return programme


def test_an_auditor_reads_the_report_and_downloads_a_table(
    phone, live_server, programme_with_payments
):
    page = phone
    page.set_viewport_size(DESK)
    auditor = UserFactory(username="audit", roles=[AUDITOR])
    log_in(page, live_server, auditor)

    page.goto(live_server.url + "/")
    page.get_by_role("navigation").get_by_role("link", name="Laporan").click()
    expect(page.get_by_role("heading", name="Permohonan menurut status")).to_be_visible()
    page.select_option("#id_programme", str(programme_with_payments.pk))
    page.get_by_role("button", name="Tampilkan").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(programme_with_payments.name)
    province = page.locator(
        "section", has=page.get_by_role("heading", name="Permohonan menurut provinsi")
    )
    expect(province.get_by_role("img")).to_be_visible()
    expect(province.locator("tbody tr")).to_have_count(3)
    expect(province.locator("tbody tr").first).to_contain_text("Jawa Tengah")
    check_page(page)

    with page.expect_download() as download:
        province.get_by_role("link", name="Unduh tabel ini sebagai CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "province",
        "name",
        "applications",
        "computed_discount",
        "committed",
        "disbursed",
    ]
    assert rows[1][:3] == ["33", "Jawa Tengah", "3"]


def test_a_visitor_reads_the_statistics_on_a_small_phone(
    phone, live_server, programme_with_payments
):
    page = phone
    page.set_viewport_size(SMALL_PHONE)

    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Statistik").first.click()
    page.select_option("#id_year", str(programme_with_payments.year))
    page.get_by_role("button", name="Tampilkan").click()

    expect(page.get_by_role("heading", name="Statistik program")).to_be_visible()
    expect(page.get_by_text("Rp 74.000.000").first).to_be_visible()
    province = page.locator("section", has=page.get_by_role("heading", name="Menurut provinsi"))
    expect(province.locator("tbody tr")).to_have_count(2)
    expect(province.locator("tbody tr").nth(1)).to_contain_text("< 3")
    # Nothing wider than the phone: the page does not scroll sideways.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SMALL_PHONE["width"]
    check_page(page)
