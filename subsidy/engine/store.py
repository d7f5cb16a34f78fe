"""Storing a computed chunk of results, each only if the version it was computed from is current.

And only while its results are stale: two jobs that computed the same version (a message
delivered twice, a chunk queued again by the beat job) store once; the second waits for the
first's row lock, then finds the results current and leaves them.

One statement per table and chunk, in the fastest form the database offers.
"""

import datetime as dt
import json

from django.db import connection, transaction

from subsidy.models import Application

# How long a store waits for application rows that another transaction holds (PostgreSQL).
# Services lock their application and its known rivals in id order, but may find and mark
# another rival afterwards, out of order; a store waiting on one of their rows while holding
# others could then close a cycle. Giving up well before PostgreSQL looks for deadlocks
# (deadlock_timeout, 1 s by default) means the store, never a user's request, is the one
# that yields; it is read and computed again (_compute_ids), then retried by Celery.
STORE_LOCK_TIMEOUT = "400ms"


LOCK_NOT_AVAILABLE = "55P03"


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
             WHERE a.id = v.id AND a.data_version = v.version AND a.computed_at IS NULL
               AND a.status IN ({_OPEN_SQL})
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
               AND subsidy_application.computed_at IS NULL
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


def write(app_rows: list[tuple], item_rows: list[tuple], now: dt.datetime) -> tuple[int, set[int]]:
    """Store a chunk in one transaction: (how many were stored, ids another transaction held)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _store_postgres(app_rows, item_rows, now)
        # The settings accept no other database, and refuse a SQLite older than 3.35.
        return _store_sqlite(app_rows, item_rows, now)
