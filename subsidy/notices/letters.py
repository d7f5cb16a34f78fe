"""The approval letter (surat persetujuan) as a PDF, built with fpdf2 (pure Python)."""

import datetime as dt

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.fonts import FontFace

from config.errors import ServiceError
from subsidy.models import Application, AuditEntry


def _latin1(text: object) -> str:
    # The PDF core fonts are Latin-1; anything else is shown as '?', never an error.
    return str(text).encode("latin-1", "replace").decode("latin-1")


def _rupiah(amount: int | None) -> str:
    return "Rp" + f"{amount or 0:,}".replace(",", ".")


def approval_date(application: Application) -> dt.date:
    """The day of the approval itself, not of a later transition such as the disbursement."""
    at = (
        AuditEntry.objects.filter(
            application_id=application.pk, object_type="application", action="approve"
        )
        .order_by("-seq")
        .values_list("at", flat=True)
        .first()
    )
    return timezone.localtime(at or application.status_changed_at or timezone.now()).date()


def require_letter(application: Application) -> None:
    """The approval letter exists once the case is approved (and stays after disbursement)."""
    if application.status not in (Application.Status.APPROVED, Application.Status.DISBURSED):
        raise ServiceError(
            "invalid_transition",
            _("The approval letter exists once the case is approved."),
            status=application.status,
        )


def letter_filename(application: Application) -> str:
    return f"surat-persetujuan-{application.reference or application.pk}.pdf"


def approval_letter_pdf(application: Application, language: str = "id") -> bytes:
    """Reference, company, items, amounts, programme year and date of the approval."""
    # The company as submitted: the data the decision was taken on, whatever it edits later.
    company = application.company_snapshot or application.company.snapshot()
    items = list(application.items.order_by("id"))
    with translation.override(language):
        pdf = FPDF(format="A4")
        pdf.set_title(_latin1(f"{_('Approval letter')} {application.reference}"))
        pdf.set_author("Ditjen IKMA, Kementerian Perindustrian")
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(0, 8, _latin1(_("Machine and Equipment Restructuring Programme for IKM")))
        pdf.set_font("Helvetica", "", 11)
        pdf.ln(2)
        rows = [
            (_("Approval letter"), application.reference or ""),
            (_("Programme year"), str(application.programme.year)),
            (_("Date"), approval_date(application).isoformat()),
            (_("Company"), company.get("name", "")),
            ("NIB", company.get("nib", "")),
            ("NPWP", company.get("npwp", "")),
        ]
        for label, value in rows:
            pdf.cell(50, 7, _latin1(label))
            pdf.multi_cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        pdf.set_font("Helvetica", "", 10)
        # A table wraps long descriptions instead of cutting them.
        with pdf.table(
            col_widths=(80, 35, 20, 35),
            text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
            headings_style=FontFace(emphasis="BOLD"),
            line_height=6,
        ) as table:
            table.row([_latin1(h) for h in (_("Machine"), _("Price"), _("Rate"), _("Refund"))])
            for item in items:
                table.row(
                    [
                        _latin1(item.description),
                        _rupiah(item.price),
                        f"{item.rate or 0:.4f}",
                        _rupiah(item.discount),
                    ]
                )
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
            pdf.multi_cell(0, 7, _latin1(value), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
