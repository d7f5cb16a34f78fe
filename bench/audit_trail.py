"""Benchmark the audit trail: verifying it, and what its single chain costs parallel transitions.

Run by hand against a PostgreSQL server (the database is created when missing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_bench \\
        .venv/bin/python bench/audit_trail.py --entries 10000 --threads 1,2,4,8 --per-thread 100

(a) The trail is brought up to --entries sealed entries (appended, never deleted: it is an
    audit trail) and audit.verify(), what `manage.py verify_audit_trail` runs, is timed.
(b) N threads (each with its own connection, released together by a barrier) each take K
    submitted applications through `start_review`, one transaction each, with the chain as
    it is, and again with audit.record replaced by a no-op (the limit: the same transitions
    without an audit entry). It prints transitions/s for both, their ratio, and the mean time
    spent inside audit.record (mostly waiting for the head row lock) per transition.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import statistics
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import VERIFIER, grant_role  # noqa: E402
from bench.common import ensure_database, log  # noqa: E402
from subsidy import audit  # noqa: E402
from subsidy.models import (  # noqa: E402
    Application,
    AuditChainHead,
    AuditEntry,
    Company,
    Programme,
    ProgrammeRate,
    ReferenceCounter,
)
from subsidy.workflow import actions as workflow  # noqa: E402

S = Application.Status


def machine() -> dict[str, object]:
    with open("/proc/meminfo") as meminfo:
        total_kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
        cursor.execute("SHOW synchronous_commit")
        synchronous_commit = cursor.fetchone()[0]
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "synchronous_commit": synchronous_commit,
        "load_average": os.getloadavg(),
    }


# --- (a) verification ------------------------------------------------------------------------


def extend_trail(target: int) -> int:
    """Append sealed entries until the trail holds `target`; returns how many were added."""
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        missing = target - head.last_seq
        if missing <= 0:
            return 0
        now = timezone.now()
        prev = head.last_mac or audit.GENESIS_MAC
        entries = []
        for seq in range(head.last_seq + 1, target + 1):
            # A typical transition entry; built like audit.record does, in bulk.
            entry = AuditEntry(
                seq=seq,
                at=now,
                object_type="application",
                object_id=seq,
                application_id=seq,
                action="pass_review",
                from_status="under_review",
                to_status="field_verification",
                comment="Dokumen lengkap dan sesuai.",
                changes={"case_officer": [None, seq % 13]},
                prev_mac=prev,
            )
            entry.mac = prev = audit.seal(entry, prev)
            entries.append(entry)
        AuditEntry.objects.bulk_create(entries, batch_size=2000)
        head.last_seq, head.last_mac = target, prev
        head.save(update_fields=["last_seq", "last_mac"])
    return missing


def time_verify(repeat: int) -> tuple[int, list[float]]:
    runs = []
    checked = 0
    for _ in range(repeat):
        started = time.perf_counter()
        verdict = audit.verify()
        runs.append(time.perf_counter() - started)
        if not verdict.intact:
            sys.exit(f"the trail is broken at entry {verdict.seq}: {verdict.reason}")
        checked = verdict.checked
    return checked, runs


# --- (b) parallel transitions ----------------------------------------------------------------


def seed_submitted(count: int) -> tuple[Programme, list[Application]]:
    """A programme of its own with `count` submitted applications, in bulk."""
    taken = set(Programme.objects.values_list("year", flat=True))
    year = random.choice([y for y in range(3000, 9000) if y not in taken])
    today = timezone.localdate()
    programme = Programme.objects.create(
        year=year,
        name=f"Bench audit {year}",
        application_opens=today,
        application_closes=today,
        purchase_from=today,
        purchase_to=today,
        install_by=today,
        budget=10**12,
        min_refund=0,
        max_refund_per_company=10**9,
    )
    companies = Company.objects.bulk_create(
        Company(name=f"Bench {year} {n}", npwp="012345678901000") for n in range(count)
    )
    now = timezone.now()
    applications = Application.objects.bulk_create(
        Application(
            programme=programme,
            company=company,
            status=S.SUBMITTED,
            submitted_at=now,
            status_changed_at=now,
            reference=f"RMP-{year}-{n + 1:06d}",
        )
        for n, company in enumerate(companies)
    )
    return programme, applications


def cleanup(programme: Programme) -> None:
    """Remove the seeded cases; their audit entries stay (the trail outlives what it describes)."""
    company_ids = list(programme.applications.values_list("company_id", flat=True))
    with transaction.atomic():
        programme.applications.all().delete()
        Company.objects.filter(pk__in=company_ids).delete()
        ProgrammeRate.objects.filter(programme=programme).delete()
        ReferenceCounter.objects.filter(programme=programme).delete()
        programme.delete()


class RecordTimer:
    """Wraps audit.record to add up the time spent inside it (lock wait, insert, head update)."""

    def __init__(self, record) -> None:
        self.record = record
        self.lock = threading.Lock()
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, **kwargs):
        started = time.perf_counter()
        try:
            return self.record(**kwargs)
        finally:
            elapsed = time.perf_counter() - started
            with self.lock:
                self.seconds += elapsed
                self.calls += 1


def no_op_record_factory():
    """The limit: no entry at all. _move reads entry.seq (the notice key), so give it one."""
    numbers = itertools.count(1)

    def record(**kwargs):
        return SimpleNamespace(seq=-next(numbers))

    return record


def run_transitions(applications: list[Application], threads: int, by: User) -> float:
    """Seconds of wall time for `threads` threads taking their share through start_review."""
    per_thread = len(applications) // threads
    barrier = threading.Barrier(threads + 1)
    failures: list[BaseException] = []

    def work(share: list[Application]) -> None:
        try:
            connection.ensure_connection()  # connecting is not what is measured
            barrier.wait()
            for application in share:
                workflow.application_start_review(application=application, by=by)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    pool = [
        threading.Thread(target=work, args=(applications[i * per_thread : (i + 1) * per_thread],))
        for i in range(threads)
    ]
    for thread in pool:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return elapsed


def bench_transitions(
    thread_counts: list[int], per_thread: int, repeat: int, by: User
) -> tuple[dict, Programme]:
    needed = sum(thread_counts) * per_thread * repeat * 2
    log(f"seeding {needed} submitted applications")
    programme, pool = seed_submitted(needed)
    pool = iter(pool)
    real_record = audit.record
    results: dict[int, dict[str, list[float]]] = {
        n: {"chain": [], "limit": [], "record_ms": []} for n in thread_counts
    }
    try:
        for run in range(repeat):
            for n in thread_counts:
                # Alternate the two modes so drift on the machine hits both alike.
                for mode in ("chain", "limit") if run % 2 == 0 else ("limit", "chain"):
                    batch = list(itertools.islice(pool, n * per_thread))
                    timer = RecordTimer(real_record)
                    audit.record = timer if mode == "chain" else no_op_record_factory()
                    try:
                        seconds = run_transitions(batch, n, by)
                    finally:
                        audit.record = real_record
                    rate = len(batch) / seconds
                    results[n][mode].append(rate)
                    if mode == "chain":
                        results[n]["record_ms"].append(1000 * timer.seconds / timer.calls)
                    log(f"run {run + 1} threads {n} {mode}: {rate:.0f} transitions/s")
    finally:
        audit.record = real_record
    return results, programme


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--threads", default="1,2,4,8")
    parser.add_argument("--per-thread", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the seeded applications")
    args = parser.parse_args()
    thread_counts = [int(n) for n in args.threads.split(",")]

    settings.DEBUG = False
    ensure_database()
    call_command("migrate", verbosity=0)

    added = extend_trail(args.entries)
    log(f"appended {added} entries to the trail")
    checked, verify_runs = time_verify(args.repeat)
    log(f"verify: {checked} entries, {[round(s, 3) for s in verify_runs]} s")

    verifier, _ = User.objects.get_or_create(username="bench_verifier")
    grant_role(verifier, VERIFIER)
    verifier = User.objects.get(pk=verifier.pk)
    assert verifier.is_programme_staff  # warms the cached roles shared by the threads
    results, programme = bench_transitions(thread_counts, args.per_thread, args.repeat, verifier)
    if not args.keep:
        cleanup(programme)
    after = audit.verify()
    if not after.intact:
        sys.exit(f"the trail is broken after the run at entry {after.seq}: {after.reason}")
    info = machine()

    rows = [
        ("trail entries verified", f"{checked:,}"),
        (
            "verify, best / median",
            f"{min(verify_runs):.3f} s / {statistics.median(verify_runs):.3f} s  "
            f"({checked / min(verify_runs):,.0f} entries/s)",
        ),
        ("transitions per thread", str(args.per_thread)),
    ]
    summary = {}
    for n in thread_counts:
        chain, limit = results[n]["chain"], results[n]["limit"]
        chain_median, limit_median = statistics.median(chain), statistics.median(limit)
        record_ms = statistics.median(results[n]["record_ms"])
        summary[n] = {
            "chain_median_per_s": round(chain_median),
            "limit_median_per_s": round(limit_median),
            "ratio_of_medians": round(chain_median / limit_median, 3),
            "chain_best_per_s": round(max(chain)),
            "limit_best_per_s": round(max(limit)),
            "ratio_of_bests": round(max(chain) / max(limit), 3),
            "record_ms_median": round(record_ms, 2),
            "chain_runs": [round(r) for r in chain],
            "limit_runs": [round(r) for r in limit],
        }
        rows.append(
            (
                f"{n} thread{'s' if n > 1 else ''} (median / best)",
                f"chain {chain_median:,.0f} / {max(chain):,.0f}/s  "
                f"limit {limit_median:,.0f} / {max(limit):,.0f}/s  "
                f"ratio {chain_median / limit_median:.2f} / {max(chain) / max(limit):.2f}  "
                f"in audit.record {record_ms:.2f} ms",
            )
        )
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print(f"trail intact after the run: {after.checked:,} entries")
    if args.json:
        print(
            json.dumps(
                {
                    "entries": checked,
                    "verify_seconds": [round(s, 3) for s in verify_runs],
                    "per_thread": args.per_thread,
                    "transitions": summary,
                    "machine": info,
                }
            )
        )


if __name__ == "__main__":
    main()
