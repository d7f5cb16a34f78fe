"""The public statistics (PAGES.md "Public", API.md `GET /api/v1/statistics/`).

Disbursed applications only, per programme year: companies funded, machines refunded and
Rupiah disbursed, by province, KBLI division, scale and origin. Aggregates only: no query here
reads a company's name, NIB, NPWP or bank data, and a row covering fewer than
MIN_COMPANIES companies is suppressed (its figures withheld).

Province and KBLI come from the company data copied at submission (what the refund was
computed on), so a closed year's figures do not move when a company edits its profile; the
only thing that changes them is a disbursement, which forgets the year's cached figures
(workflow.actions.application_disburse).
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    Func,
    IntegerField,
    OuterRef,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Substr

from subsidy import kbli, regions
from subsidy.models import Application, MachineItem, Programme

S = Application.Status
MIN_COMPANIES = 3
CACHE_SECONDS = 24 * 60 * 60
FIGURES = ("companies", "machines", "disbursed_amount")
TABLE_KEYS = {
    "by_province": "province",
    "by_sector": "kbli_division",
    "by_scale": "scale",
    "by_origin": "origin",
}


def _cache_key(year: int) -> str:
    return f"public-statistics:v1:{year}"


def forget(year: int) -> None:
    """Drop a year's cached figures once the transaction commits."""
    transaction.on_commit(lambda: cache.delete(_cache_key(year)))


class MulDiv(Func):
    """floor(a * b / c) of whole numbers, exact: PostgreSQL multiplies as numeric (no bigint
    overflow); elsewhere (SQLite) integers divide as integers."""

    arity = 3
    output_field = BigIntegerField()

    def as_sql(self, compiler: object, connection: object, **extra: object) -> tuple:
        sql, params = self._parts(compiler, connection)
        a, b, c = sql
        return f"(({a}) * ({b}) / NULLIF({c}, 0))", params

    def as_postgresql(self, compiler: object, connection: object, **extra: object) -> tuple:
        sql, params = self._parts(compiler, connection)
        a, b, c = sql
        return f"FLOOR(CAST({a} AS numeric) * {b} / NULLIF({c}, 0))::bigint", params

    def _parts(self, compiler: object, connection: object) -> tuple[list[str], list]:
        sql, params = [], []
        for expression in self.get_source_expressions():
            part, part_params = compiler.compile(expression)
            sql.append(part)
            params.extend(part_params)
        return sql, params


def _disbursed(programme: Programme):
    return Application.objects.filter(programme=programme, status=S.DISBURSED)


def _refunded_machines():
    """The machines of a case that carry a refund (excluded ones have discount 0)."""
    return Subquery(
        MachineItem.objects.filter(application_id=OuterRef("pk"), discount__gt=0)
        .order_by()
        .values("application_id")
        .annotate(n=Count("id"))
        .values("n"),
        output_field=IntegerField(),
    )


def _grouped(programme: Programme, key: object) -> list[dict]:
    return list(
        _disbursed(programme)
        .values(key=key)
        .annotate(
            companies=Count("company_id", distinct=True),
            machines=Coalesce(Sum(_refunded_machines()), 0),
            disbursed_amount=Coalesce(Sum("disbursed_amount"), 0),
        )
        .order_by("key")
    )


def _domestic_discount():
    return Subquery(
        MachineItem.objects.filter(application_id=OuterRef("pk"), discount__gt=0, origin="domestic")
        .order_by()
        .values("application_id")
        .annotate(total=Sum("discount"))
        .values("total"),
        output_field=BigIntegerField(),
    )


def _by_origin(programme: Programme, disbursed_total: int) -> list[dict]:
    """Machines by origin. A capped refund is shared between the origins in proportion to the
    machines' refunds (the domestic share rounded down, the rest imported), so the two rows
    add up to what was paid."""
    machines = {
        line["origin"]: line
        for line in MachineItem.objects.filter(
            application__programme=programme, application__status=S.DISBURSED, discount__gt=0
        )
        .values("origin")
        .annotate(companies=Count("application__company_id", distinct=True), machines=Count("id"))
        .order_by()
    }
    domestic = _disbursed(programme).aggregate(
        amount=Coalesce(
            Sum(
                MulDiv(
                    F("disbursed_amount"),
                    Coalesce(_domestic_discount(), 0),
                    F("eligible_total"),
                )
            ),
            0,
        )
    )["amount"]
    amounts = {"domestic": domestic, "imported": disbursed_total - domestic}
    return [
        {"key": origin, **machines[origin], "disbursed_amount": amounts[origin]}
        for origin in ("domestic", "imported")
        if origin in machines
    ]


def _compute(programme: Programme) -> dict:
    """The year's figures, without names (added per language when read)."""
    totals = _disbursed(programme).aggregate(
        companies=Count("company_id", distinct=True),
        applications=Count("id"),
        disbursed_amount=Coalesce(Sum("disbursed_amount"), 0),
    )
    totals["machines"] = MachineItem.objects.filter(
        application__programme=programme, application__status=S.DISBURSED, discount__gt=0
    ).count()
    return {
        "year": programme.year,
        **totals,
        "by_province": _grouped(programme, KT("company_snapshot__province")),
        "by_sector": _grouped(programme, Substr(KT("company_snapshot__kbli"), 1, 2)),
        "by_scale": _grouped(programme, F("scale")),
        "by_origin": _by_origin(programme, totals["disbursed_amount"]),
    }


def _suppressed(line: dict) -> dict:
    if line["companies"] < MIN_COMPANIES:
        return {"companies": None, "machines": None, "disbursed_amount": None, "suppressed": True}
    return {name: line[name] for name in FIGURES} | {"suppressed": False}


def _named(table: str, code: str) -> dict:
    if table == "by_province":
        return {"province": code, "province_name": regions.province_name(code)}
    if table == "by_sector":
        return {"kbli_division": code, "name": kbli.division_name(code)}
    return {TABLE_KEYS[table]: code}


def years() -> list[int]:
    """The programme years, newest first: one small query, never stale (a new programme is
    listed at once)."""
    return list(Programme.objects.order_by("-year").values_list("year", flat=True))


def default_year() -> int | None:
    """The newest programme year: the page and the API without ?year= show it."""
    found = years()
    return found[0] if found else None


def public_statistics(year: int) -> dict | None:
    """The year's public figures, in the active language; None when no programme has it."""
    raw = cache.get(_cache_key(year))
    if raw is None:
        programme = Programme.objects.filter(year=year).first()
        if programme is None:
            return None
        raw = _compute(programme)
        cache.set(_cache_key(year), raw, CACHE_SECONDS)
    result = {name: raw[name] for name in ("year", "companies", "applications", "machines")}
    result["disbursed_amount"] = raw["disbursed_amount"]
    for table in TABLE_KEYS:
        result[table] = [
            {**_named(table, line["key"] or ""), **_suppressed(line)} for line in raw[table]
        ]
    return result
