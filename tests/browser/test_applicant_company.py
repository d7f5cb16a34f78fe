"""An applicant on a phone: registers a company (regency list by htmx), invites a member,
reads the dashboard and the notifications; axe and the CSP rules on every page."""

import os
import re
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from accounts.roles import APPLICANT
from tests.browser.conftest import check_page
from tests.factories import ProgrammeFactory, UserFactory

PASSWORD = "Pw-for-tests-1"


@pytest.fixture
def ani(transactional_db):
    ProgrammeFactory(year=timezone.localdate().year)
    user = UserFactory(username="ani", roles=[APPLICANT])
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _look(page, name: str) -> None:
    """Check the page; with BROWSER_PICTURES set, also keep a picture of it."""
    check_page(page)
    folder = os.environ.get("BROWSER_PICTURES")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_applicant_registers_a_company_invites_a_member_and_starts_an_application(
    phone, live_server, ani
):
    page = phone
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_login", "ani")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text("Anda masuk sebagai ani.")).to_be_visible()

    page.goto(live_server.url + "/dashboard/")
    _look(page, "dashboard-empty")
    page.get_by_role("link", name="Daftarkan perusahaan").click()
    _look(page, "company-form")
    # With JavaScript the no-script button is hidden and htmx fills the regencies.
    expect(page.get_by_role("button", name="Tampilkan kabupaten/kota provinsi ini")).to_be_hidden()
    page.fill("#id_name", "CV Logam Jaya")
    page.fill("#id_kbli", "25120")
    page.fill("#id_workers", "12")
    page.fill("#id_investment_value", "500000000")
    page.select_option("#id_province", "33")
    expect(page.locator("#id_regency option[value='33.10']")).to_have_count(1)
    page.select_option("#id_regency", "33.10")
    page.get_by_role("button", name="Simpan data perusahaan").click()

    expect(page.get_by_text("Data perusahaan telah disimpan.")).to_be_visible()
    expect(page.get_by_text("Industri Barang Logam, Bukan Mesin dan Peralatannya")).to_be_visible()
    _look(page, "company")

    page.get_by_role("link", name="Undang anggota").click()
    _look(page, "members-invite")
    page.fill("#id_email", "budi@example.test")
    page.get_by_role("button", name="Kirim undangan").click()
    expect(page.get_by_text("Undangan telah dikirim ke alamat itu.", exact=False)).to_be_visible()
    assert re.search(r"/invitations/\S+/", mail.outbox[-1].body)

    page.goto(live_server.url + "/dashboard/")
    page.get_by_role("button", name=re.compile("Permohonan baru untuk")).click()
    page.goto(live_server.url + "/dashboard/")
    expect(page.get_by_text("Perkiraan penggantian").first).to_be_visible()
    _look(page, "dashboard")

    page.goto(live_server.url + "/notifications/")
    _look(page, "notifications")
