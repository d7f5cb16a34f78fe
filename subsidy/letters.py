"""The approval letter (surat persetujuan) as a PDF, built with fpdf2 (pure Python)."""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from .models import Application


def _latin1(text: object) -> str:
    # The PDF core fonts are Latin-1; anything else is shown as '?', never an error.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _rupiah(amount: int | None) -> str:
    return "Rp" + f"{amount or 0:,}".replace(",", ".")


def approval_letter_pdf(application: Application, language: str = "id") -> bytes:
    """Reference, company, items, amounts, programme year and date of the approval."""
    company = application.company_snapshot or application.company.snapshot()
    items = list(application.items.order_by("id"))
    approved_on = application.status_changed_at or timezone.now()
    with translation.override(language):
        pdf = FPDF(format="A4")
        pdf.set_title(_latin1(f"{_('Approval letter')} {application.reference}"))
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, _latin1(_("Machine and Equipment Restructuring Programme for IKM")))
        pdf.set_font("Helvetica", "", 11)
        pdf.ln(2)
        rows = [
            (_("Approval letter"), application.reference or ""),
            (_("Programme year"), str(application.programme.year)),
            (_("Date"), timezone.localtime(approved_on).date().isoformat()),
            (_("Company"), company.get("name", "")),
            ("NIB", company.get("nib", "")),
            ("NPWP", company.get("npwp", "")),
        ]
        for label, value in rows:
            pdf.cell(50, 7, _latin1(label))
            pdf.cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 10)
        for width, head in (
            (80, _("Machine")),
            (35, _("Price")),
            (20, _("Rate")),
            (0, _("Refund")),
        ):
            pdf.cell(width, 7, _latin1(head), border=1)
        pdf.ln()
        pdf.set_font("Helvetica", "", 10)
        for item in items:
            pdf.cell(80, 7, _latin1(item.description[:45]), border=1)
            pdf.cell(35, 7, _rupiah(item.price), border=1)
            pdf.cell(20, 7, f"{item.rate or 0:.4f}", border=1)
            pdf.cell(0, 7, _rupiah(item.discount), border=1, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        totals = [
            (_("Eligible total"), _rupiah(application.eligible_total)),
            (_("Approved refund"), _rupiah(application.approved_amount)),
            (
                _("Paid to account"),
                f"{company.get('bank_name', '')} {company.get('bank_account_number', '')} "
                f"a.n. {company.get('bank_account_name', '')}",
            ),
        ]
        pdf.set_font("Helvetica", "B", 11)
        for label, value in totals:
            pdf.cell(50, 7, _latin1(label))
            pdf.cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
