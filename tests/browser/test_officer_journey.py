"""A verifier at a desk: the workbench, a submitted case, a document beside its machine,
starting the review and requesting a revision."""

import os
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from subsidy.models import Application
from tests.browser.conftest import CSP_LISTENER, check_page
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.web.office_cases import case_with_machines

DESK = {"width": 1280, "height": 800}
# Set OFFICE_SCREENSHOTS=docs/screenshots to refresh the desk-width pictures of the docs.
SCREENSHOTS = os.environ.get("OFFICE_SCREENSHOTS", "")


@pytest.fixture
def desk(live_server, transactional_db, page):
    page.add_init_script(CSP_LISTENER)
    page.set_default_timeout(10_000)
    page.set_viewport_size(DESK)
    return page


def log_in(page, live_server, user) -> None:
    """The session of a logged-in user, as the log-in form would leave it."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def snapshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"office-{name}.png"), full_page=True)


def test_verifier_reviews_a_case_and_requests_a_revision(desk, live_server):
    from accounts.roles import APPLICANT, VERIFIER

    page = desk
    applicant = UserFactory(username="ani", roles=[APPLICANT])
    verifier = UserFactory(username="citra", roles=[VERIFIER])
    programme = ProgrammeFactory()
    for number in range(3):
        other = UserFactory(username=f"pemilik{number}", roles=[APPLICANT])
        case_with_machines(programme, CompanyFactory(members=[other]), other, machines=1)
    company = CompanyFactory(name="CV Logam Klaten", members=[applicant])
    case = case_with_machines(programme, company, applicant, machines=2)
    log_in(page, live_server, verifier)

    page.goto(live_server.url + "/office/")
    expect(page.get_by_role("heading", name="Meja kerja")).to_be_visible()
    check_page(page)
    # Filtering swaps the table in place and keeps the filter in the address.
    page.fill("#id_search", company.nib)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/office/?search={company.nib}")
    expect(page.locator("#workbench-table tbody tr")).to_have_count(1)
    snapshot(page, "workbench")

    page.get_by_role("link", name=case.reference).click()
    expect(page.get_by_role("heading", name=f"{case.reference} · CV Logam Klaten")).to_be_visible()
    check_page(page)
    page.get_by_role("link", name="Mulai verifikasi").click()
    page.get_by_label("Saya telah memeriksa").check()
    page.get_by_role("button", name="Mulai verifikasi").click()
    expect(page.get_by_text("kasus ini sekarang Verifikasi administrasi")).to_be_visible()

    # The invoice of the first machine is shown inside its machine's card.
    machine = page.locator("article.machine").first
    frame = machine.locator("iframe.document-frame")
    expect(frame).to_have_count(1)
    expect(machine.locator("img.document-image")).to_be_visible()
    check_page(page)
    snapshot(page, "case")

    page.get_by_role("link", name="Minta perbaikan").click()
    page.get_by_label("Alasan (wajib)").fill("Faktur mesin 2 tidak terbaca; unggah ulang.")
    page.get_by_label("Saya telah memeriksa").check()
    check_page(page)
    page.get_by_role("button", name="Minta perbaikan").click()
    expect(page.get_by_text("kasus ini sekarang Perlu perbaikan")).to_be_visible()
    case.refresh_from_db()
    assert case.status == Application.Status.REVISION_REQUESTED
