"""The refund engine around the pure rules: gather facts in bulk, compute, store if still current.

Results are stored only when the application's `data_version` is the one that was read,
so a computation that raced a newer change leaves the newer change's job to write.
Every step works on a chunk of applications with a fixed number of statements, so a
programme of any size costs a number of queries proportional to its chunks, not its rows.
"""

import datetime as dt
import gc
import json
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import OperationalError, connection, connections
from django.db.models import Count, Q
from django.utils import timezone

from subsidy.engine import rules, store
from subsidy.models import Application, MachineItem, Programme

CHUNK = 1000


# Compact JSON: the stored results are read by machines and auditors' tools, not by eye, and
# every byte is parsed again by PostgreSQL in the store.
_to_json = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False).encode


# Waits before computing again the applications whose rows another transaction held.
BUSY_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8)


class ComputationBusy(Exception):
    """Applications stayed locked by other transactions through every retry; the job retries."""


_APP_FIELDS = (
    "id",
    "programme_id",
    "company_id",
    "status",
    "submitted_at",
    "data_version",
    "company_snapshot",
    "company__workers",
    "company__investment_value",
    "company__kbli",
)


_ITEM_FIELDS = (
    "id",
    "application_id",
    "price",
    "origin",
    "invoice_date",
    "is_new",
    "installed_on",
    "payment_method",
    "invoice_key",
    "serial_key",
)


def _company_facts(app: dict) -> dict:
    return rules.company_facts_in_force(
        editable=app["status"] in Application.EDITABLE_STATUSES,
        snapshot=app["company_snapshot"],
        live={
            "workers": app["company__workers"],
            "investment_value": app["company__investment_value"],
            "kbli": app["company__kbli"],
        },
    )


def contested_keys() -> tuple[frozenset[str], frozenset[str]]:
    """Invoice and serial keys held by more than one live item, in one pass over the items.

    A programme's recompute asks for rivals only of these: a key no other live item holds
    cannot be lost. An item added meanwhile marks its rivals stale, so a write this run makes
    for them is refused by the version check and their own job recomputes them.
    """
    live = MachineItem.objects.exclude(application__status__in=Application.ENDED_STATUSES)

    def held_twice(field: str) -> frozenset[str]:
        return frozenset(
            live.exclude(**{field: ""})
            .values(field)
            .annotate(holders=Count("id"))
            .filter(holders__gt=1)
            .values_list(field, flat=True)
        )

    return held_twice("invoice_key"), held_twice("serial_key")


def _lost_claims(
    items: Sequence[dict],
    apps: dict[int, dict],
    contested: tuple[frozenset[str], frozenset[str]] | None = None,
) -> dict[int, frozenset[str]]:
    """Resolve each item's invoice and serial claims against every live item that shares them."""
    invoice_keys = {i["invoice_key"] for i in items if i["invoice_key"]}
    serial_keys = {i["serial_key"] for i in items if i["serial_key"]}
    if contested is not None:
        invoice_keys &= contested[0]
        serial_keys &= contested[1]
    claims = [
        rules.Claim(
            item_id=i["id"],
            application_id=i["application_id"],
            submitted_at=apps[i["application_id"]]["submitted_at"],
            invoice_key=i["invoice_key"],
            serial_key=i["serial_key"],
        )
        for i in items
    ]
    if invoice_keys or serial_keys:
        rivals = (
            MachineItem.objects.filter(
                Q(invoice_key__in=invoice_keys) | Q(serial_key__in=serial_keys)
            )
            .exclude(application_id__in=list(apps))
            .exclude(application__status__in=Application.ENDED_STATUSES)
            .values_list(
                "id", "application_id", "application__submitted_at", "invoice_key", "serial_key"
            )
        )
        claims.extend(
            rules.Claim(
                item_id=pk,
                application_id=app_id,
                submitted_at=submitted_at,
                # Only the keys this batch shares matter; others would only add noise.
                invoice_key=inv if inv in invoice_keys else "",
                serial_key=ser if ser in serial_keys else "",
            )
            for pk, app_id, submitted_at, inv, ser in rivals
        )
    return rules.resolve_claims(claims)


def _earlier_participations(apps: dict[int, dict]) -> dict[tuple[int, int], int]:
    """Disbursed applications of each company in programmes of earlier years."""
    programme_years = dict(
        Programme.objects.filter(pk__in={a["programme_id"] for a in apps.values()}).values_list(
            "pk", "year"
        )
    )
    rows = (
        Application.objects.filter(
            company_id__in={a["company_id"] for a in apps.values()},
            status=Application.Status.DISBURSED,
        )
        .values("company_id", "programme__year")
        .annotate(n=Count("id"))
    )
    by_company: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for row in rows:
        by_company[row["company_id"]].append((row["programme__year"], row["n"]))
    result = {}
    for app in apps.values():
        year = programme_years[app["programme_id"]]
        key = (app["company_id"], app["programme_id"])
        result[key] = sum(n for y, n in by_company.get(app["company_id"], ()) if y < year)
    return result


def _finding_json(finding: rules.Finding) -> dict:
    return {"code": finding.code, "item": finding.item, "params": dict(finding.params)}


def compute_applications(application_ids: Iterable[int]) -> int:
    """Compute and store the results of open applications; returns how many were stored."""
    ids = sorted(set(application_ids))
    stored = 0
    for start in range(0, len(ids), CHUNK):
        stored += _compute_ids(ids[start : start + CHUNK])
    return stored


def compute_stale(application_ids: Iterable[int]) -> int:
    """Compute those of these applications whose results are still stale (a chunk job of a
    recompute, queued again or delivered twice: what another run stored is not done again)."""
    ids = sorted(
        Application.objects.filter(
            pk__in=sorted(set(application_ids)),
            status__in=Application.OPEN_STATUSES,
            computed_at__isnull=True,
        ).values_list("pk", flat=True)
    )
    return compute_applications(ids)


def _compute_ids(
    ids: list[int], contested: tuple[frozenset[str], frozenset[str]] | None = None
) -> int:
    """One chunk; those whose rows were held by another transaction are read and computed again."""
    stored, busy = _compute_chunk(ids, contested)
    return _settle(stored, busy, contested)


def _settle(
    stored: int, busy: set[int], contested: tuple[frozenset[str], frozenset[str]] | None
) -> int:
    """Read, compute and store again the applications whose rows another transaction held."""
    for delay in BUSY_RETRY_DELAYS:
        if not busy:
            return stored
        time.sleep(delay)
        more, busy = _compute_chunk(sorted(busy), contested)
        stored += more
    if busy:
        raise ComputationBusy(sorted(busy))
    return stored


def _compute_chunk(
    ids: list[int], contested: tuple[frozenset[str], frozenset[str]] | None = None
) -> tuple[int, set[int]]:
    """Compute a chunk of applications: (how many were stored, ids whose rows were busy)."""
    # A chunk's dicts survive young collections and would trigger full ones that walk the
    # whole heap; what the chunk leaves behind is freed by reference counting anyway.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _store(_prepare(ids, contested))
    finally:
        if collecting:
            gc.enable()


@dataclass(frozen=True)
class _Prepared:
    """A chunk read and computed, ready to be stored."""

    ids: frozenset[int]
    app_rows: list[tuple]
    item_rows: list[tuple]
    now: dt.datetime


def _prepare(
    ids: list[int], contested: tuple[frozenset[str], frozenset[str]] | None
) -> _Prepared | None:
    """Read a chunk's facts and compute its results (no writes)."""
    apps = {
        a["id"]: a
        for a in Application.objects.filter(
            pk__in=ids, status__in=Application.OPEN_STATUSES
        ).values(*_APP_FIELDS)
    }
    if not apps:
        return None
    terms = {
        p.pk: p.terms()
        for p in Programme.objects.filter(
            pk__in={a["programme_id"] for a in apps.values()}
        ).prefetch_related("rates")
    }
    items = list(
        MachineItem.objects.filter(application_id__in=list(apps)).order_by().values(*_ITEM_FIELDS)
    )
    lost = _lost_claims(items, apps, contested)
    participations = _earlier_participations(apps)
    items_by_app: dict[int, list[dict]] = defaultdict(list)
    for item in items:
        items_by_app[item["application_id"]].append(item)

    now = timezone.now()
    app_rows = []
    item_rows = []
    for app_id, app in apps.items():
        facts = _company_facts(app)
        result = rules.compute(
            terms[app["programme_id"]],
            rules.CompanyFacts(
                workers=facts["workers"],
                investment_value=facts["investment_value"],
                kbli=facts["kbli"],
                earlier_participations=participations[(app["company_id"], app["programme_id"])],
            ),
            [
                rules.ItemFacts(
                    id=i["id"],
                    price=i["price"],
                    origin=i["origin"],
                    invoice_date=i["invoice_date"],
                    is_new=i["is_new"],
                    installed_on=i["installed_on"],
                    payment_method=i["payment_method"],
                    lost_claims=lost.get(i["id"], frozenset()),
                )
                for i in items_by_app[app_id]
            ],
        )
        findings = [_finding_json(f) for f in result.findings]
        app_rows.append(
            (
                app_id,
                app["data_version"],
                result.scale,
                result.eligible_total,
                result.computed_discount,
                _to_json(findings),
                _to_json(result.breakdown),
            )
        )
        by_item: dict[int, list[dict]] = defaultdict(list)
        for finding in result.findings:
            if finding.item is not None:
                by_item[finding.item].append({"code": finding.code, "params": dict(finding.params)})
        for item_result in result.items:
            item_findings = by_item.get(item_result.id, [])
            item_rows.append(
                (
                    item_result.id,
                    app_id,
                    app["data_version"],
                    item_result.rate,
                    item_result.discount,
                    _to_json(item_findings),
                )
            )
    return _Prepared(frozenset(apps), app_rows, item_rows, now)


def _store(prepared: _Prepared | None) -> tuple[int, set[int]]:
    """Store a computed chunk: (how many were stored, ids whose rows another transaction held)."""
    if prepared is None:
        return 0, set()
    app_rows, item_rows, now = prepared.app_rows, prepared.item_rows, prepared.now
    try:
        return store.write(app_rows, item_rows, now)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != store.LOCK_NOT_AVAILABLE:
            raise
        return 0, set(prepared.ids)


def _id_chunks(programme_id: int) -> Iterator[list[int]]:
    base = Application.objects.filter(
        programme_id=programme_id, status__in=Application.OPEN_STATUSES
    ).order_by("id")
    last = 0
    while True:
        ids = list(base.filter(pk__gt=last).values_list("id", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


def recompute_programme(programme_id: int) -> int:
    """Recompute every open application of a programme, a chunk of applications at a time."""
    contested = contested_keys()
    chunks = _id_chunks(programme_id)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # A second connection would not see the caller's uncommitted rows.
        return sum(_compute_ids(ids, contested) for ids in chunks)
    return _recompute_pipelined(chunks, contested)


def _recompute_pipelined(
    chunks: Iterator[list[int]], contested: tuple[frozenset[str], frozenset[str]]
) -> int:
    """Read and compute chunk n+1 on a second connection while chunk n is being stored.

    Python's share of a chunk (reading rows, the rules, JSON) and PostgreSQL's (writing them)
    take about as long each; overlapping them nearly halves a programme's recompute. Two
    chunks at most are held at a time, so memory stays flat.
    """
    stored = 0
    collecting = gc.isenabled()
    gc.disable()  # as in _compute_chunk; collected once per few chunks below
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="recompute") as reader:
            try:
                pending = None
                for number, ids in enumerate(chunks):
                    following = reader.submit(_prepare, ids, contested)
                    if pending is not None:
                        stored += _settle(*_store(pending.result()), contested)
                    pending = following
                    if number % 20 == 19:
                        gc.collect()
                if pending is not None:
                    stored += _settle(*_store(pending.result()), contested)
            finally:
                # The reader thread's own database connection.
                reader.submit(connections.close_all).result()
    finally:
        if collecting:
            gc.enable()
    return stored
