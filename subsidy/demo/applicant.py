"""The demo applicant's company and a complete draft, made through the services as a user would.

Its documents are real (small) files made here: a PDF for each paper and a JPEG for the
installation photo, so the upload checks, the downloads and the pages all work on them.
"""

import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from fpdf import FPDF
from PIL import Image, ImageDraw

from subsidy.choices import DocumentKind
from subsidy.models import Application, Company, Programme
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.services import documents as document_services

User = get_user_model()


# A made-up small metal workshop in Kabupaten Klaten, Jawa Tengah (a kecil IKM).
DEMO_COMPANY = {
    "name": "CV Karya Logam Klaten",
    "nib": "9110000000001",
    "npwp": "012345678901000",
    "kbli": "25120",
    "workers": 12,
    "investment_value": 650_000_000,
    "province": "33",
    "regency": "33.10",
    "address": "Jl. Raya Solo No. 17, RT 02/RW 05, Ceper",
    "bank_name": "BRI",
    "bank_account_number": "012301000123456",
    "bank_account_name": "CV KARYA LOGAM KLATEN",
}


# (description, brand, origin, price): one domestic and one imported machine.
DEMO_MACHINES = (
    ("Mesin CNC bubut", "Karya Mesin", "domestic", 185_000_000),
    ("Mesin las MIG", "Jack", "imported", 42_500_000),
)


def sample_pdf(title: str, lines: tuple[str, ...] = ()) -> bytes:
    """A one-page PDF with a title and a few lines: a stand-in for a scanned paper."""
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    for line in ("CONTOH / DEMO", *lines):
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def sample_jpeg(caption: str) -> bytes:
    """A small JPEG picture with a caption: a stand-in for a photo."""
    image = Image.new("RGB", (320, 240), (70, 110, 140))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 80, 260, 190), fill=(190, 190, 180), outline=(30, 30, 30))
    draw.text((10, 10), caption, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _sample_upload(kind: str, company: Company) -> SimpleUploadedFile:
    label = str(DocumentKind(kind).label)
    if kind == DocumentKind.INSTALLATION_PHOTO:
        return SimpleUploadedFile(f"{kind}.jpg", sample_jpeg(label), content_type="image/jpeg")
    content = sample_pdf(label, (company.name, f"NIB {company.nib}"))
    return SimpleUploadedFile(f"{kind}.pdf", content, content_type="application/pdf")


def _demo_company(applicant: User) -> Company:
    company = applicant.companies.order_by("pk").first()
    if company is not None:
        return company
    return company_services.company_create(by=applicant, **DEMO_COMPANY)


def _add_items(application: Application, applicant: User, today: dt.date) -> None:
    programme = application.programme
    # Bought six weeks ago and installed three weeks later: inside the programme's windows.
    invoice_date = min(today - dt.timedelta(days=42), programme.purchase_to)
    invoice_date = max(invoice_date, programme.purchase_from)
    installed_on = min(invoice_date + dt.timedelta(days=21), programme.install_by, today)
    for n, (description, brand, origin, price) in enumerate(DEMO_MACHINES, start=1):
        unique = f"{programme.year}{application.pk:05d}{n}"
        application_services.item_create(
            application=application,
            by=applicant,
            description=description,
            brand=brand,
            model=f"DM-{n}00",
            serial_number=f"DEMO-{unique}",
            origin=origin,
            supplier_name="PT Sentra Mesin Jaya",
            supplier_npwp="029876543210000",
            invoice_number=f"INV/DEMO/{unique}",
            tax_invoice_number=f"010.000-{programme.year % 100:02d}.{unique[-8:]}",
            invoice_date=invoice_date,
            price=price,
            vat=price * 11 // 100,  # PPN 11%
            payment_method="bank_transfer",
            is_new=True,
            installed_on=installed_on,
        )


@transaction.atomic
def ensure_demo_draft(*, applicant: User, programme: Programme, today: dt.date) -> Application:
    """The applicant's company and its application in `programme`, completed while a draft.

    Run again, it completes what is missing and creates nothing twice.
    """
    company = _demo_company(applicant)
    application = (
        company.applications.filter(programme=programme)
        .exclude(status__in=Application.ENDED_STATUSES)
        .first()
    )
    if application is None:
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
    if application.status != Application.Status.DRAFT:
        return application
    if not application.items.exists():
        _add_items(application, applicant, today)
    held = set(application.documents.values_list("kind", flat=True))
    for kind in programme.required_documents:
        if kind not in held:
            document_services.document_upload(
                application=application, by=applicant, kind=kind, file=_sample_upload(kind, company)
            )
    application.refresh_from_db()
    return application
