"""The approval letter: its content read back from the PDF, and who may download it when."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from subsidy import formats
from subsidy.models import Application, AuditEntry
from subsidy.notices.letters import approval_letter_pdf
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.utils import audit_trigger_off, client_for, complete_application

CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)
LONG_DESCRIPTION = "Mesin jahit industri high speed dengan motor servo hemat energi dan meja kerja"


def _text(pdf: bytes) -> str:
    """The letter's words in order, wrapped lines joined (a table cell wraps its text)."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


@pytest.fixture
def recommended(applicant, company, programme, verifier, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(application, applicant, items=1, description="Mesin CNC bubut")
        complete_application(
            application, applicant, items=1, description=LONG_DESCRIPTION, price=150_000_001
        )
    with django_capture_on_commit_callbacks(execute=True):
        application = workflow.application_submit(application=application, by=applicant)
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier)
    return workflow.application_recommend(application=application, by=verifier, checklist=CHECKLIST)


@pytest.fixture
def approved(recommended, approver) -> Application:
    return workflow.application_approve(application=recommended, by=approver)


@pytest.mark.django_db
def test_letter_holds_reference_company_items_amounts_year_and_date(approved, company):
    # 100,000,000 x 0.40 + floor(150,000,001 x 0.40) = 40,000,000 + 60,000,000
    assert approved.approved_amount == 100_000_000
    text = _text(approval_letter_pdf(approved))
    assert "KEMENTERIAN PERINDUSTRIAN REPUBLIK INDONESIA" in text
    assert "DIREKTORAT JENDERAL INDUSTRI KECIL, MENENGAH, DAN ANEKA" in text
    assert f"Nomor : {approved.reference}" in text
    assert f"Jakarta, {formats.long_date(timezone.localdate())}" in text
    assert "Peraturan Menteri Perindustrian" in text
    assert f"Tahun Anggaran {approved.programme.year}" in text
    assert company.name in text
    assert f"NIB : {company.nib}" in text
    assert f"NPWP : {formats.npwp(company.npwp)}" in text
    assert "Mesin CNC bubut" in text
    # A long description wraps over lines; it is not cut.
    assert LONG_DESCRIPTION in text
    assert "Rp 100.000.000 40% Rp 40.000.000" in text  # price, rate, refund of one machine
    assert "Rp 150.000.001 40% Rp 60.000.000" in text
    assert "Total yang memenuhi syarat Rp 100.000.000" in text
    assert "Batas per perusahaan (tidak terlampaui) Rp 300.000.000" in text
    assert "Potongan harga yang disetujui Rp 100.000.000" in text
    assert f"Nomor rekening : {company.bank_account_number}" in text
    assert f"Atas nama : {company.bank_account_name}" in text
    assert f"Bank : {company.bank_name}" in text
    assert "Pejabat penyetuju" in text


@pytest.mark.django_db
def test_letter_names_the_region_and_explains_an_excluded_machine_and_the_cap(
    applicant, company, programme, verifier, approver, django_capture_on_commit_callbacks
):
    company_services.company_update(
        company=company, by=applicant, province="33", regency="33.10", npwp="012345678901000"
    )
    with django_capture_on_commit_callbacks(execute=True):
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(application, applicant, description="Mesin press", price=800_000_000)
        complete_application(
            application, applicant, description="Mesin las MIG", payment_method="cash"
        )
    with django_capture_on_commit_callbacks(execute=True):
        application = workflow.application_submit(application=application, by=applicant)
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier)
    application = workflow.application_recommend(
        application=application, by=verifier, checklist=CHECKLIST
    )
    application = workflow.application_approve(application=application, by=approver)

    text = _text(approval_letter_pdf(application))

    assert "Kabupaten/Kota : Kabupaten Klaten" in text
    assert "Provinsi : Jawa Tengah" in text
    assert "NPWP : 01.234.567.8-901.000" in text
    assert "Rp 100.000.000 40% Rp 0 Tidak memenuhi syarat: Pembayaran tidak dilakukan" in text
    assert "Total yang memenuhi syarat Rp 320.000.000" in text
    assert "Batas per perusahaan (diterapkan) Rp 300.000.000" in text
    assert "Potongan harga yang disetujui Rp 300.000.000" in text


@pytest.mark.django_db
def test_letter_shows_the_company_as_submitted_not_as_edited_later(approved, company, applicant):
    company_services.company_update(company=company, by=applicant, name="PT Nama Baru Sekali")
    text = _text(approval_letter_pdf(approved))
    assert approved.company_snapshot["name"] in text
    assert "PT Nama Baru Sekali" not in text


@pytest.mark.django_db
def test_letter_is_dated_on_the_approval_not_the_disbursement(approved, finance):
    approval_day = dt.date(2026, 3, 2)
    entry = AuditEntry.objects.get(application_id=approved.pk, action="approve")
    # Back-date the approval as if it had been decided earlier (audit MACs are not checked here).
    with audit_trigger_off():
        AuditEntry.objects.filter(pk=entry.pk).update(
            at=timezone.make_aware(dt.datetime(2026, 3, 2, 10, 0))
        )
    application = workflow.application_disburse(
        application=approved,
        by=finance,
        transfer_reference="TRF-9",
        transferred_on=timezone.localdate().isoformat(),
    )
    text = _text(approval_letter_pdf(application))
    assert f"Jakarta, {formats.long_date(approval_day)}" in text  # 2 Maret 2026
    assert formats.long_date(timezone.localdate()) not in text


@pytest.mark.django_db
def test_letter_is_written_in_the_requested_language(approved):
    english = _text(approval_letter_pdf(approved, language="en"))
    indonesian = _text(approval_letter_pdf(approved, language="id"))

    assert "Approved refund Rp 100.000.000" in english
    assert f"Jakarta, {formats.long_date(timezone.localdate(), 'en')}" in english
    assert "Approved refund" not in indonesian
    assert "Potongan harga yang disetujui Rp 100.000.000" in indonesian
    assert approved.reference in indonesian


@pytest.mark.django_db
def test_applicant_downloads_the_letter_once_approved(approved, applicant):
    response = client_for(applicant).get(f"/api/v1/applications/{approved.pk}/letter/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert approved.reference in response["Content-Disposition"]
    assert approved.reference in _text(response.content)


@pytest.mark.django_db
def test_staff_download_the_letter(approved, auditor, finance):
    for user in (auditor, finance):
        response = client_for(user).get(f"/api/v1/applications/{approved.pk}/letter/")
        assert response.status_code == 200
        assert "Rp 100.000.000" in _text(response.content)


@pytest.mark.django_db
def test_letter_before_approval_is_a_conflict(recommended, applicant):
    response = client_for(applicant).get(f"/api/v1/applications/{recommended.pk}/letter/")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


@pytest.mark.django_db
def test_letter_of_another_company_is_not_found(approved, other_applicant):
    response = client_for(other_applicant).get(f"/api/v1/applications/{approved.pk}/letter/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_letter_stays_available_after_disbursement(approved, applicant, finance):
    workflow.application_disburse(
        application=approved,
        by=finance,
        transfer_reference="TRF-10",
        transferred_on=timezone.localdate().isoformat(),
    )
    response = client_for(applicant).get(f"/api/v1/applications/{approved.pk}/letter/")
    assert response.status_code == 200
    assert approved.reference in _text(response.content)
