"""GET /api/v1/exports/applications.csv and items.csv: every row the caller may see, with
the list's filters, streamed (API.md "Exports").

On PostgreSQL the rows come out of `COPY (SELECT ...) TO STDOUT (FORMAT csv)`: the filtered
query of rows.py, compiled by Django, wrapped in a SELECT that writes each cell exactly as
rows.csv_cell does (dates, true/false, the quote before a formula). Elsewhere (SQLite) the
same query is read in chunks and written by rows.csv_line. Both write the same bytes
(tests/subsidy/test_exports_csv.py compares them), and neither holds more than a chunk.
"""

import hashlib
import json
import logging
from collections.abc import Iterator

from django.db import connections, transaction
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
from subsidy.exports import records, rows
from subsidy.filters import ApplicationFilter
from subsidy.models import Application, Export
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


# The code points of rows.FORMULA_STARTS: ascii() of a text is cheaper than left(text, 1).
_FORMULA_CODES = ", ".join(str(ord(sign)) for sign in rows.FORMULA_STARTS)


def _guarded(sql: str) -> str:
    """rows.csv_cell's text: empty for null or "", a quote before a formula's first sign."""
    return (
        f"CASE WHEN ascii({sql}) IN ({_FORMULA_CODES}) THEN '''' || {sql} "
        f"ELSE NULLIF({sql}, '') END"
    )


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
        # As datetime.isoformat() in the session's time zone, which _copy_lines sets to the
        # current one: microseconds only when not zero, the offset as +HH:MM, and Z for UTC
        # (rows.csv_cell, api.common.datetime_text). One to_char a row: the cheapest way.
        text = f"to_char({column}, 'YYYY-MM-DD\"T\"HH24:MI:SS.USTZH:TZM')"
        return f"replace(replace({text}, '.000000', ''), '+00:00', 'Z')"
    raise ValueError(f"No SQL for a {kind} column")


SET_TIME_ZONE = "SELECT set_config('TimeZone', %s, true)"


def copy_select(kind: str, queryset: QuerySet, *, using: str = "default") -> tuple[str, list]:
    """The SELECT (and its parameters) that COPY writes: the export's filtered query, compiled
    by Django, wrapped so that each column is the text of its cell (times in the session's
    time zone: SET_TIME_ZONE first)."""
    fields, kinds = (
        (rows.APPLICATION_FIELDS, APPLICATION_SQL_KINDS)
        if kind == rows.APPLICATIONS
        else (rows.ITEM_FIELDS, ITEM_SQL_KINDS)
    )
    inner, inner_params = queryset.values_list(*fields).query.get_compiler(using=using).as_sql()
    names = [f"c{number}" for number in range(len(fields))]
    # Each region's name as its cell (rows.csv_cell), looked up in a JSON object by its code:
    # a missing or empty name is null, an empty cell.
    names_of = {
        "company__province": {code: p.name for code, p in provinces().items()},
        "company__regency": regency_names(),
    }
    cells, params = [], []
    for field, sql_kind, name in zip(fields, kinds, names, strict=True):
        cells.append(_cell_sql(sql_kind, f"q.{name}"))
        if kind == rows.APPLICATIONS and field in names_of:
            cells.append(f"(%s::jsonb ->> q.{name})")
            texts = {code: rows.csv_cell(text) for code, text in names_of[field].items() if text}
            params.append(json.dumps(texts))
    # The ORDER BY of the inner query keeps it a subquery of its own (not pulled up), so its
    # order is the order of the rows written.
    # Built from the model's fields and Django's compiled SQL; the values are parameters.
    sql = f"SELECT {', '.join(cells)} FROM ({inner}) AS q({', '.join(names)})"  # noqa: S608
    # The parameters in the order their placeholders appear: the cells', then the inner's.
    return sql, [*params, *inner_params]


def _header(kind: str) -> bytes:
    columns = rows.APPLICATION_COLUMNS if kind == rows.APPLICATIONS else rows.ITEM_COLUMNS
    return BOM + (",".join(columns) + "\n").encode()


def _python_lines(kind: str, queryset: QuerySet) -> Iterator[tuple[bytes, int]]:
    source = rows.application_rows if kind == rows.APPLICATIONS else rows.item_rows
    buffer: list[str] = []
    size = 0
    for row in source(queryset):
        line = rows.csv_line(row)
        buffer.append(line)
        size += len(line)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode(), len(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode(), len(buffer)


def _copy_lines(kind: str, queryset: QuerySet) -> Iterator[tuple[bytes, int]]:
    using = queryset.db
    sql, params = copy_select(kind, queryset, using=using)
    # In a transaction (or a savepoint) of its own: a download stopped halfway cancels the
    # COPY, and only this block is rolled back, not the caller's transaction.
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        # Times are written in the current time zone (SET LOCAL: undone with the block if it
        # fails, put back below if not, since Django reads times in its own session zone).
        cursor.execute(SET_TIME_ZONE, [timezone.get_current_timezone_name()])
        # Django's cursor merges parameters on the client, which COPY needs (it takes none).
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            buffer = bytearray()
            count = 0
            for data in copy:  # one row per message
                buffer += data
                count += 1
                if len(buffer) >= CHUNK_BYTES:
                    yield bytes(buffer), count
                    buffer.clear()
                    count = 0
        cursor.execute(SET_TIME_ZONE, [connection.timezone_name])
    if buffer:
        yield bytes(buffer), count


def uses_copy(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


class CsvFile:
    """The CSV file of `queryset` (from rows.export_queryset) in chunks of bytes: the BOM and
    header first, then the rows, by COPY on PostgreSQL unless `copy` says otherwise. Counts
    the rows and hashes the bytes as they go (what an export's record keeps)."""

    def __init__(self, kind: str, queryset: QuerySet, *, copy: bool | None = None) -> None:
        self.kind = kind
        self.queryset = queryset
        self.copy = uses_copy(queryset) if copy is None else copy
        self.rows = 0
        self.size = 0
        self._hash = hashlib.sha256()

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def __iter__(self) -> Iterator[bytes]:
        lines = _copy_lines if self.copy else _python_lines
        yield self._counted(_header(self.kind), 0)
        for chunk, count in lines(self.kind, self.queryset):
            yield self._counted(chunk, count)

    def _counted(self, chunk: bytes, count: int) -> bytes:
        self.rows += count
        self.size += len(chunk)
        self._hash.update(chunk)
        return chunk


def csv_chunks(kind: str, queryset: QuerySet, *, copy: bool | None = None) -> Iterator[bytes]:
    """The CSV file of `queryset` in chunks (CsvFile, when its count and hash are not needed)."""
    return iter(CsvFile(kind, queryset, copy=copy))


def _recorded(file: CsvFile, export: Export) -> Iterator[bytes]:
    """The file, then its record finished (rows, bytes, SHA-256; or cut short) and a log line."""
    complete = False
    try:
        yield from file
        complete = True
    finally:
        records.stream_finished(
            export, rows=file.rows, size=file.size, sha256=file.sha256, complete=complete
        )
        logger.info(
            "CSV export #%s of %s by user %s: %s rows, %s bytes, SHA-256 %s%s",
            export.pk,
            file.kind,
            export.created_by_id,
            file.rows,
            file.size,
            file.sha256,
            "" if complete else " (stopped before the end)",
        )


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
        export = records.stream_started(by=request.user, kind=self.kind, query=request.query_params)
        response = StreamingHttpResponse(
            _recorded(CsvFile(self.kind, queryset), export),
            content_type="text/csv; charset=utf-8",
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
