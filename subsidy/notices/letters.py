"""The approval letter (surat persetujuan) as a PDF, built with fpdf2 (pure Python).

Laid out as a letter of the Directorate General: letterhead, number (the reference) and
date, addressee, legal basis, the company, the machines with their rates and exclusions,
the totals, the account the refund is paid to and the signatory. The PDF core fonts are
Latin-1 only, so `make run` needs nothing but Python; any other character prints as '?'.
"""

import datetime as dt

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from config.errors import ServiceError
from subsidy import formats, regions
from subsidy.choices import Origin
from subsidy.engine import rules
from subsidy.findings import finding_detail
from subsidy.models import Application, AuditEntry

MINISTRY = "KEMENTERIAN PERINDUSTRIAN REPUBLIK INDONESIA"
DIRECTORATE = "DIREKTORAT JENDERAL INDUSTRI KECIL, MENENGAH, DAN ANEKA"
DIRECTOR_GENERAL = "Direktur Jenderal Industri Kecil, Menengah, dan Aneka"
PLACE = "Jakarta"

WIDTH = 170  # A4 (210 mm) less 20 mm margins each side
LINE = 5.5


def latin1(text: object) -> str:
    # The PDF core fonts are Latin-1; anything else is shown as '?', never an error. The dots
    # of a masked account number (formats.ACCOUNT_MASK) become asterisks.
    text = str(text).replace("\u2022", "*")
    return text.encode("latin-1", "replace").decode("latin-1")


def _approval(application: Application) -> AuditEntry | None:
    return (
        AuditEntry.objects.filter(
            application_id=application.pk, object_type="application", action="approve"
        )
        .select_related("actor")
        .order_by("-seq")
        .first()
    )


def approval_date(application: Application) -> dt.date:
    """The day of the approval itself, not of a later transition such as the disbursement."""
    entry = _approval(application)
    at = entry.at if entry else None
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


class LetterPdf(FPDF):
    """An A4 paper of the Directorate General; `footer_text` names it on every page."""

    def __init__(self, reference: str, footer_text: str = "") -> None:
        super().__init__(format="A4")
        self.reference = reference
        # Holds %(reference)s, %(page)s and fpdf2's {nb} (the page count).
        self.footer_text = footer_text
        self.set_margins(20, 15, 20)
        self.set_auto_page_break(True, margin=20)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("Helvetica", "", 8)
        self.set_text_color(90)
        template = self.footer_text or _("Letter %(reference)s, page %(page)s of {nb}")
        text = template % {"reference": self.reference, "page": self.page_no()}
        self.cell(0, 5, latin1(text), align="C")
        self.set_text_color(0)

    def text_line(self, text: str, *, style: str = "", size: float = 10, align: str = "L") -> None:
        self.set_font("Helvetica", style, size)
        self.multi_cell(0, LINE, latin1(text), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pairs(self, rows: list[tuple[str, str]], *, label_width: float = 45) -> None:
        """Label and value, one row each; a long value wraps under itself, never under a label."""
        self.set_font("Helvetica", "", 10)
        for label, value in rows:
            self.cell(label_width, LINE, latin1(label))
            self.cell(4, LINE, ":")
            self.multi_cell(0, LINE, latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def letterhead(pdf: LetterPdf) -> None:
    pdf.text_line(MINISTRY, style="B", size=13, align="C")
    pdf.text_line(DIRECTORATE, style="B", size=11, align="C")
    pdf.text_line(_("Machine and/or Equipment Restructuring Programme for IKM"), size=9, align="C")
    y = pdf.get_y() + 2
    pdf.set_line_width(0.8)
    pdf.line(20, y, 20 + WIDTH, y)
    pdf.set_line_width(0.2)
    pdf.line(20, y + 1.2, 20 + WIDTH, y + 1.2)
    pdf.set_y(y + 5)


def _heading(pdf: LetterPdf, application: Application, day: dt.date, language: str) -> None:
    top = pdf.get_y()
    pdf.pairs(
        [
            (_("Number"), application.reference or ""),
            (_("Subject"), _("Approval of a partial refund of the purchase price of machines")),
        ],
        label_width=22,
    )
    after = pdf.get_y()
    pdf.set_xy(20, top)
    pdf.set_font("Helvetica", "", 10)
    pdf.cell(0, LINE, latin1(f"{PLACE}, {formats.long_date(day, language)}"), align="R")
    pdf.set_y(max(after, top + LINE) + 4)


def _addressee(pdf: LetterPdf, company: dict) -> None:
    pdf.text_line(_("To"))
    pdf.text_line(
        _("The management of %(company)s") % {"company": company.get("name", "")}, style="B"
    )
    pdf.text_line(company.get("address", ""))
    place = ", ".join(
        name
        for name in (
            regions.regency_name(company.get("regency", "")),
            regions.province_name(company.get("province", "")),
        )
        if name
    )
    if place:
        pdf.text_line(place)
    pdf.ln(4)


def company_in_force(application: Application) -> dict:
    """The company as submitted: the data the decision was taken on, whatever it edits later."""
    return dict(
        rules.company_facts_in_force(
            editable=application.is_editable,
            snapshot=application.company_snapshot,
            live=application.company.snapshot(),
        )
    )


def company_rows(company: dict) -> list[tuple[str, str]]:
    return [
        (_("Company name"), company.get("name", "")),
        ("NIB", company.get("nib", "")),
        ("NPWP", formats.npwp(company.get("npwp", ""))),
        (_("Address"), company.get("address", "")),
        (_("Regency/city"), regions.regency_name(company.get("regency", ""))),
        (_("Province"), regions.province_name(company.get("province", ""))),
    ]


def machine_table(pdf: LetterPdf, application: Application) -> None:
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(
        col_widths=(8, 56, 28, 14, 28, 36),
        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        line_height=4.8,
        padding=1.2,
    ) as table:
        table.row(
            [
                latin1(h)
                for h in (
                    _("No."),
                    _("Machine or equipment"),
                    _("Price excl. VAT"),
                    _("Rate"),
                    _("Refund"),
                    _("Note"),
                )
            ]
        )
        for n, item in enumerate(application.items.order_by("id"), start=1):
            codes = [f["code"] for f in item.findings if f["code"] in rules.EXCLUSION_CODES]
            machine = f"{item.description}\n{_('Serial number')}: {item.serial_number}"
            machine += f"\n{Origin(item.origin).label}"
            note = (
                _("Excluded: %(reasons)s") % {"reasons": " ".join(finding_detail(c) for c in codes)}
                if codes
                else _("Eligible")
            )
            table.row(
                [
                    str(n),
                    latin1(machine),
                    formats.rupiah(item.price),
                    formats.percent(item.rate) if item.rate is not None else "-",
                    formats.rupiah(item.discount),
                    latin1(note),
                ]
            )


def _totals(pdf: LetterPdf, application: Application) -> None:
    breakdown = application.breakdown or {}
    cap = breakdown.get("max_refund_per_company", application.programme.max_refund_per_company)
    cap_note = _("applied") if breakdown.get("cap_applied") else _("not reached")
    rows = [
        (_("Eligible total"), formats.rupiah(application.eligible_total)),
        (_("Cap per company (%(note)s)") % {"note": cap_note}, formats.rupiah(cap)),
        (_("Approved refund"), formats.rupiah(application.approved_amount)),
    ]
    for n, (label, value) in enumerate(rows):
        bold = n == len(rows) - 1
        pdf.set_font("Helvetica", "B" if bold else "", 10)
        pdf.set_x(20 + WIDTH - 130)
        pdf.cell(90, LINE + 0.5, latin1(label), border="T" if bold else 0)
        pdf.cell(
            40,
            LINE + 0.5,
            latin1(value),
            border="T" if bold else 0,
            align="R",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
    pdf.ln(3)


def _signatory(pdf: LetterPdf, application: Application, day: dt.date, language: str) -> None:
    entry = _approval(application)
    approver = entry.actor if entry else None
    name = (approver.get_full_name() or approver.username) if approver else ""
    x = 20 + WIDTH - 80
    lines = [
        ("", _("On behalf of the %(title)s,") % {"title": DIRECTOR_GENERAL}),
        ("", _("Approving officer")),
    ]
    for style, text in lines:
        pdf.set_x(x)
        pdf.set_font("Helvetica", style, 10)
        pdf.multi_cell(80, LINE, latin1(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(16)
    pdf.set_x(x)
    pdf.set_font("Helvetica", "BU", 10)
    pdf.multi_cell(80, LINE, latin1(name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(x)
    pdf.set_font("Helvetica", "I", 8)
    pdf.multi_cell(
        80,
        4,
        latin1(
            _("Approved electronically on %(date)s.") % {"date": formats.long_date(day, language)}
        ),
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )


def approval_letter_pdf(
    application: Application, language: str = "id", account_shown: str | None = None
) -> bytes:
    """The letter in `language`: the company as submitted, the machines, totals and account.

    `account_shown` is the account number as the reader may see it (subsidy.access); the
    company's own letter, e-mailed to it, carries it whole.
    """
    company = company_in_force(application)
    programme = application.programme
    day = approval_date(application)
    with translation.override(language):
        pdf = LetterPdf(application.reference or f"#{application.pk}")
        pdf.set_title(latin1(f"{_('Approval letter')} {application.reference}"))
        pdf.set_author("Ditjen IKMA, Kementerian Perindustrian")
        pdf.add_page()
        letterhead(pdf)
        _heading(pdf, application, day, language)
        _addressee(pdf, company)
        pdf.text_line(
            _(
                "Under the Regulation of the Minister of Industry on the Machine and/or "
                "Equipment Restructuring Programme for IKM, and following the administrative "
                "review and the site visit, the application below for a partial refund of the "
                "purchase price of machines and/or equipment in the programme of fiscal year "
                "%(year)s is approved."
            )
            % {"year": programme.year},
            align="J",
        )
        pdf.ln(2)
        pdf.text_line(_("Company"), style="B")
        pdf.pairs(company_rows(company))
        pdf.ln(3)
        pdf.text_line(_("Machines and equipment"), style="B")
        pdf.ln(1)
        machine_table(pdf, application)
        pdf.ln(3)
        _totals(pdf, application)
        # The account, the closing and the signature stay together on one page.
        if pdf.get_y() > pdf.h - 100:
            pdf.add_page()
        pdf.text_line(_("The approved refund is transferred to the company's account:"))
        pdf.pairs(
            [
                (_("Bank"), application.payout_bank_name),
                (
                    _("Account number"),
                    application.payout_account_number if account_shown is None else account_shown,
                ),
                (_("Account name"), application.payout_account_name),
            ]
        )
        pdf.ln(3)
        pdf.text_line(_("This letter is issued to be used as appropriate."))
        pdf.ln(6)
        _signatory(pdf, application, day, language)
        return bytes(pdf.output())
