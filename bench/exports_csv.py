"""Benchmark the streamed applications CSV against COPY (the same SELECT) TO STDOUT.

Run by hand against PostgreSQL, on copies of the database `manage.py seed_demo` seeded with
100,000 applications (the copies are written to: a bench auditor and its session):

    # once: a copy of the 100k database, and a 1,000,000 one made from it (10 times each
    # company and application, in SQL: minutes, where seed_demo would take hours)
    .venv/bin/python bench/exports_csv.py --copy ikm_pages_100k ikm_csv12_100k
    .venv/bin/python bench/exports_csv.py --copy ikm_csv12_100k ikm_csv12_1m --times 10
    # then
    .venv/bin/python bench/exports_csv.py \\
        --db postgres://postgres@127.0.0.1:5432/ikm_csv12_100k \\
        --db postgres://postgres@127.0.0.1:5432/ikm_csv12_1m --rounds 3

For each database, one measuring process starts gunicorn (one sync worker, the local
settings, DEBUG off) and, in each round:

    stream:  GET /api/v1/exports/applications.csv as an auditor (session), read to the end
             over HTTP; the gunicorn worker's RSS sampled every 20 ms
    COPY:    COPY (the export's SELECT, as Django compiles it) TO STDOUT (FORMAT csv), read
             by psycopg in this process: the limit
    COPY+fmt: COPY of the SELECT the stream sends (the same, each cell formatted as API.md
             says), read by psycopg: what the stream costs beyond HTTP

and once, in process, the rows through the ORM and rows.csv_line (the path SQLite takes).
It prints rows/s of each (the best round), the ratio stream / COPY (goal >= 0.5) and the
worker's RSS growth during the exports over its RSS after a small warm-up export
(goal < 50 MiB).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import log  # noqa: E402

GOAL_RATIO = 0.5
GOAL_RSS_MIB = 50
HOST = "127.0.0.1"
PATH = "/api/v1/exports/applications.csv"
WARM_UP = PATH + "?status=approved"


# --- Copies of a seeded database ------------------------------------------------------------


def _admin(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(
        host=parts.hostname or HOST,
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        dbname="postgres",
        autocommit=True,
    )


def copy_database(source: str, target: str, times: int, server: str, wait: float) -> None:
    """`target` := a copy of `source` (CREATE DATABASE ... TEMPLATE, which waits until nobody
    else is connected to `source`), then each company and application repeated `times`
    times in all (new ids, NIB and reference; items, documents and notices are not copied:
    the applications export reads none of them)."""
    import psycopg

    with _admin(server) as admin:
        deadline = time.monotonic() + wait
        while True:
            try:
                admin.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
                break
            except psycopg.errors.ObjectInUse:
                if time.monotonic() > deadline:
                    raise
                log(f"{source} is in use; waiting")
                time.sleep(15)
    log(f"copied {source} to {target}")
    if times <= 1:
        return
    parts = urlsplit(server)
    url = parts._replace(path=f"/{target}").geturl()
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=False) as conn:
        # The copies' ids are the originals' plus a multiple of a step above every id.
        step = conn.execute(
            "SELECT 10 ^ ceil(log(greatest((SELECT max(id) FROM subsidy_company),"
            " (SELECT max(id) FROM subsidy_application)) + 1))::bigint"
        ).fetchone()[0]
        step = int(step)
        conn.execute(
            """
            INSERT INTO subsidy_company (id, name, nib, npwp, kbli, workers, investment_value,
                province, regency, address, bank_name, bank_account_number, bank_account_name,
                created_at, updated_at)
            SELECT c.id + k * %(step)s, c.name,
                CASE WHEN c.nib IS NULL THEN NULL ELSE '8' || k || lpad(c.id::text, 11, '0') END,
                c.npwp, c.kbli, c.workers, c.investment_value, c.province, c.regency, c.address,
                c.bank_name, c.bank_account_number, c.bank_account_name, c.created_at,
                c.updated_at
            FROM subsidy_company c CROSS JOIN generate_series(1, %(copies)s) AS k
            WHERE c.id < %(step)s
            """,
            {"step": step, "copies": times - 1},
        )
        conn.execute(
            """
            INSERT INTO subsidy_application (id, reference, status, created_at, updated_at,
                submitted_at, company_snapshot, status_changed_at, checklist, scale,
                eligible_total, computed_discount, computed_at, findings, breakdown,
                data_version, approved_amount, disbursed_amount, transfer_reference,
                transferred_on, case_officer_id, created_by_id, company_id, programme_id)
            SELECT a.id + k * %(step)s, a.reference || '-' || k, a.status, a.created_at,
                a.updated_at, a.submitted_at, a.company_snapshot, a.status_changed_at,
                a.checklist, a.scale, a.eligible_total, a.computed_discount, a.computed_at,
                a.findings, a.breakdown, a.data_version, a.approved_amount, a.disbursed_amount,
                a.transfer_reference, a.transferred_on, a.case_officer_id, a.created_by_id,
                a.company_id + k * %(step)s, a.programme_id
            FROM subsidy_application a CROSS JOIN generate_series(1, %(copies)s) AS k
            WHERE a.id < %(step)s
            """,
            {"step": step, "copies": times - 1},
        )
        for table in ("subsidy_company", "subsidy_application"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE subsidy_company")
        conn.execute("VACUUM ANALYZE subsidy_application")
        count = conn.execute("SELECT count(*) FROM subsidy_application").fetchone()[0]
    log(f"{target}: {count:,} applications ({time.perf_counter() - started:.0f} s)")


# --- Measuring one database (in a child process) ---------------------------------------------


def _rss(pid: int) -> int:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * resource.getpagesize()


def _worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    sys.exit("no gunicorn worker")


def _start_server(port: int, env: dict) -> subprocess.Popen:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        "1",
        "--timeout",
        "900",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(150):
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    _stop_server(server)
    sys.exit("gunicorn did not start")


def _stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def _download(port: int, path: str, cookie: str, worker: int) -> dict:
    """GET `path`, read to the end; the time, bytes, lines and the worker's peak RSS."""
    peak = [_rss(worker)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak[0] = max(peak[0], _rss(worker))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=900)
    conn.request("GET", path, headers={"Cookie": cookie})
    response = conn.getresponse()
    size = lines = 0
    while chunk := response.read(1 << 20):
        size += len(chunk)
        lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if response.status != 200:
        sys.exit(f"{path}: HTTP {response.status}")
    return {"seconds": seconds, "bytes": size, "lines": lines, "peak_rss": peak[0]}


def _copy(sql: str, params: list) -> dict:
    """COPY (sql) TO STDOUT (FORMAT csv) read by psycopg in this process."""
    import psycopg
    from django.db import connection

    settings = connection.settings_dict
    started = time.perf_counter()
    size = rows = 0
    with psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
        cursor_factory=psycopg.ClientCursor,  # parameters merged on the client, as for COPY
    ) as conn:
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy,
        ):
            for data in copy:
                size += len(data)
                rows += 1
    return {"seconds": time.perf_counter() - started, "bytes": size, "lines": rows}


def _measure(rounds: int, port: int, python_path: bool) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()

    from django.db import connection
    from django.http import QueryDict
    from django.test import Client

    from accounts.models import User
    from accounts.roles import AUDITOR, grant_role
    from subsidy.exports import rows, stream
    from subsidy.models import Application

    user, _ = User.objects.get_or_create(
        username="bench-auditor", defaults={"email": "bench-auditor@localhost"}
    )
    grant_role(user, AUDITOR)
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    applications = Application.objects.count()
    queryset = rows.export_queryset(rows.APPLICATIONS, user, QueryDict(""))
    raw_sql, raw_params = (
        queryset.values_list(*rows.APPLICATION_FIELDS).query.get_compiler("default").as_sql()
    )
    formatted_sql, formatted_params = stream.copy_select(rows.APPLICATIONS, queryset)
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()

    server = _start_server(port, dict(os.environ))
    runs: dict[str, list[dict]] = {"stream": [], "copy": [], "copy_formatted": []}
    try:
        worker = _worker_pid(server.pid)
        _download(port, WARM_UP, cookie, worker)
        baseline = _rss(worker)
        for number in range(rounds):
            log(f"  round {number + 1}/{rounds}: stream")
            runs["stream"].append(_download(port, PATH, cookie, worker))
            log(f"  round {number + 1}/{rounds}: COPY")
            runs["copy"].append(_copy(raw_sql, raw_params))
            log(f"  round {number + 1}/{rounds}: COPY of the formatted SELECT")
            runs["copy_formatted"].append(_copy(formatted_sql, formatted_params))
    finally:
        _stop_server(server)

    result = {
        "applications": applications,
        "rss_baseline_mib": round(baseline / 2**20, 1),
        "rss_growth_mib": round((max(r["peak_rss"] for r in runs["stream"]) - baseline) / 2**20, 1),
        "bytes": runs["stream"][0]["bytes"],
        "postgres": postgres,
    }
    for name, measured in runs.items():
        best = min(measured, key=lambda r: r["seconds"])
        lines = best["lines"] - (1 if name == "stream" else 0)  # the header
        if lines != applications:
            sys.exit(f"{name}: {lines} rows for {applications} applications")
        result[name] = {
            "rows_per_s": round(applications / best["seconds"]),
            "seconds": [round(r["seconds"], 2) for r in measured],
        }
    if python_path:
        log("  the rows through the ORM and rows.csv_line, in process")
        started = time.perf_counter()
        file = stream.CsvFile(rows.APPLICATIONS, queryset, copy=False)
        for _chunk in file:
            pass
        seconds = time.perf_counter() - started
        result["python"] = {"rows_per_s": round(file.rows / seconds), "seconds": [seconds]}
    result["ratio"] = round(result["stream"]["rows_per_s"] / result["copy"]["rows_per_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", default=[], help="DATABASE_URL (repeat)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8812)
    parser.add_argument("--no-python", action="store_true", help="skip the ORM path")
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    parser.add_argument("--copy", nargs=2, metavar=("SOURCE", "TARGET"), help="copy a database")
    parser.add_argument("--times", type=int, default=1, help="with --copy: rows times N")
    parser.add_argument(
        "--server", default="postgres://postgres@127.0.0.1:5432/postgres", help="for --copy"
    )
    parser.add_argument("--wait", type=float, default=3600, help="--copy: seconds to wait")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.rounds, args.port, not args.no_python)))
        return
    if args.copy:
        copy_database(*args.copy, args.times, args.server, args.wait)
        return
    if not args.db:
        parser.error("--db (or --copy) is required")

    results = []
    for url in args.db:
        log(f"measuring {urlsplit(url).path.lstrip('/')}")
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.local",
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
            "LOG_LEVEL": "WARNING",
        }
        command = [sys.executable, __file__, "--measure", "--rounds", str(args.rounds)]
        command += ["--port", str(args.port)] + (["--no-python"] if args.no_python else [])
        output = subprocess.run(
            command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
        )
        if output.returncode:
            sys.exit(output.stderr)
        results.append(json.loads(output.stdout.strip().splitlines()[-1]))

    print(
        "| applications | stream rows/s | COPY rows/s | ratio (goal >= 0.5) | COPY+fmt rows/s "
        "| ORM path rows/s | server RSS growth (goal < 50 MiB) | CSV size |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        python = f"{r['python']['rows_per_s']:,}" if "python" in r else "-"
        print(
            f"| {r['applications']:,} | {r['stream']['rows_per_s']:,} "
            f"| {r['copy']['rows_per_s']:,} | {r['ratio']:.2f} "
            f"| {r['copy_formatted']['rows_per_s']:,} | {python} "
            f"| {r['rss_growth_mib']} MiB | {r['bytes'] / 2**20:.0f} MiB |"
        )
    print(
        f"\nmachine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, PostgreSQL {results[0]['postgres']}; best of "
        f"{args.rounds} rounds"
    )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
