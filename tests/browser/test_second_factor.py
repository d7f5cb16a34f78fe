"""A verifier logs in through the pages with the authenticator app's code."""

from playwright.sync_api import expect

from accounts.roles import VERIFIER
from tests.browser.conftest import log_in_through_the_page
from tests.factories import UserFactory
from tests.utils import totp_code, verify_email

PASSWORD = "Pw-for-tests-1"  # tests/factories.py UserFactory


def test_verifier_logs_in_with_password_and_code_and_reaches_the_office(phone, live_server):
    page = phone
    verifier = UserFactory(username="citra", roles=[VERIFIER])
    verify_email(verifier)

    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_login", "citra")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_role("heading", name="Autentikasi Dua Faktor")).to_be_visible()
    page.goto(live_server.url + "/office/")  # not yet: the log-in waits for the code
    assert "/2fa/authenticate/" in page.url
    page.fill("#id_code", totp_code(verifier))
    page.locator("main form button[type=submit]").first.click()

    page.goto(live_server.url + "/office/")
    assert page.url == live_server.url + "/office/"


def test_the_page_log_in_helper_passes_the_second_factor(phone, live_server):
    verifier = UserFactory(username="dedi", roles=[VERIFIER])
    verify_email(verifier)

    log_in_through_the_page(phone, live_server, "dedi", PASSWORD, user=verifier)

    phone.goto(live_server.url + "/office/")
    assert phone.url == live_server.url + "/office/"
