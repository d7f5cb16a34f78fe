"""Benchmark subsidy.computation.recompute_programme against a one-statement SQL limit.

Run by hand against a PostgreSQL server (the database is created when missing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_bench \\
        .venv/bin/python bench/recompute_programme.py --items 100000

It seeds a fresh programme (a year of its own) with items/3 open applications of 3 items,
then times (a) the limit: one UPDATE that sets every item's rate and discount from the
programme's rates, and (b) recompute_programme, each the best of --repeat runs, and prints
items/s, their ratio (goal >= 0.25) and the memory the recompute used.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.common import ensure_database, log  # noqa: E402
from subsidy.demo import seeding  # noqa: E402
from subsidy.engine import computation  # noqa: E402
from subsidy.models import (  # noqa: E402
    Application,
    Company,
    MachineItem,
    Programme,
    ProgrammeRate,
    ReferenceCounter,
)

GOAL = 0.25
ITEMS_PER_APPLICATION = 3
# Only open states: recompute_programme computes exactly those, so every seeded item counts.
OPEN_WEIGHTS = {s: seeding.STATUS_WEIGHTS[s] for s in Application.OPEN_STATUSES}

# The limit: the cheapest statement that writes the same rows' rate and discount, with the
# rate chosen by the company's scale (Permenperin 64/2016 thresholds) and the item's origin.
# Besar has no rate row; the LEFT JOIN gives it rate NULL and discount 0, as the rules do.
LIMIT_SQL = """
UPDATE subsidy_machineitem AS m
   SET rate = x.rate, discount = floor(m.price * coalesce(x.rate, 0))
  FROM (
        SELECT a.id AS application_id, o.origin, r.rate
          FROM subsidy_application AS a
          JOIN subsidy_company AS c ON c.id = a.company_id
         CROSS JOIN (VALUES ('domestic'), ('imported')) AS o(origin)
          LEFT JOIN subsidy_programmerate AS r
                 ON r.programme_id = a.programme_id
                AND r.origin = o.origin
                AND r.scale = CASE
                        WHEN c.workers <= 19 AND c.investment_value < 1000000000 THEN 'kecil'
                        WHEN c.workers <= 19 OR c.investment_value <= 15000000000 THEN 'menengah'
                        ELSE 'besar' END
         WHERE a.programme_id = %s AND a.status = ANY(%s)
       ) AS x
 WHERE m.application_id = x.application_id AND m.origin = x.origin
"""


def rss_kib(field: str = "VmRSS") -> int:
    """A /proc/self/status memory figure (VmRSS now, VmHWM peak) in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Reset VmHWM (Linux >= 4.0), so the next peak is the measured step's own."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return True


def vacuum() -> None:
    """Give every timed run the same table state: no dead rows from the previous run."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE subsidy_machineitem, subsidy_application")


def run_limit(programme_id: int) -> tuple[float, int]:
    vacuum()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(LIMIT_SQL, [programme_id, list(Application.OPEN_STATUSES)])
        elapsed = time.perf_counter() - started  # autocommit: the commit is included
        return elapsed, cursor.rowcount


def run_recompute(programme_id: int) -> tuple[float, int, dict[str, float]]:
    Application.objects.filter(programme_id=programme_id).update(
        computed_at=None, data_version=F("data_version") + 1
    )
    vacuum()
    before = rss_kib()
    peak_reset = reset_peak_rss()
    started, cpu = time.perf_counter(), time.process_time()
    stored = computation.recompute_programme(programme_id)
    elapsed = time.perf_counter() - started
    memory = {
        "cpu_seconds": time.process_time() - cpu,
        "rss_before_kib": before,
        "rss_after_kib": rss_kib(),
        "rss_delta_kib": rss_kib() - before,
        "peak_during_kib": rss_kib("VmHWM") if peak_reset else -1,
    }
    return elapsed, stored, memory


def cleanup(programme_id: int) -> None:
    """Delete what the seeding made; set-based SQL, as the ORM would fetch every row first."""
    apps = "SELECT id FROM subsidy_application WHERE programme_id = %s"
    companies = "SELECT company_id FROM subsidy_application WHERE programme_id = %s"
    users = "SELECT created_by_id FROM subsidy_application WHERE programme_id = %s"
    statements = [
        (f"DELETE FROM {MachineItem._meta.db_table} WHERE application_id IN ({apps})"),
        (f"CREATE TEMP TABLE bench_companies AS {companies}"),
        (f"CREATE TEMP TABLE bench_users AS {users}"),
        (f"DELETE FROM {Application._meta.db_table} WHERE programme_id = %s"),
        (
            f"DELETE FROM {Company.members.through._meta.db_table}"
            " WHERE company_id IN (SELECT company_id FROM bench_companies)"
        ),
        (
            f"DELETE FROM {Company._meta.db_table}"
            " WHERE id IN (SELECT company_id FROM bench_companies)"
        ),
        (
            f"DELETE FROM {User.groups.through._meta.db_table}"
            " WHERE user_id IN (SELECT created_by_id FROM bench_users)"
        ),
        f"DELETE FROM {User._meta.db_table} WHERE id IN (SELECT created_by_id FROM bench_users)",
        f"DELETE FROM {ProgrammeRate._meta.db_table} WHERE programme_id = %s",
        f"DELETE FROM {ReferenceCounter._meta.db_table} WHERE programme_id = %s",
        f"DELETE FROM {Programme._meta.db_table} WHERE id = %s",
        "DROP TABLE bench_companies",
        "DROP TABLE bench_users",
    ]
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        for sql in statements:
            cursor.execute(sql, [programme_id] * sql.count("%s"))
        cursor.execute("COMMIT")


def machine() -> dict[str, object]:
    with open("/proc/meminfo") as meminfo:
        total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the seeded programme")
    parser.add_argument("--profile", metavar="FILE", help="cProfile one recompute into FILE")
    args = parser.parse_args()

    # DEBUG would keep every query's SQL in memory and spoil the RSS figures.
    settings.DEBUG = False
    load_before = os.getloadavg()[0]
    ensure_database()
    call_command("migrate", verbosity=0)
    taken = set(Programme.objects.values_list("year", flat=True))
    year = random.choice([y for y in range(3000, 9000) if y not in taken])
    applications = args.items // ITEMS_PER_APPLICATION
    log(f"seeding programme {year}: {applications} applications x {ITEMS_PER_APPLICATION} items")
    report = seeding.seed_demo(
        applications=applications,
        seed=args.seed,
        programme_year=year,
        items_per_application=ITEMS_PER_APPLICATION,
        compute=False,
        status_weights=OPEN_WEIGHTS,
        progress=log,
    )
    programme_id = report.programme_id
    items = report.items
    # Read before any VmHWM reset: on Linux getrusage reports the reset peak afterwards.
    seeded_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        limit_runs = []
        for n in range(args.repeat):
            seconds, touched = run_limit(programme_id)
            if touched != items:
                sys.exit(f"the limit statement touched {touched} rows, expected {items}")
            limit_runs.append(seconds)
            log(f"limit run {n + 1}: {seconds:.3f} s")
        recompute_runs, memories = [], []
        for n in range(args.repeat):
            seconds, stored, memory = run_recompute(programme_id)
            if stored != applications:
                sys.exit(f"recompute_programme stored {stored}, expected {applications}")
            recompute_runs.append(seconds)
            memories.append(memory)
            log(f"recompute run {n + 1}: {seconds:.3f} s, {memory}")
        if args.profile:
            import cProfile

            Application.objects.filter(programme_id=programme_id).update(
                computed_at=None, data_version=F("data_version") + 1
            )
            cProfile.runctx(
                "computation.recompute_programme(pid)",
                {"computation": computation},
                {"pid": programme_id},
                args.profile,
            )
            log(f"profile written to {args.profile}")
        info = machine()
    finally:
        if not args.keep:
            cleanup(programme_id)
            log(f"cleaned up programme {year}")

    limit_best, recompute_best = min(limit_runs), min(recompute_runs)
    best_memory = memories[recompute_runs.index(recompute_best)]
    result = {
        "items": items,
        "applications": applications,
        "programme_year": year,
        "seed_seconds": round(report.seconds["total"], 2),
        "limit_seconds": [round(s, 3) for s in limit_runs],
        "recompute_seconds": [round(s, 3) for s in recompute_runs],
        "limit_items_per_s": round(items / limit_best),
        "recompute_items_per_s": round(items / recompute_best),
        "ratio": round(limit_best / recompute_best, 3),
        "goal": GOAL,
        # This process's own CPU in the best run; the rest of the wall time is the server
        # (and, on a shared machine, waiting for a CPU).
        "recompute_cpu_seconds": round(best_memory["cpu_seconds"], 3),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "recompute_rss_delta_kib": max(m["rss_delta_kib"] for m in memories),
        "recompute_peak_kib": max(m["peak_during_kib"] for m in memories),
        "recompute_rss_before_kib": best_memory["rss_before_kib"],
        "process_maxrss_after_seeding_kib": seeded_maxrss,
        "machine": info,
    }
    rows = [
        ("items", f"{items:,}"),
        (
            "limit (one UPDATE), best",
            f"{limit_best:.3f} s  {result['limit_items_per_s']:,} items/s",
        ),
        (
            "recompute_programme, best",
            f"{recompute_best:.3f} s  {result['recompute_items_per_s']:,} items/s",
        ),
        ("ratio recompute/limit", f"{result['ratio']:.3f}  (goal >= {GOAL})"),
        ("recompute CPU (this process)", f"{result['recompute_cpu_seconds']:.3f} s"),
        ("load average (start, end)", " ".join(f"{x:.2f}" for x in result["load_average"])),
        ("RSS before recompute", f"{result['recompute_rss_before_kib'] / 1024:.1f} MiB"),
        ("RSS growth in recompute", f"{result['recompute_rss_delta_kib'] / 1024:.1f} MiB (max)"),
        ("peak RSS in recompute", f"{result['recompute_peak_kib'] / 1024:.1f} MiB (VmHWM)"),
        (
            "process peak after seeding",
            f"{result['process_maxrss_after_seeding_kib'] / 1024:.1f} MiB (ru_maxrss)",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
