"""The programme reports for staff and auditors (PAGES.md "Reports and exports").

Every figure is an aggregate computed by the database, one query per table, so the page costs
the same number of queries for ten applications or a hundred thousand. Province and KBLI
division are the company's current ones, as the workbench filters read them
(filters.ApplicationFilter), so a row's count is what the filtered list shows.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, Substr, TruncMonth

from subsidy import kbli, regions
from subsidy.formats import JAKARTA
from subsidy.models import Application, AuditEntry, MachineItem, Programme

S = Application.Status


class Percentile(Aggregate):
    """The continuous percentile (linear interpolation) of a column, ignoring nulls.

    PostgreSQL has it (percentile_cont); SQLite gets the same computation as an aggregate
    function registered on its connection, so the figure is the database's on both.
    """

    function = "PERCENTILE_CONT"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: object, fraction: str, **extra: object) -> None:
        # The fraction is a literal we choose ("0.5", "0.9"), never user input.
        if fraction not in PERCENTILES:
            raise ValueError(f"unsupported percentile {fraction}")
        super().__init__(expression, fraction=fraction, **extra)

    def as_sqlite(self, compiler: object, connection: object, **extra: object) -> tuple:
        _register_sqlite_percentile(connection)
        return self.as_sql(
            compiler,
            connection,
            function=f"ikm_percentile_{PERCENTILES[self.extra['fraction']]}",
            template="%(function)s(%(expressions)s)",
            **extra,
        )


PERCENTILES = {"0.5": 50, "0.9": 90}


def percentile(values: list[int], hundredths: int) -> int | None:
    """percentile_cont of whole numbers, rounded to a whole number; None for no values."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    position = Fraction(hundredths, 100) * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    exact = ordered[low] + (ordered[high] - ordered[low]) * (position - low)
    return round(exact)


def _sqlite_aggregate(hundredths: int) -> type:
    class _Percentile:
        def __init__(self) -> None:
            self.values: list[int] = []

        def step(self, value: int | None) -> None:
            if value is not None:
                self.values.append(int(value))

        def finalize(self) -> int | None:
            return percentile(self.values, hundredths)

    return _Percentile


def _register_sqlite_percentile(connection: object) -> None:
    connection.ensure_connection()
    for hundredths in PERCENTILES.values():
        connection.connection.create_aggregate(
            f"ikm_percentile_{hundredths}", 1, _sqlite_aggregate(hundredths)
        )


@dataclass
class Row:
    """One line of a table: its key, what the reader sees, and the figures."""

    key: str
    label: str
    values: dict[str, int | None] = field(default_factory=dict)


@dataclass
class Table:
    slug: str
    columns: tuple[str, ...]
    rows: list[Row]


# Figures of every application table: how many, the refund computed, what is committed
# (approved, not yet paid) and what is disbursed, as the budget meter counts them.
AMOUNTS = {
    "applications": Count("id"),
    "computed_discount": Coalesce(Sum("computed_discount"), 0),
    "committed": Coalesce(Sum("approved_amount", filter=Q(status=S.APPROVED)), 0),
    "disbursed": Coalesce(Sum("disbursed_amount", filter=Q(status=S.DISBURSED)), 0),
}
AMOUNT_COLUMNS = tuple(AMOUNTS)

# The stages whose length is measured: every state a case waits in before an end.
STAGES = (
    S.DRAFT,
    S.SUBMITTED,
    S.UNDER_REVIEW,
    S.REVISION_REQUESTED,
    S.FIELD_VERIFICATION,
    S.RECOMMENDED,
    S.APPROVED,
)


def _rows(queryset: object, key: str, label: Callable[[str], str]) -> list[Row]:
    rows = []
    for line in queryset:
        code = line.pop(key) or ""
        rows.append(Row(code, label(code), line))
    return rows


def by_status(programme: Programme) -> Table:
    found = {
        line["status"]: line
        for line in Application.objects.filter(programme=programme)
        .values("status")
        .annotate(**AMOUNTS)
        .order_by()
    }
    zero = dict.fromkeys(AMOUNT_COLUMNS, 0)
    rows = [
        Row(status.value, str(status.label), {k: found.get(status, zero)[k] for k in AMOUNTS})
        for status in S
    ]
    return Table("status", AMOUNT_COLUMNS, rows)


def by_province(programme: Programme) -> Table:
    query = (
        Application.objects.filter(programme=programme)
        .values(province=F("company__province"))
        .annotate(**AMOUNTS)
        .order_by("province")
    )
    return Table("province", AMOUNT_COLUMNS, _rows(query, "province", regions.province_name))


def by_kbli_division(programme: Programme) -> Table:
    query = (
        Application.objects.filter(programme=programme)
        .values(division=Substr("company__kbli", 1, 2))
        .annotate(**AMOUNTS)
        .order_by("division")
    )
    return Table("kbli", AMOUNT_COLUMNS, _rows(query, "division", kbli.division_name))


def by_scale(programme: Programme) -> Table:
    labels = dict(Application._meta.get_field("scale").choices)
    query = (
        Application.objects.filter(programme=programme)
        .values("scale")
        .annotate(**AMOUNTS)
        .order_by("scale")
    )
    return Table("scale", AMOUNT_COLUMNS, _rows(query, "scale", lambda c: str(labels.get(c, ""))))


def by_origin(programme: Programme) -> Table:
    """Machines by where they were made: how many, their price and refund. (No count of
    applications: a distinct count over every item sorts them all, seconds at 300,000.)"""
    labels = dict(MachineItem._meta.get_field("origin").choices)
    query = (
        MachineItem.objects.filter(application__programme=programme)
        .values("origin")
        .annotate(
            machines=Count("id"),
            price=Coalesce(Sum("price"), 0),
            discount=Coalesce(Sum("discount"), 0),
        )
        .order_by("origin")
    )
    columns = ("machines", "price", "discount")
    return Table("origin", columns, _rows(query, "origin", lambda c: str(labels.get(c, ""))))


def _month_key(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(JAKARTA)
    return f"{value.year:04d}-{value.month:02d}"


def by_month(programme: Programme) -> Table:
    """Applications by the month (Asia/Jakarta) of their first submission; drafts have none."""
    query = (
        Application.objects.filter(programme=programme, submitted_at__isnull=False)
        .values(month=TruncMonth("submitted_at", tzinfo=JAKARTA))
        .annotate(**AMOUNTS)
        .order_by("month")
    )
    rows = []
    for line in query:
        month = _month_key(line.pop("month"))
        rows.append(Row(month, month, line))
    return Table("month", AMOUNT_COLUMNS, rows)


def _approved_at() -> Subquery:
    """When the case was last approved, from its transition history."""
    return Subquery(
        AuditEntry.objects.filter(
            application_id=OuterRef("pk"), object_type="application", action="approve"
        )
        .order_by("-seq")
        .values("at")[:1]
    )


def budget_over_time(programme: Programme) -> Table:
    """Committed and disbursed at the end of each month, of the cases holding budget today.

    A case is committed from the month of its approval (its history; seeded data without one
    falls back to its last change) and disbursed from the month of its transfer.
    """
    holding = Application.objects.filter(programme=programme, status__in=[S.APPROVED, S.DISBURSED])
    approvals = (
        holding.annotate(approved_at=Coalesce(_approved_at(), F("status_changed_at")))
        .values(month=TruncMonth("approved_at", tzinfo=JAKARTA))
        .annotate(amount=Coalesce(Sum("approved_amount"), 0))
        .order_by("month")
    )
    transfers = (
        holding.filter(status=S.DISBURSED)
        .values(month=TruncMonth("transferred_on"))
        .annotate(amount=Coalesce(Sum("disbursed_amount"), 0))
        .order_by("month")
    )
    approved: dict[str, int] = {}
    for line in approvals:
        key = _month_key(line["month"])
        approved[key] = approved.get(key, 0) + line["amount"]
    paid: dict[str, int] = {}
    for line in transfers:
        key = _month_key(line["month"])
        paid[key] = paid.get(key, 0) + line["amount"]
    rows, total_approved, total_paid = [], 0, 0
    for month in sorted(approved.keys() | paid.keys()):
        total_approved += approved.get(month, 0)
        total_paid += paid.get(month, 0)
        values = {
            "committed": total_approved - total_paid,
            "disbursed": total_paid,
            "available": programme.budget - total_approved,
        }
        rows.append(Row(month, month, values))
    return Table("budget", ("committed", "disbursed", "available"), rows)


def _stay_length() -> ExpressionWrapper:
    """From entering a state to the next transition of the same case (null while still in it)."""
    left_at = Subquery(
        AuditEntry.objects.filter(
            application_id=OuterRef("application_id"),
            object_type="application",
            seq__gt=OuterRef("seq"),
        )
        .exclude(to_status="")
        .order_by("seq")
        .values("at")[:1]
    )
    return ExpressionWrapper(left_at - F("at"), output_field=DurationField())


def stage_days(programme: Programme) -> Table:
    """Days spent in each state, from the transition history: stays that have ended only."""
    entries = AuditEntry.objects.filter(
        object_type="application",
        application_id__in=Application.objects.filter(programme=programme).values("pk"),
        to_status__in=STAGES,
    )
    found = {
        line["to_status"]: line
        for line in entries.values("to_status")
        .annotate(
            stays=Count(_stay_length()),
            median=Percentile(_stay_length(), "0.5", output_field=DurationField()),
            p90=Percentile(_stay_length(), "0.9", output_field=DurationField()),
        )
        .order_by()
    }
    rows = []
    for stage in STAGES:
        line = found.get(stage, {})
        rows.append(
            Row(
                stage.value,
                str(stage.label),
                {
                    "stays": line.get("stays", 0),
                    "median_days": _tenths_of_days(line.get("median")),
                    "p90_days": _tenths_of_days(line.get("p90")),
                },
            )
        )
    return Table("stages", ("stays", "median_days", "p90_days"), rows)


def _tenths_of_days(length: dt.timedelta | None) -> int | None:
    """A length in tenths of a day (whole numbers: the page shows 2.5 days as 2,5)."""
    if length is None:
        return None
    microseconds = length // dt.timedelta(microseconds=1)
    return round(Fraction(microseconds, 8_640_000_000))


TABLES = {
    "status": by_status,
    "province": by_province,
    "kbli": by_kbli_division,
    "scale": by_scale,
    "origin": by_origin,
    "month": by_month,
    "budget": budget_over_time,
    "stages": stage_days,
}


def programme_report(programme: Programme) -> dict[str, Table]:
    """Every table of the report, in the page's order."""
    return {slug: build(programme) for slug, build in TABLES.items()}
