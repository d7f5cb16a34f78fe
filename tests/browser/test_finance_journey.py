"""Finance at a desk: the approved cases' payout details, the batch CSV of two of them, and
the bank's result uploaded, each row's result on the page."""

import pytest
from playwright.sync_api import expect

from accounts.roles import FINANCE
from subsidy.models import Application
from tests.browser.conftest import check_page
from tests.browser.test_officer_journey import desk, log_in, snapshot  # noqa: F401
from tests.factories import ProgrammeFactory, UserFactory
from tests.web.test_office_finance import approved

S = Application.Status


@pytest.mark.usefixtures("transactional_db")
def test_finance_downloads_a_batch_and_uploads_the_banks_result(desk, live_server, tmp_path):  # noqa: F811
    page = desk
    finance = UserFactory(username="fajar", roles=[FINANCE])
    programme = ProgrammeFactory()
    first = approved(programme, name="CV Logam Klaten", amount=40_000_000)
    second = approved(programme, name="UD Sinar Tegal", amount=15_500_000)
    approved(programme, name="CV Tidak Dipilih")
    log_in(page, live_server, finance)

    page.goto(live_server.url + "/office/finance/")
    expect(page.get_by_role("heading", name="Keuangan: pembayaran")).to_be_visible()
    check_page(page)
    page.get_by_label(f"Pilih {first.reference}").check()
    page.get_by_label(f"Pilih {second.reference}").check()
    snapshot(page, "finance-batch")
    with page.expect_download() as download:
        page.get_by_role("button", name="Unduh batch transfer (CSV)").click()
    batch = download.value.path().read_bytes().decode("utf-8-sig").splitlines()
    assert batch[0] == "reference,company,bank,account_number,account_name,amount"
    assert sorted(line.split(",")[0] for line in batch[1:]) == sorted(
        [first.reference, second.reference]
    )

    result = tmp_path / "bank.csv"
    result.write_text(
        "reference,transfer_reference,transferred_on\n"
        f"{first.reference},BRI-0001,2026-01-05\n"
        f"{second.reference},BRI-0002,2026-13-05\n"
    )
    page.set_input_files("#id_file", str(result))
    page.get_by_role("button", name="Unggah dan catat").click()
    expect(page.get_by_text("1 dicatat, 1 ditolak.")).to_be_visible()
    rows = page.locator("[data-transfer-results] tbody tr")
    expect(rows.nth(0)).to_contain_text("Dicatat: transfer BRI-0001 pada 2026-01-05.")
    expect(rows.nth(1)).to_contain_text("Ditolak")
    check_page(page)
    snapshot(page, "finance-results")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (S.DISBURSED, S.APPROVED)
