"""GET /api/v1/exports/applications.csv and items.csv: every row the caller may see, with
the list's filters, streamed (API.md "Exports").

On PostgreSQL the rows come out of `COPY (SELECT ...) TO STDOUT (FORMAT csv)`: the filtered
query of rows.py, compiled by Django, wrapped in a SELECT that writes each cell exactly as
rows.csv_cell does (dates, true/false, the quote before a formula). Elsewhere (SQLite) the
same query is read in chunks and written by rows.csv_line. Both write the same bytes
(tests/subsidy/test_exports_csv.py compares them), and neither holds more than a chunk.
"""

import json
import logging
from collections.abc import Iterator

from django.db import connections
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request

from config.api import error_responses
from config.errors import ServiceError
from subsidy import access
from subsidy.exports import rows
from subsidy.filters import ApplicationFilter
from subsidy.models import Application
from subsidy.regions import provinces, regency_names

logger = logging.getLogger(__name__)

BOM = "\ufeff".encode()
# Bytes gathered before a chunk is handed to the server: few writes, little memory.
CHUNK_BYTES = 64 * 1024

# How each column of the export is written in SQL, in rows.py's order of fields.
TEXT, NUMBER, TIMESTAMP, DATE, BOOLEAN, RATE, FINDINGS = (
    "text",
    "number",
    "timestamp",
    "date",
    "boolean",
    "rate",
    "findings",
)
APPLICATION_SQL_KINDS = (
    TEXT,  # reference
    NUMBER,  # programme__year
    TEXT,  # company__name
    TEXT,  # company__nib
    TEXT,  # company__npwp
    TEXT,  # company__kbli
    TEXT,  # scale
    TEXT,  # company__province
    TEXT,  # company__regency
    TEXT,  # status
    TIMESTAMP,  # submitted_at
    NUMBER,  # eligible_total
    NUMBER,  # computed_discount
    NUMBER,  # approved_amount
    NUMBER,  # disbursed_amount
    TEXT,  # transfer_reference
    DATE,  # transferred_on
    TEXT,  # case_officer__username
)
ITEM_SQL_KINDS = (
    TEXT,  # application__reference
    TEXT,  # application__company__name
    TEXT,  # application__company__nib
    NUMBER,  # id
    TEXT,  # description
    TEXT,  # brand
    TEXT,  # model
    TEXT,  # serial_number
    TEXT,  # origin
    TEXT,  # supplier_name
    TEXT,  # supplier_npwp
    TEXT,  # invoice_number
    DATE,  # invoice_date
    NUMBER,  # price
    NUMBER,  # vat
    TEXT,  # payment_method
    BOOLEAN,  # is_new
    DATE,  # installed_on
    RATE,  # rate
    NUMBER,  # discount
    FINDINGS,  # findings
)


def _guarded(sql: str) -> str:
    """rows.csv_cell's text: empty for null or "", a quote before a formula's first sign."""
    starts = ", ".join(f"'{sign}'" for sign in rows.FORMULA_STARTS)
    return f"CASE WHEN left({sql}, 1) IN ({starts}) THEN '''' || {sql} ELSE NULLIF({sql}, '') END"


def _cell_sql(kind: str, column: str) -> str:
    """The SQL writing one column as rows.csv_cell writes its value (NULL is an empty cell)."""
    if kind == TEXT:
        return _guarded(column)
    if kind == NUMBER:
        return column
    if kind == DATE:
        return f"to_char({column}, 'YYYY-MM-DD')"
    if kind == BOOLEAN:
        return f"CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    if kind == RATE:
        return f"{column}::text"
    if kind == FINDINGS:
        # `column` is an alias of copy_select, not input.
        elements = f"jsonb_array_elements({column}) WITH ORDINALITY AS f(finding, n)"
        codes = f"(SELECT string_agg(f.finding ->> 'code', ';' ORDER BY f.n) FROM {elements})"  # noqa: S608
        return _guarded(codes)
    if kind == TIMESTAMP:
        # As datetime.isoformat() in the current time zone: microseconds only when not zero,
        # the offset as +HH:MM, and Z for UTC (rows.csv_cell, api.common.datetime_text).
        local = f"({column} AT TIME ZONE %s)"
        offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
        return (
            f"CASE WHEN {column} IS NOT NULL THEN "
            f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
            f"|| COALESCE(NULLIF(to_char({local}, '.US'), '.000000'), '') "
            f"|| CASE WHEN {offset} = interval '0' THEN 'Z' "
            f"WHEN {offset} > interval '0' THEN '+' || to_char({offset}, 'HH24:MI') "
            f"ELSE '-' || to_char(-{offset}, 'HH24:MI') END END"
        )
    raise ValueError(f"No SQL for a {kind} column")


def copy_select(kind: str, queryset: QuerySet, *, using: str = "default") -> tuple[str, list]:
    """The SELECT (and its parameters) that COPY writes: the export's filtered query, compiled
    by Django, wrapped so that each column is the text of its cell."""
    fields, kinds = (
        (rows.APPLICATION_FIELDS, APPLICATION_SQL_KINDS)
        if kind == rows.APPLICATIONS
        else (rows.ITEM_FIELDS, ITEM_SQL_KINDS)
    )
    inner, inner_params = queryset.values_list(*fields).query.get_compiler(using=using).as_sql()
    names = [f"c{number}" for number in range(len(fields))]
    tz = timezone.get_current_timezone_name()
    cells, params = [], []
    for number, (sql_kind, name) in enumerate(zip(kinds, names, strict=True)):
        column = f"q.{name}"
        cells.append(_cell_sql(sql_kind, column))
        params += [tz] * _cell_sql(sql_kind, column).count("%s")
        if kind == rows.APPLICATIONS and fields[number] == "company__province":
            cells.append(_guarded(f"(%s::jsonb ->> {column})"))
            params.append(json.dumps({code: p.name for code, p in provinces().items()}))
        if kind == rows.APPLICATIONS and fields[number] == "company__regency":
            cells.append(_guarded(f"(%s::jsonb ->> {column})"))
            params.append(json.dumps(regency_names()))
    # The ORDER BY of the inner query keeps it a subquery of its own (not pulled up), so its
    # order is the order of the rows written.
    # Built from the model's fields and Django's compiled SQL; the values are parameters.
    sql = f"SELECT {', '.join(cells)} FROM ({inner}) AS q({', '.join(names)})"  # noqa: S608
    # The parameters in the order their placeholders appear: the cells', then the inner's.
    return sql, [*params, *inner_params]


def _header(kind: str) -> bytes:
    columns = rows.APPLICATION_COLUMNS if kind == rows.APPLICATIONS else rows.ITEM_COLUMNS
    return BOM + (",".join(columns) + "\n").encode()


def _python_lines(kind: str, queryset: QuerySet) -> Iterator[bytes]:
    source = rows.application_rows if kind == rows.APPLICATIONS else rows.item_rows
    buffer: list[str] = []
    size = 0
    for row in source(queryset):
        line = rows.csv_line(row)
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


def _copy_lines(kind: str, queryset: QuerySet) -> Iterator[bytes]:
    using = queryset.db
    sql, params = copy_select(kind, queryset, using=using)
    with connections[using].cursor() as cursor:
        # Django's cursor merges parameters on the client, which COPY needs (it takes none).
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            buffer = bytearray()
            for data in copy:
                buffer += data
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer)
                    buffer.clear()
            if buffer:
                yield bytes(buffer)


def uses_copy(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def csv_chunks(kind: str, queryset: QuerySet, *, copy: bool | None = None) -> Iterator[bytes]:
    """The CSV file of `queryset` (from rows.export_queryset) in chunks: the BOM and header
    first; COPY on PostgreSQL unless `copy` says otherwise."""
    yield _header(kind)
    if copy is None:
        copy = uses_copy(queryset)
    yield from (_copy_lines if copy else _python_lines)(kind, queryset)


class _ErrorsAsJson(BaseContentNegotiation):
    """The file whatever the Accept header; a refusal in the API's JSON error body."""

    def select_parser(self, request: Request, parsers: list) -> object:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: list, format_suffix: str = "") -> tuple:
        return renderers[0], renderers[0].media_type


def _schema(kind: str, description: str) -> object:
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"exports_{kind}_csv",
            summary=f"Every {kind[:-1]} the caller may see, as CSV",
            description=description,
            filters=True,
            responses={
                (200, "text/csv"): OpenApiResponse(
                    OpenApiTypes.BINARY,
                    description="UTF-8 with a BOM, a header row, then one row per "
                    f'{kind[:-1]} (API.md "Exports"); streamed, not paginated.',
                ),
                **error_responses(400, 401, 403),
            },
        )
    )


class _CsvExportApi(GenericAPIView):
    """Staff and auditors only; the list's filters (the same parameters and their 400s)."""

    kind = rows.APPLICATIONS
    content_negotiation_class = _ErrorsAsJson
    pagination_class = None
    # Read by the schema, which lists the filters; the view filters through
    # rows.export_queryset, as the background exports do.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApplicationFilter
    queryset = Application.objects.none()

    def get(self, request: Request) -> StreamingHttpResponse:
        if not access.sees_everything(request.user):
            raise ServiceError("forbidden", _("Only programme staff and auditors may export."))
        queryset = rows.export_queryset(self.kind, request.user, request.query_params)
        logger.info(
            "CSV export of %s by user %s, filters %s",
            self.kind,
            request.user.pk,
            request.query_params.urlencode(),
        )
        response = StreamingHttpResponse(
            csv_chunks(self.kind, queryset), content_type="text/csv; charset=utf-8"
        )
        day = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="{self.kind}-{day}.csv"'
        return response


@_schema(
    rows.APPLICATIONS,
    "Columns, in this order: " + ", ".join(rows.APPLICATION_COLUMNS) + ".",
)
class ApplicationsCsvApi(_CsvExportApi):
    kind = rows.APPLICATIONS


@_schema(
    rows.ITEMS,
    "Columns, in this order: "
    + ", ".join(rows.ITEM_COLUMNS)
    + " (findings: the codes joined by ;). The filters select the applications.",
)
class ItemsCsvApi(_CsvExportApi):
    kind = rows.ITEMS
