"""An approver at a desk: the budget meter, two cases ticked, confirmed, a result per case."""

import pytest
from playwright.sync_api import expect

from accounts.roles import APPROVER
from subsidy.models import Application
from tests.browser.conftest import PHONE, check_page
from tests.browser.test_officer_journey import DESK, desk, log_in, snapshot  # noqa: F401 (fixture)
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.subsidy.test_workflow_matrix import put_in_state

S = Application.Status
AMOUNT = 100_000_000


@pytest.fixture
def queue(transactional_db):
    programme = ProgrammeFactory(budget=AMOUNT * 3 // 2, required_documents=[])
    return [
        put_in_state(
            Application.objects.create(
                programme=programme, company=CompanyFactory(name=f"CV Baja {n}")
            ),
            S.RECOMMENDED,
            computed_discount=AMOUNT,
        )
        for n in (1, 2, 3)
    ]


def test_approver_sees_the_budget_and_bulk_approves_two_cases(desk, live_server, queue):  # noqa: F811
    page = desk
    log_in(page, live_server, UserFactory(username="eka", roles=[APPROVER]))
    page.goto(live_server.url + "/office/")
    expect(page.get_by_role("heading", name="Anggaran Program")).to_be_visible()
    expect(page.locator("progress.budget-bar")).to_have_attribute("value", "0")
    check_page(page)
    snapshot(page, "approver-workbench")

    first, second, _third = queue
    page.get_by_label(f"Pilih {first.reference}").check()
    page.keyboard.press("Tab")
    page.get_by_label(f"Pilih {second.reference}").check()
    page.get_by_role("button", name="Setujui yang dipilih").click()
    expect(page.get_by_role("heading", name="Setujui permohonan yang dipilih")).to_be_visible()
    expect(page.get_by_text("Anda akan menyetujui 2 permohonan")).to_be_visible()
    check_page(page)
    snapshot(page, "approver-confirm")

    page.get_by_role("button", name="Setujui permohonan ini").click()
    expect(page.locator("p.lead")).to_contain_text("1 disetujui")
    rows = page.locator("table.bulk-results tbody tr")
    expect(rows.nth(0)).to_contain_text("Disetujui")
    expect(rows.nth(1)).to_contain_text("Ditolak")
    expect(rows.nth(1)).to_contain_text("Sisa anggaran program")
    check_page(page)
    # On a phone too: the results and the workbench with its meter pass axe. (Checked before
    # any full-page screenshot, which leaves style attributes behind until the next page.)
    page.set_viewport_size(PHONE)
    check_page(page)
    snapshot(page, "approver-results-phone")
    page.set_viewport_size(DESK)
    snapshot(page, "approver-results")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/office/")
    expect(page.locator("progress.budget-bar")).to_have_attribute("value", str(AMOUNT))
    check_page(page)
    snapshot(page, "approver-workbench-phone")
    statuses = dict(Application.objects.values_list("pk", "status"))
    assert statuses == {first.pk: S.APPROVED, second.pk: S.RECOMMENDED, queue[2].pk: S.RECOMMENDED}
