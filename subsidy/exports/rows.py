"""The rows of the applications and items exports (API.md "Exports"): which rows a user may
see with the list's filters, their columns in the contract's order, and the text of a cell.

One place for all of it: the streamed CSV (stream.py) and the background exports read here.
"""

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy import formats
from subsidy.access import applications_visible_to
from subsidy.engine import rules
from subsidy.filters import ApplicationFilter
from subsidy.models import Application, MachineItem
from subsidy.regions import province_name, regency_name

APPLICATIONS = "applications"
ITEMS = "items"
KINDS = (APPLICATIONS, ITEMS)

# Rows read from the database per round trip: a constant amount of memory however many rows.
CHUNK_SIZE = 2000

APPLICATION_COLUMNS = (
    "reference",
    "programme_year",
    "company_name",
    "nib",
    "npwp",
    "kbli",
    "scale",
    "province",
    "province_name",
    "regency",
    "regency_name",
    "status",
    "submitted_at",
    "eligible_total",
    "computed_discount",
    "approved_amount",
    "disbursed_amount",
    "transfer_reference",
    "transferred_on",
    "case_officer",
)

ITEM_COLUMNS = (
    "reference",
    "company_name",
    "nib",
    "item_id",
    "description",
    "brand",
    "model",
    "serial_number",
    "origin",
    "supplier_name",
    "supplier_npwp",
    "invoice_number",
    "invoice_date",
    "price",
    "vat",
    "payment_method",
    "is_new",
    "installed_on",
    "rate",
    "discount",
    "findings",
)

# The list's filters an export takes: the filter set's own names (subsidy.filters).
FILTER_NAMES = tuple(ApplicationFilter.Meta.fields)

# What each export reads, in the order of its columns; province_name and regency_name are
# looked up from the codes (subsidy/regions.py), findings reduced to their codes.
APPLICATION_FIELDS = (
    "reference",
    "programme__year",
    "company__name",
    "company__nib",
    "company__npwp",
    "company__kbli",
    "scale",
    "company__province",
    "company__regency",
    "status",
    "submitted_at",
    "eligible_total",
    "computed_discount",
    "approved_amount",
    "disbursed_amount",
    "transfer_reference",
    "transferred_on",
    "case_officer__username",
)

# The item's own columns are its fields of the same name; the first three are its case's.
ITEM_FIELDS = (
    "application__reference",
    "application__company__name",
    "application__company__nib",
    "id",
    *ITEM_COLUMNS[ITEM_COLUMNS.index("item_id") + 1 :],
)

# A cell a spreadsheet would run as a formula (API.md, and tab or carriage return): shown as
# text behind a quote, by the one rule of subsidy.formats.
FORMULA_STARTS = formats.FORMULA_STARTS


def export_queryset(kind: str, user: object, params: Mapping) -> QuerySet:
    """What `user` may see of `kind`, filtered by the list's query parameters (`params`: a
    QueryDict, or a dict of the same names with a list for `status`), in the list's order.

    An invalid filter raises ServiceError "invalid" (400) with the messages of each parameter.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown export kind {kind!r}; kinds are {', '.join(KINDS)}.")
    filterset = ApplicationFilter(data=params, queryset=applications_visible_to(user))
    if not filterset.is_valid():
        raise ServiceError(
            "invalid",
            _("The data sent is not valid; see the errors for each field."),
            errors={name: [str(m) for m in errors] for name, errors in filterset.errors.items()},
        )
    applications = filterset.qs
    if kind == APPLICATIONS:
        return applications.order_by("-id")
    return MachineItem.objects.filter(application__in=applications.values("pk")).order_by(
        "-application_id", "id"
    )


def application_rows(queryset: QuerySet[Application]) -> Iterator[tuple]:
    """One tuple of plain values per application, in APPLICATION_COLUMNS' order."""
    rows = queryset.values_list(*APPLICATION_FIELDS).iterator(chunk_size=CHUNK_SIZE)
    for (
        reference,
        year,
        company_name,
        nib,
        npwp,
        kbli,
        scale,
        province,
        regency,
        status,
        submitted_at,
        *amounts,
        transfer_reference,
        transferred_on,
        case_officer,
    ) in rows:
        yield (
            reference,
            year,
            company_name,
            nib,
            npwp,
            kbli,
            scale,
            province,
            province_name(province),
            regency,
            regency_name(regency),
            status,
            _local(submitted_at),
            *amounts,
            transfer_reference,
            transferred_on,
            case_officer,
        )


def item_rows(queryset: QuerySet[MachineItem]) -> Iterator[tuple]:
    """One tuple of plain values per machine item, in ITEM_COLUMNS' order."""
    rows = queryset.values_list(*ITEM_FIELDS).iterator(chunk_size=CHUNK_SIZE)
    for *values, rate, discount, findings in rows:
        yield (
            *values,
            rules.rate_text(rate) if rate is not None else None,
            discount,
            ";".join(finding["code"] for finding in findings or ()),
        )


def _local(value: dt.datetime | None) -> dt.datetime | None:
    return timezone.localtime(value) if value is not None else None


def csv_cell(value: object) -> str:
    """The text of a cell (API.md): ISO dates and times (Asia/Jakarta), whole numbers as digits,
    true/false, empty for null, and a text that a spreadsheet would run as a formula behind a
    quote."""
    if value is None:
        return ""
    if isinstance(value, str):
        return formats.spreadsheet_safe(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        # As the API writes a timestamp (subsidy/api/common.py datetime_text).
        text = timezone.localtime(value).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:f}"
    raise TypeError(f"No CSV text for {type(value).__name__}")


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_line(values: Iterable[object]) -> str:
    """One CSV record ending in a line feed, quoted as PostgreSQL's COPY ... CSV quotes (a cell
    holding a comma, a quote, a carriage return or a line feed), so both paths write the same
    bytes."""
    cells = []
    for value in values:
        text = csv_cell(value)
        if _NEEDS_QUOTES.search(text):
            text = '"' + text.replace('"', '""') + '"'
        cells.append(text)
    return ",".join(cells) + "\n"
