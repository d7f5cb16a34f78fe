"""Benchmark the background export's writers (subsidy/exports/jobs.py): rows/s and memory.

Run by hand against a seeded PostgreSQL database, which it only reads:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_pages_100k \\
        .venv/bin/python bench/export_job.py --format xlsx --format csv --kind applications

For each format it does what the job does between its claim and storing the file: count the
rows a superuser may see, read them with rows.application_rows (or item_rows), write them with
jobs.write_xlsx (xlsxwriter, constant memory) or jobs.write_csv into a temporary file, and take
the SHA-256 of the file, timed on the wall clock and in this process's CPU; the progress
callback samples the process's RSS every 5,000 rows (instead of the job's UPDATE of its record,
so that the database is not written). As a floor it also times reading the same rows without
writing them. Prints rows/s, the seconds, the file's size and the RSS before, at its highest
and after, and the peak growth.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.common import log  # noqa: E402
from subsidy.exports import jobs, rows  # noqa: E402

SAMPLE_EVERY = 5000


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def source(kind: str, limit: int | None):
    reader = User(username="bench", is_superuser=True)  # unsaved: sees every row
    queryset = rows.export_queryset(kind, reader, {})
    if limit:
        queryset = queryset[:limit]
    columns = rows.APPLICATION_COLUMNS if kind == "applications" else rows.ITEM_COLUMNS
    generator = rows.application_rows if kind == "applications" else rows.item_rows
    return columns, queryset, generator


def measure(kind: str, fmt: str, limit: int | None) -> dict:
    columns, queryset, generator = source(kind, limit)
    connection.close()
    before = rss_mib()
    peak = before

    def tick(written: int) -> None:
        nonlocal peak
        if written % SAMPLE_EVERY == 0:
            peak = max(peak, rss_mib())

    started = time.perf_counter()
    cpu_started = time.process_time()
    total = queryset.count()
    handle, path = tempfile.mkstemp(suffix=f".{fmt}", prefix="bench-export-")
    try:
        if fmt == "csv":
            with os.fdopen(handle, "wb") as out:
                written, sha256, size = jobs.write_csv(out, columns, generator(queryset), tick)
        elif fmt == "xlsx":
            os.close(handle)
            written = jobs.write_xlsx(path, columns, generator(queryset), tick, sheet_name=kind)
            sha256, size = jobs.file_sha256(path)
        else:
            os.close(handle)
            written = 0
            for written, _row in enumerate(generator(queryset), start=1):
                tick(written)
            sha256, size = "", 0
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    finally:
        os.unlink(path)
    peak = max(peak, rss_mib())
    after = rss_mib()
    assert written == total, (written, total)
    return {
        "kind": kind,
        "format": fmt,
        "rows": written,
        "seconds": round(seconds, 2),
        "rows_per_s": round(written / seconds),
        # This process's CPU only (PostgreSQL's work is not in it): what a busy machine's
        # wall clock hides.
        "cpu_seconds": round(cpu_seconds, 2),
        "rows_per_cpu_s": round(written / cpu_seconds),
        "bytes": size,
        "sha256": sha256[:12],
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(peak, 1),
        "rss_after_mib": round(after, 1),
        "rss_growth_mib": round(peak - before, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["applications", "items"], default="applications")
    parser.add_argument(
        "--format",
        action="append",
        choices=["xlsx", "csv", "read"],
        help="xlsx, csv, or read (the rows read, nothing written); repeatable",
    )
    parser.add_argument("--limit", type=int, default=None, help="only the first N rows")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings.DEBUG = False
    formats = args.format or ["read", "xlsx", "csv"]
    results = []
    for _ in range(args.repeat):
        for fmt in formats:
            log(f"{args.kind} as {fmt} ...")
            results.append(measure(args.kind, fmt, args.limit))
            log(f"  {results[-1]}")
    print(
        f"# {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
        f"database {connection.settings_dict['NAME']}"
    )
    print(
        "| kind | format | rows | seconds | rows/s | CPU s | rows/CPU s | file "
        "| RSS before | peak | growth |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['kind']} | {r['format']} | {r['rows']:,} | {r['seconds']} | "
            f"{r['rows_per_s']:,} | {r['cpu_seconds']} | {r['rows_per_cpu_s']:,} | "
            f"{r['bytes'] / 2**20:.1f} MiB | {r['rss_before_mib']} MiB | "
            f"{r['rss_peak_mib']} MiB | {r['rss_growth_mib']} MiB |"
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
