"""A visitor on a phone: the programme, the self-check, registering, language, log-out."""

import re

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import check_page
from tests.factories import ProgrammeFactory

PASSWORD = "Kain-tenun-2026!"


@pytest.fixture
def open_programme(transactional_db):
    return ProgrammeFactory(year=timezone.localdate().year)


def _fill_machine(page, number: int, *, price: str, payment_method: str, day: str) -> None:
    prefix = f"#id_machines-{number}-"
    page.fill(prefix + "price", price)
    page.check(prefix + "origin_0")
    page.fill(prefix + "invoice_date", day)
    page.check(prefix + "is_new_0")
    page.fill(prefix + "installed_on", day)
    page.select_option(prefix + "payment_method", payment_method)


def test_visitor_checks_eligibility_registers_and_switches_to_english(
    phone, live_server, open_programme
):
    page = phone
    day = open_programme.purchase_from.isoformat()

    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_text("40% dari harga mesin untuk industri kecil").first).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Cek kelayakan").click()
    page.fill("#id_workers", "10")
    page.fill("#id_investment_value", "500000000")
    page.fill("#id_kbli", "25120")
    _fill_machine(page, 0, price="100000000", payment_method="bank_transfer", day=day)
    page.get_by_role("button", name="Tambah mesin lain").click()
    _fill_machine(page, 1, price="50000000", payment_method="cash", day=day)
    page.get_by_role("button", name="Periksa", exact=True).click()
    expect(page.get_by_text("Pembayaran tidak dilakukan melalui bank.")).to_be_visible()
    expect(page.get_by_text("Penggantian Rp 40.000.000 (40% dari harga).")).to_be_visible()
    check_page(page)

    page.get_by_role("navigation").get_by_role("link", name="Daftar").click()
    check_page(page)
    page.fill("#id_username", "sari")
    page.fill("#id_email", "sari@example.test")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    check_page(page)

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    check_page(page)
    page.locator("main form button[type=submit]").click()

    page.goto(live_server.url + "/accounts/login/")
    check_page(page)
    page.fill("#id_login", "sari@example.test")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text("Anda masuk sebagai sari.")).to_be_visible()
    check_page(page)

    page.get_by_role("link", name="Akun saya").click()
    check_page(page)
    page.get_by_label("English").check()
    page.get_by_role("button", name="Simpan bahasa").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Your language is saved.")).to_be_visible()
    check_page(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    check_page(page)
