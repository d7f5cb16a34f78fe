"""Finance's transfers: the batch CSV the bank is sent, and recording the bank's answer.

`transfers_record_csv` reads a CSV of `reference, transfer_reference, transferred_on` and
records each row through the workflow's own `application_disburse`, each row in its own
transaction: a refused row changes nothing and does not undo the rows before it. The
per-row result is returned so a page or an API can show it. A row for a case already
disbursed is refused, so uploading the same file twice records nothing twice.
"""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy.access import applications_visible_to
from subsidy.formats import spreadsheet_safe
from subsidy.models import Application
from subsidy.workflow.actions import application_disburse

User = get_user_model()
S = Application.Status

COLUMNS = ("reference", "transfer_reference", "transferred_on")
BATCH_COLUMNS = ("reference", "company", "bank", "account_number", "account_name", "amount")
MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000

RECORDED = "recorded"
REFUSED = "refused"


@dataclass(frozen=True)
class RowResult:
    line: int  # the line in the file (the header is line 1)
    reference: str
    outcome: str  # RECORDED or REFUSED
    message: str

    @property
    def recorded(self) -> bool:
        return self.outcome == RECORDED


def payout_row(application: Application) -> dict:
    """What is paid to whom: the company's bank details as the case was submitted."""
    snapshot = application.company_snapshot or {}
    return {
        "reference": application.reference or "",
        "company": snapshot.get("name") or application.company.name,
        "bank": application.payout_bank_name,
        "account_number": application.payout_account_number,
        "account_name": application.payout_account_name,
        "amount": application.approved_amount or 0,
    }


def transfer_batch_csv(applications: Iterable[Application]) -> bytes:
    """The batch for the bank: one row per case, UTF-8 with a BOM (spreadsheets read it)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BATCH_COLUMNS)
    for application in applications:
        row = payout_row(application)
        writer.writerow([spreadsheet_safe(row[column]) for column in BATCH_COLUMNS])
    return out.getvalue().encode("utf-8-sig")


def _read_rows(file: object) -> list[tuple[int, list[str]]]:
    """The data rows with their line numbers; a file that cannot be read at all is refused."""
    size = getattr(file, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ServiceError("invalid", _("The file is larger than 1 MB."))
    raw = file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ServiceError("invalid", _("The file is larger than 1 MB."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ServiceError("invalid", _("The file is not UTF-8 text.")) from error
    try:
        lines = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise ServiceError("invalid", _("The file is not a readable CSV file.")) from error
    numbered = [(number, row) for number, row in enumerate(lines, start=1) if any(row)]
    header = [cell.strip().lower() for cell in numbered[0][1]] if numbered else []
    if tuple(header) != COLUMNS:
        raise ServiceError(
            "invalid",
            _("The first line must be the header: %(columns)s.") % {"columns": ", ".join(COLUMNS)},
        )
    rows = numbered[1:]
    if len(rows) > MAX_ROWS:
        raise ServiceError("invalid", _("The file has more than %(max)d rows.") % {"max": MAX_ROWS})
    return rows


def _refusal_text(error: ServiceError) -> str:
    """The service's sentence, or its field errors when it names them."""
    problems = [str(p) for ps in (error.extra.get("errors") or {}).values() for p in ps]
    return " ".join(problems) if problems else str(error.detail)


def _record_row(application: Application, by: User, transfer: str, day: str) -> str:
    """One row in its own transaction; the service's refusal rolls back this row only."""
    with transaction.atomic():
        application_disburse(
            application=application, by=by, transfer_reference=transfer, transferred_on=day
        )
    return _("Recorded: transfer %(transfer)s on %(day)s.") % {"transfer": transfer, "day": day}


def transfers_record_csv(*, file: object, by: User) -> list[RowResult]:
    """Record each row of the bank's CSV as a disbursement, or refuse it with its reason."""
    rows = _read_rows(file)
    references = {row[0].strip() for _line, row in rows if row and row[0].strip()}
    found = {a.reference: a for a in applications_visible_to(by).filter(reference__in=references)}
    seen: set[str] = set()
    results = []
    for line, row in rows:
        reference = row[0].strip() if row else ""

        def refused(message: str, line: int = line, reference: str = reference) -> RowResult:
            return RowResult(line, reference, REFUSED, message)

        if len(row) != len(COLUMNS) or not reference:
            results.append(
                refused(
                    _("Malformed row: expected %(count)d columns (%(columns)s).")
                    % {"count": len(COLUMNS), "columns": ", ".join(COLUMNS)}
                )
            )
            continue
        if reference in seen:
            results.append(refused(_("Duplicate row: this reference is earlier in the file.")))
            continue
        seen.add(reference)
        application = found.get(reference)
        if application is None:
            results.append(refused(_("Unknown reference: no case has this reference.")))
            continue
        if application.status == S.DISBURSED:
            results.append(
                refused(
                    _("Already disbursed: transfer %(transfer)s on %(day)s.")
                    % {
                        "transfer": application.transfer_reference,
                        "day": application.transferred_on.isoformat()
                        if application.transferred_on
                        else "",
                    }
                )
            )
            continue
        transfer, day = row[1].strip(), row[2].strip()
        try:
            message = _record_row(application, by, transfer, day)
        except ServiceError as error:
            results.append(refused(_refusal_text(error)))
            continue
        results.append(RowResult(line, reference, RECORDED, message))
    return results
