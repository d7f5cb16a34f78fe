"""The refund engine around the pure rules: gather facts in bulk, compute, store if still current.

Results are stored only when the application's `data_version` is the one that was read,
so a computation that raced a newer change leaves the newer change's job to write.
Every step works on a chunk of applications with a fixed number of statements, so a
programme of any size costs a number of queries proportional to its chunks, not its rows.
"""

import datetime as dt
import gc
import json
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.db import OperationalError, connection, connections, transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from . import rules
from .models import Application, Document, MachineItem, Programme

CHUNK = 1000
# Compact JSON: the stored results are read by machines and auditors' tools, not by eye, and
# every byte is parsed again by PostgreSQL in the store.
_to_json = json.JSONEncoder(separators=(",", ":"), default=str, ensure_ascii=False).encode
# Waits before computing again the applications whose rows another transaction held.
BUSY_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8)
# How long a store waits for application rows that another transaction holds (PostgreSQL).
# Services lock their application and its known rivals in id order, but may find and mark
# another rival afterwards, out of order; a store waiting on one of their rows while holding
# others could then close a cycle. Giving up well before PostgreSQL looks for deadlocks
# (deadlock_timeout, 1 s by default) means the store, never a user's request, is the one
# that yields; it is read and computed again (_compute_ids), then retried by Celery.
STORE_LOCK_TIMEOUT = "400ms"
_LOCK_NOT_AVAILABLE = "55P03"


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


def lock_in_order(query: QuerySet) -> QuerySet:
    """Lock the applications of `query` in id order (inside a transaction); return the query.

    A plain UPDATE locks rows in whatever order its plan visits them; two transactions
    marking overlapping sets could then each wait for the other. Rows taken in id order by
    everyone who locks several applications cannot form such a cycle.
    """
    # Evaluated for its locks; the query itself is returned, not a list of ids, so a
    # programme of any size stays one UPDATE without a parameter per row.
    list(query.select_for_update().order_by("pk").values_list("pk", flat=True))
    return query


def lock_claim_keys(*, invoice_keys: Iterable[str], serial_keys: Iterable[str]) -> None:
    """Serialise transactions that claim the same invoice or serial (PostgreSQL).

    Two applicants adding the same invoice at the same moment would each look for rivals
    before the other committed, and neither would mark the other's application stale. A
    transaction-scoped advisory lock per key, taken first and in sorted order (before any row
    lock), makes the second wait and then see the first's item.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers already.
    names = sorted(
        {f"invoice:{k}" for k in invoice_keys if k} | {f"serial:{k}" for k in serial_keys if k}
    )
    if names:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(name, 0)) "
                "FROM unnest(%s::text[]) AS name ORDER BY name",
                [names],
            )


def mark_stale(application_ids: Iterable[int]) -> list[int]:
    """Mark open applications' results stale and enqueue their computation after commit."""
    ids = sorted(set(application_ids))
    if not ids:
        return []
    lock_in_order(
        Application.objects.filter(pk__in=ids, status__in=Application.OPEN_STATUSES)
    ).update(computed_at=None, data_version=F("data_version") + 1)
    from .tasks import compute_application

    for pk in ids:
        transaction.on_commit(lambda pk=pk: compute_application.delay(pk))
    return ids


def applications_sharing_claims(
    *, invoice_keys: Iterable[str], serial_keys: Iterable[str], exclude_application: int | None
) -> list[int]:
    """Open applications holding an item with one of these invoice or serial keys."""
    invoice_keys = {k for k in invoice_keys if k}
    serial_keys = {k for k in serial_keys if k}
    if not invoice_keys and not serial_keys:
        return []
    query = MachineItem.objects.filter(
        Q(invoice_key__in=invoice_keys) | Q(serial_key__in=serial_keys),
        application__status__in=Application.OPEN_STATUSES,
    )
    if exclude_application is not None:
        query = query.exclude(application_id=exclude_application)
    return sorted(set(query.values_list("application_id", flat=True)))


def applications_sharing_documents(*, sha256s: Iterable[str], exclude_company: int) -> list[int]:
    """Open applications of other companies holding a file with one of these SHA-256 sums."""
    sha256s = {h for h in sha256s if h}
    if not sha256s:
        return []
    return sorted(
        set(
            Document.objects.filter(
                sha256__in=sha256s, application__status__in=Application.OPEN_STATUSES
            )
            .exclude(application__company_id=exclude_company)
            .values_list("application_id", flat=True)
        )
    )


def applications_counting_participation(*, company_id: int, year: int) -> list[int]:
    """Open applications of a company in programmes after `year`.

    They count the company's disbursed applications of earlier programmes
    (participation_limit_reached), so a disbursement in `year` changes their results.
    """
    return sorted(
        Application.objects.filter(
            company_id=company_id,
            programme__year__gt=year,
            status__in=Application.OPEN_STATUSES,
        ).values_list("pk", flat=True)
    )


def _company_facts(app: dict) -> dict:
    editable = app["status"] in Application.EDITABLE_STATUSES
    if app["company_snapshot"] is not None and not editable:
        return app["company_snapshot"]
    return {
        "workers": app["company__workers"],
        "investment_value": app["company__investment_value"],
        "kbli": app["company__kbli"],
    }


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


def _duplicate_documents(apps: dict[int, dict]) -> dict[int, list[rules.Finding]]:
    """Files also uploaded to another company's application: a non-blocking flag for officers."""
    docs = list(
        Document.objects.filter(application_id__in=list(apps)).values_list(
            "id", "application_id", "sha256"
        )
    )
    if not docs:
        return {}
    hashes = {sha for _, _, sha in docs}
    others = defaultdict(set)
    for sha, company_id in Document.objects.filter(sha256__in=hashes).values_list(
        "sha256", "application__company_id"
    ):
        others[sha].add(company_id)
    found: dict[int, list[rules.Finding]] = defaultdict(list)
    for doc_id, app_id, sha in docs:
        if others[sha] - {apps[app_id]["company_id"]}:
            found[app_id].append(rules.Finding("duplicate_document", None, {"document": doc_id}))
    return found


def _finding_json(finding: rules.Finding) -> dict:
    return {"code": finding.code, "item": finding.item, "params": dict(finding.params)}


def compute_applications(application_ids: Iterable[int]) -> int:
    """Compute and store the results of open applications; returns how many were stored."""
    ids = sorted(set(application_ids))
    stored = 0
    for start in range(0, len(ids), CHUNK):
        stored += _compute_ids(ids[start : start + CHUNK])
    return stored


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
    duplicate_docs = _duplicate_documents(apps)
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
        findings = [_finding_json(f) for f in (*result.findings, *duplicate_docs.get(app_id, ()))]
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
        with transaction.atomic():
            if connection.vendor == "postgresql":
                return _store_postgres(app_rows, item_rows, now)
            if connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35):
                return _store_sqlite(app_rows, item_rows, now)
            return _store_portable(app_rows, item_rows, now)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        return 0, set(prepared.ids)


# Results are written only while the application is open: an approved case's approved_amount
# was reserved from its computed_discount, and a decided or ended case keeps the results it
# was decided on, even if a job that read it while it was still open finishes late.
_OPEN_SQL = ", ".join(f"'{status}'" for status in Application.OPEN_STATUSES)


def _store_postgres(app_rows: list[tuple], item_rows: list[tuple], now) -> tuple[int, set[int]]:
    """Two updates with a short lock wait, conditional on the versions read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        previous = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [STORE_LOCK_TIMEOUT])
        # No separate SELECT ... FOR UPDATE in id order first: that would write a row lock
        # to every application before the UPDATE writes it again. The UPDATE takes its rows
        # in any order, and the short lock_timeout makes it, never a user's request, give up
        # if that order ever meets a transaction waiting on one of them.
        # One JSON document per statement, not arrays of JSON texts: psycopg escapes every
        # quote of every element of a text array in Python, which cost more than the rest of
        # the chunk. findings and breakdown are JSON texts already and are spliced in as is.
        apps_json = (
            "["
            + ",".join(
                f'{{"id":{r[0]},"version":{r[1]},"scale":{json.dumps(r[2])},'
                f'"eligible_total":{r[3]},"computed_discount":{r[4]},'
                f'"findings":{r[5]},"breakdown":{r[6]}}}'
                for r in app_rows
            )
            + "]"
        )
        cursor.execute(
            f"""
            UPDATE subsidy_application AS a
               SET scale = v.scale, eligible_total = v.eligible_total,
                   computed_discount = v.computed_discount, findings = v.findings,
                   breakdown = v.breakdown, computed_at = %s
              FROM jsonb_to_recordset(%s::jsonb)
                   AS v(id bigint, version int, scale text, eligible_total bigint,
                        computed_discount bigint, findings jsonb, breakdown jsonb)
             WHERE a.id = v.id AND a.data_version = v.version AND a.status IN ({_OPEN_SQL})
            RETURNING a.id
            """,  # noqa: S608 - _OPEN_SQL is built from the model's constants, not input
            [now, apps_json],
        )
        stored = {row[0] for row in cursor.fetchall()}
        rows = [r for r in item_rows if r[1] in stored]
        if rows:
            # The rate travels as a JSON string ("0.4000"), which numeric reads exactly.
            items_json = (
                "["
                + ",".join(
                    f'{{"id":{r[0]},"rate":"{r[3]}","discount":{r[4]},"findings":{r[5]}}}'
                    for r in rows
                )
                + "]"
            )
            cursor.execute(
                """
                UPDATE subsidy_machineitem AS m
                   SET rate = v.rate, discount = v.discount, findings = v.findings
                  FROM jsonb_to_recordset(%s::jsonb)
                       AS v(id bigint, rate numeric, discount bigint, findings jsonb)
                 WHERE m.id = v.id
                """,
                [items_json],
            )
        # Called inside a caller's transaction, the caller keeps its own setting.
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])
    return len(stored), set()


def _store_sqlite(app_rows: list[tuple], item_rows: list[tuple], now) -> tuple[int, set[int]]:
    """Two statements on SQLite (3.35+), one JSON array in; SQLite has one writer, no row locks.

    The unary + keeps SQLite from driving the join by the status index (every open row of the
    table, each matched against the whole array: quadratic); by id it is one lookup per row.
    """
    rows = [
        [app_id, version, scale, eligible, discount, findings, breakdown]
        for app_id, version, scale, eligible, discount, findings, breakdown in app_rows
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE subsidy_application
               SET scale = json_extract(v.value, '$[2]'),
                   eligible_total = json_extract(v.value, '$[3]'),
                   computed_discount = json_extract(v.value, '$[4]'),
                   findings = json_extract(v.value, '$[5]'),
                   breakdown = json_extract(v.value, '$[6]'),
                   computed_at = %s
              FROM json_each(%s) AS v
             WHERE subsidy_application.id = json_extract(v.value, '$[0]')
               AND subsidy_application.data_version = json_extract(v.value, '$[1]')
               AND +subsidy_application.status IN ({_OPEN_SQL})
            RETURNING subsidy_application.id
            """,  # noqa: S608 - _OPEN_SQL is built from the model's constants, not input
            [connection.ops.adapt_datetimefield_value(now), json.dumps(rows)],
        )
        stored = {row[0] for row in cursor.fetchall()}
        items = [[r[0], str(r[3]), r[4], r[5]] for r in item_rows if r[1] in stored]
        if items:
            # The rate goes in as text ("0.4000"), as Django writes a Decimal on SQLite.
            cursor.execute(
                """
                UPDATE subsidy_machineitem
                   SET rate = json_extract(v.value, '$[1]'),
                       discount = json_extract(v.value, '$[2]'),
                       findings = json_extract(v.value, '$[3]')
                  FROM json_each(%s) AS v
                 WHERE subsidy_machineitem.id = json_extract(v.value, '$[0]')
                """,
                [json.dumps(items)],
            )
    return len(stored), set()


def _store_portable(app_rows: list[tuple], item_rows: list[tuple], now) -> tuple[int, set[int]]:
    """Any other database: one conditional update per application (slower, same outcome)."""
    stored = set()
    for app_id, version, scale, eligible, discount, findings, breakdown in app_rows:
        if Application.objects.filter(
            pk=app_id, data_version=version, status__in=Application.OPEN_STATUSES
        ).update(
            scale=scale,
            eligible_total=eligible,
            computed_discount=discount,
            findings=json.loads(findings),
            breakdown=json.loads(breakdown),
            computed_at=now,
        ):
            stored.add(app_id)
    updates = [
        MachineItem(id=r[0], rate=r[3], discount=r[4], findings=json.loads(r[5]))
        for r in item_rows
        if r[1] in stored
    ]
    MachineItem.objects.bulk_update(updates, ["rate", "discount", "findings"], batch_size=500)
    return len(stored), set()


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
