"""Signals for officers (DOMAIN.md): leads, not findings.

The same file (SHA-256) in another company's case, once per file, and an invoice or serial
that lost its claim, naming the case that keeps it. They are read here, on demand, and never
stored: they change no amount, block nothing and make no other case stale.
"""

from functools import reduce
from operator import or_

from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
)

from subsidy.engine import rules
from subsidy.models import (
    Application,
    Document,
    MachineItem,
)

DUPLICATE_DOCUMENT = "duplicate_document"


LOST_CLAIM = "lost_claim"


SIGNAL_KINDS = (DUPLICATE_DOCUMENT, LOST_CLAIM)


def _copies_elsewhere(sha256: object, company_id: object) -> QuerySet[Document]:
    """The same file (SHA-256) in an application of another company, whatever its state."""
    return Document.objects.filter(sha256=sha256).exclude(application__company_id=company_id)


def _shared_documents() -> QuerySet[Document]:
    """Documents whose file another company's application also holds."""
    return Document.objects.filter(
        Exists(_copies_elsewhere(OuterRef("sha256"), OuterRef("application__company_id")))
    )


class _HoldsFindingCode(Func):
    """True when a JSON list of findings holds one with one of these codes (SQLite, PostgreSQL)."""

    output_field = BooleanField()

    def __init__(self, field: str, codes: tuple[str, ...]) -> None:
        super().__init__(F(field))
        self.codes = codes

    def _exists(self, compiler: object, connection: object, elements: str, code: str) -> tuple:
        column, params = compiler.compile(self.source_expressions[0])
        marks = ", ".join(["%s"] * len(self.codes))
        # Only the compiled column and fixed SQL are spliced in; the codes are parameters.
        sql = f"EXISTS (SELECT 1 FROM {elements % column} WHERE {code} IN ({marks}))"  # noqa: S608
        return sql, (*params, *self.codes)

    def as_sqlite(self, compiler: object, connection: object, **extra: object) -> tuple:
        return self._exists(compiler, connection, "json_each(%s)", "json_extract(value, '$.code')")

    def as_postgresql(self, compiler: object, connection: object, **extra: object) -> tuple:
        return self._exists(
            compiler, connection, "jsonb_array_elements(%s) AS finding", "finding ->> 'code'"
        )


def _items_that_lost_a_claim() -> QuerySet[MachineItem]:
    """Items the last computation excluded because another item keeps their invoice or serial."""
    return MachineItem.objects.filter(_HoldsFindingCode("findings", rules.CLAIM_CODES))


def with_signal_flag(applications: QuerySet[Application]) -> QuerySet[Application]:
    """Annotate `has_signals`: true exactly when signals_for() returns something."""
    documents = _shared_documents().filter(application_id=OuterRef("pk"))
    items = _items_that_lost_a_claim().filter(application_id=OuterRef("pk"))
    return applications.annotate(
        has_signals=ExpressionWrapper(
            Q(Exists(documents)) | Q(Exists(items)), output_field=BooleanField()
        )
    )


def _case(application_id: int, reference: str | None) -> dict:
    return {"application": application_id, "reference": reference}


def _document_signals(application: Application) -> list[dict]:
    """One signal per file (SHA-256), however many of this case's documents hold it."""
    mine: dict[str, list[int]] = {}
    for pk, sha256 in (
        _shared_documents()
        .filter(application=application)
        .order_by("id")
        .values_list("id", "sha256")
    ):
        mine.setdefault(sha256, []).append(pk)
    if not mine:
        return []
    # One query: the querysets' conditions are OR-ed together.
    copies = reduce(or_, (_copies_elsewhere(sha256, application.company_id) for sha256 in mine))
    cases: dict[str, dict[int, dict]] = {sha256: {} for sha256 in mine}
    for sha256, app_id, reference in copies.order_by("application_id").values_list(
        "sha256", "application_id", "application__reference"
    ):
        cases[sha256].setdefault(app_id, _case(app_id, reference))
    return [
        {
            "kind": DUPLICATE_DOCUMENT,
            "sha256": sha256,
            "documents": documents,
            "code": None,
            "item": None,
            "cases": list(cases[sha256].values()),
        }
        for sha256, documents in mine.items()
    ]


def _claim_signals(application: Application) -> list[dict]:
    """One signal per lost invoice or serial claim, naming the case whose item keeps it."""
    lost = list(
        _items_that_lost_a_claim()
        .filter(application=application)
        .order_by("id")
        .values_list("id", "invoice_key", "serial_key", "findings")
    )
    if not lost:
        return []
    invoice_keys = {inv for _, inv, _, _ in lost if inv}
    serial_keys = {ser for _, _, ser, _ in lost if ser}
    # The same claimants the computation ranks (computation._lost_claims): every live item
    # sharing a key, this case's own items included.
    holders = (
        MachineItem.objects.filter(Q(invoice_key__in=invoice_keys) | Q(serial_key__in=serial_keys))
        .filter(
            ~Q(application__status__in=Application.ENDED_STATUSES)
            | Q(application_id=application.pk)
        )
        .values_list(
            "id",
            "application_id",
            "application__submitted_at",
            "application__reference",
            "invoice_key",
            "serial_key",
        )
    )
    references = {}
    claims = []
    for pk, app_id, submitted_at, reference, inv, ser in holders:
        references[app_id] = reference
        claims.append(
            rules.Claim(
                item_id=pk,
                application_id=app_id,
                submitted_at=submitted_at,
                invoice_key=inv,
                serial_key=ser,
            )
        )
    winners = rules.claim_winners(claims)
    signals = []
    for pk, inv, ser, findings in lost:
        codes = {f.get("code") for f in findings}
        for code, key in ((rules.DUPLICATE_INVOICE, inv), (rules.DUPLICATE_SERIAL, ser)):
            if code not in codes:
                continue
            keeper = winners.get((code, key))
            kept_by = (
                [_case(keeper.application_id, references[keeper.application_id])]
                if keeper is not None and keeper.item_id != pk
                else []  # the stored result is older than the claims; a recompute is queued
            )
            signals.append(
                {
                    "kind": LOST_CLAIM,
                    "sha256": None,
                    "documents": [],
                    "code": code,
                    "item": pk,
                    "cases": kept_by,
                }
            )
    return signals


def signals_for(application: Application) -> list[dict]:
    """The signals for officers on one case: shared files, then lost claims (staff only)."""
    return [*_document_signals(application), *_claim_signals(application)]
