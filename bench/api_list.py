"""Benchmark the API's application list against a hand-built limit on the same gunicorn server.

Run by hand against a PostgreSQL server (the database is created when missing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_api_bench \\
        .venv/bin/python bench/api_list.py --applications 100000

It migrates the database, seeds it with `manage.py seed_demo` up to --applications
applications (3 items each; a rerun with a larger number adds the difference), makes a
verifier with a token, starts gunicorn (2 sync workers, bench/api_list_settings.py: the
local settings plus bench/api_list_urls.py, which adds the limit view) and measures, in
alternating rounds, requests/s and latency of

    API:   GET /api/v1/applications/?page_size=100&status=under_review&province=33
    limit: GET /bench/limit/applications/?<the same query>

The limit returns the same page (rows, fields, items, finding texts, count, links) from
.values() and JsonResponse. It prints both, their ratio (goal >= 0.5) and checks that both
answer the same JSON.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETTINGS = "bench.api_list_settings"
os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import VERIFIER, grant_role  # noqa: E402
from bench.common import ensure_database, log  # noqa: E402
from subsidy.models import Application, MachineItem  # noqa: E402

GOAL = 0.5
HOST = "127.0.0.1"
QUERY = "page_size=100&status=under_review&province=33"
API = f"/api/v1/applications/?{QUERY}"
LIMIT = f"/bench/limit/applications/?{QUERY}"


def seed(target: int, seed_value: int) -> None:
    """Add applications until there are `target`, in a programme year of their own per run."""
    have = Application.objects.count()
    if have >= target:
        log(f"{have:,} applications already there")
        return
    year = 2026 + Application.objects.values("programme").distinct().count()
    log(f"seeding {target - have:,} applications (programme {year}); this takes a while")
    started = time.perf_counter()
    call_command(
        "seed_demo",
        applications=target - have,
        seed=seed_value + have,
        programme_year=year,
        stdout=sys.stderr,
    )
    log(f"seeded in {time.perf_counter() - started:.0f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def verifier_token() -> str:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.services import api_token_create

    user, created = User.objects.get_or_create(
        username="bench-verifier", defaults={"email": "bench@localhost"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    grant_role(user, VERIFIER)
    # Staff tokens work only for users with a second factor.
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return api_token_create(user=user).secret


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS}
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--env",
        f"DJANGO_SETTINGS_MODULE={SETTINGS}",
        "--log-level",
        "warning",
    ]
    log("starting: " + " ".join(command))
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    for _ in range(100):
        try:
            connection_ = http.client.HTTPConnection(HOST, port, timeout=2)
            connection_.request("GET", "/healthz")
            connection_.getresponse().read()
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    sys.exit("gunicorn did not start")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def fetch(port: int, path: str, token: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", path, headers={"Authorization": f"Token {token}"})
    response = conn.getresponse()
    return response.status, response.read()


def load(port: int, path: str, token: str, seconds: float, clients: int) -> list[float]:
    """`clients` keep-alive connections sending `path` back to back for `seconds`."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    errors: list[str] = []

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Token {token}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                errors.append(f"{path}: {response.status}")
                break
            mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        sys.exit(errors[0])
    return latencies


def summary(latencies: list[float], seconds: float) -> dict:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "requests_per_s": round(len(ordered) / seconds, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10.0, help="per round and view")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=2, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="also print the results as JSON")
    args = parser.parse_args()

    ensure_database()
    call_command("migrate", verbosity=0)
    seed(args.applications, args.seed)
    token = verifier_token()
    applications = Application.objects.count()
    items = MachineItem.objects.count()
    matching = Application.objects.filter(status="under_review", company__province="33").count()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    connection.close()

    server = start_server(args.port, args.workers)
    try:
        api_status, api_body = fetch(args.port, API, token)
        limit_status, limit_body = fetch(args.port, LIMIT, token)
        if (api_status, limit_status) != (200, 200):
            sys.exit(f"API answered {api_status}, limit {limit_status}")
        # The links name their own paths; the rest must be equal.
        api_page, limit_page = json.loads(api_body), json.loads(limit_body)
        same = all(api_page[k] == limit_page[k] for k in ("count", "results"))
        if not same:
            log("warning: the API and the limit answer different JSON")
        for path in (API, LIMIT):  # warm both workers' caches and connections
            load(args.port, path, token, 2, args.clients)
        runs: dict[str, list[float]] = {"api": [], "limit": []}
        for number in range(args.rounds):
            for name, path in (("api", API), ("limit", LIMIT)):
                log(f"round {number + 1}/{args.rounds}: {name}")
                runs[name] += load(args.port, path, token, args.seconds, args.clients)
    finally:
        stop_server(server)

    total = args.seconds * args.rounds
    api, limit = summary(runs["api"], total), summary(runs["limit"], total)
    ratio = api["requests_per_s"] / limit["requests_per_s"]
    result = {
        "applications": applications,
        "items": items,
        "matching_rows": matching,
        "page_bytes": len(api_body),
        "same_json": same,
        "api": api,
        "limit": limit,
        "ratio": round(ratio, 2),
        "goal": GOAL,
        "clients": args.clients,
        "workers": args.workers,
        "seconds": total,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, PostgreSQL {postgres}",
    }
    rows = [
        ("applications / items", f"{applications:,} / {items:,}"),
        ("rows matching the filter", f"{matching:,} (page of 100, {len(api_body):,} bytes)"),
        (
            "API   req/s, p50, p95",
            f"{api['requests_per_s']}  {api['p50_ms']} ms  {api['p95_ms']} ms",
        ),
        (
            "limit req/s, p50, p95",
            f"{limit['requests_per_s']}  {limit['p50_ms']} ms  {limit['p95_ms']} ms",
        ),
        ("ratio API / limit", f"{ratio:.2f} (goal >= {GOAL})"),
        ("same JSON", str(same)),
        ("machine", result["machine"]),
    ]
    for label, value in rows:
        print(f"{label:<28} {value}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
