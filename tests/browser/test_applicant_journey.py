"""An IKM owner on a phone: register, describe the company, apply with two machines and real
files, submit, and see the officer's request for revision; all through the pages."""

import datetime as dt
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone
from fpdf import FPDF
from PIL import Image
from playwright.sync_api import expect

from subsidy.models import Application
from subsidy.workflow import actions as workflow
from tests.browser.conftest import check_page
from tests.factories import ProgrammeFactory, UserFactory

PASSWORD = "Kain-tenun-2026!"
User = get_user_model()


@pytest.fixture
def open_programme(transactional_db):
    return ProgrammeFactory(
        year=timezone.localdate().year, required_documents=["invoice", "installation_photo"]
    )


def _pdf(tmp_path, name: str) -> str:
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 14)
    pdf.cell(0, 10, "FAKTUR / INVOICE INV-2026-001")
    path = tmp_path / name
    path.write_bytes(bytes(pdf.output()))
    return str(path)


def _jpeg(tmp_path, name: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 160)).save(buffer, "JPEG")
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return str(path)


def _add_machine(page, *, description: str, serial: str, invoice: str, price: str, day: str):
    page.get_by_role("link", name="Tambah mesin").first.click()
    check_page(page)
    page.fill("#id_description", description)
    page.fill("#id_serial_number", serial)
    page.check("#id_origin_0")
    page.fill("#id_supplier_name", "PT Sumber Mesin")
    page.fill("#id_supplier_npwp", "01.234.567.8-901.000")
    page.fill("#id_invoice_number", invoice)
    page.fill("#id_tax_invoice_number", f"010.000-26.{serial[-4:]}")
    page.fill("#id_invoice_date", day)
    page.fill("#id_price", price)
    page.fill("#id_vat", "0")
    page.select_option("#id_payment_method", "bank_transfer")
    page.fill("#id_installed_on", day)
    page.get_by_role("button", name="Simpan mesin").click()
    expect(page.get_by_text("Mesin telah disimpan.")).to_be_visible()
    check_page(page)


def _upload(page, application: Application, kind: str, label: str, path: str) -> None:
    page.locator(f"#kind-{kind}").get_by_role("link", name="Unggah").click()
    check_page(page)
    page.set_input_files("#id_file", path)
    page.get_by_role("button", name="Unggah").click()
    expect(page.get_by_text(f"{label} telah diunggah.")).to_be_visible()


def test_owner_applies_from_a_phone_and_sees_the_officers_revision(
    phone, live_server, open_programme, tmp_path
):
    page = phone
    day = (timezone.localdate() - dt.timedelta(days=30)).isoformat()

    # Register and verify the e-mail from the outbox, then log in.
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_username", "wati")
    page.fill("#id_email", "wati@example.test")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    page.locator("main form button[type=submit]").click()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_login", "wati")
    page.fill("#id_password", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_text("Anda masuk sebagai wati.")).to_be_visible()

    # The company, through its page (the regency list follows the province).
    page.goto(live_server.url + "/dashboard/")
    check_page(page)
    page.get_by_role("link", name="Daftarkan perusahaan").click()
    page.fill("#id_name", "CV Tenun Makmur")
    page.fill("#id_nib", "9120000000001")
    page.fill("#id_npwp", "01.234.567.8-901.001")
    page.fill("#id_kbli", "13112")
    page.fill("#id_workers", "15")
    page.fill("#id_investment_value", "400000000")
    page.select_option("#id_province", "33")
    expect(page.locator("#id_regency option[value='33.10']")).to_have_count(1)
    page.select_option("#id_regency", "33.10")
    page.fill("#id_address", "Jl. Pemuda No. 3, Klaten")
    page.fill("#id_bank_name", "BRI")
    page.fill("#id_bank_account_number", "002101000123456")
    page.fill("#id_bank_account_name", "CV TENUN MAKMUR")
    check_page(page)
    page.get_by_role("button", name="Simpan data perusahaan").click()
    expect(page.get_by_text("Data perusahaan telah disimpan.")).to_be_visible()

    # The application, from the dashboard's button; its link leads to the task list.
    page.goto(live_server.url + "/dashboard/")
    page.get_by_role("button", name=re.compile("Permohonan baru untuk")).click()
    page.goto(live_server.url + "/dashboard/")
    check_page(page)
    page.get_by_role("link", name=re.compile("CV Tenun Makmur")).first.click()
    application = Application.objects.get(company__name="CV Tenun Makmur")
    expect(page.get_by_role("heading", name="Tugas Anda")).to_be_visible()
    check_page(page)

    # Two machines, one form each; each shows its refund once saved.
    page.get_by_role("link", name="Mesin", exact=True).click()
    check_page(page)
    _add_machine(
        page,
        description="Mesin tenun",
        serial="SN-T-0001",
        invoice="INV-1",
        price="50000000",
        day=day,
    )
    expect(page.get_by_text("Penggantian Rp 20.000.000 (40% dari harga).")).to_be_visible()
    page.get_by_role("link", name="Semua mesin").click()
    _add_machine(
        page,
        description="Mesin jahit",
        serial="SN-J-0002",
        invoice="INV-2",
        price="30000000",
        day=day,
    )
    expect(page.get_by_text("Penggantian Rp 12.000.000 (40% dari harga).")).to_be_visible()

    # The required documents: a PDF invoice and a JPEG photo of the installed machine.
    page.get_by_role("link", name="Kembali ke permohonan").click()
    page.get_by_role("link", name="Dokumen").click()
    expect(page.get_by_text("Masih kurang")).to_be_visible()
    check_page(page)
    _upload(page, application, "invoice", "Faktur", _pdf(tmp_path, "faktur.pdf"))
    _upload(page, application, "installation_photo", "Foto pemasangan", _jpeg(tmp_path, "foto.jpg"))
    expect(page.get_by_text("Semua dokumen wajib sudah diunggah.")).to_be_visible()
    check_page(page)

    # The estimate on the task list, then check answers and submit.
    page.get_by_role("link", name="Kembali ke permohonan").first.click()
    expect(page.locator("#estimate")).to_contain_text("Rp 32.000.000")
    check_page(page)
    page.get_by_role("link", name="Periksa jawaban Anda").click()
    check_page(page)
    page.get_by_role("button", name="Ajukan permohonan").click()
    expect(page.get_by_text("Centang pernyataan untuk mengajukan.").first).to_be_visible()
    page.get_by_label("Saya menyatakan data ini benar.").check()
    page.get_by_role("button", name="Ajukan permohonan").click()
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    expect(page.get_by_text(f"Nomor {application.reference}; status: Diajukan.")).to_be_visible()
    expect(page.locator("h1")).to_have_text(application.reference)
    check_page(page)

    # An officer asks for a revision; the owner sees the status and the comment on top.
    verifier = UserFactory(username="petugas", roles=["verifier"])
    application = workflow.application_start_review(application=application, by=verifier)
    workflow.application_request_revision(
        application=application, by=verifier, comment="Foto mesin jahit kurang jelas."
    )
    page.reload()
    expect(page.locator(".application-status")).to_have_text("Perlu perbaikan")
    expect(page.locator(".revision-comment")).to_have_text("Foto mesin jahit kurang jelas.")
    expect(page.locator("#task-submit")).to_contain_text("Perlu diperbaiki")
    check_page(page)
