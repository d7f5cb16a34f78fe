"""Benchmark GET /api/v1/statistics/ cold (cache empty) and cached, and the programme report.

Run by hand against a PostgreSQL database already seeded (`manage.py seed_demo`); it only
reads (the session is set read-only):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_pages_100k \\
        .venv/bin/python bench/public_statistics.py --year 2026

The endpoint is called in process through Django's test client, with the cache of the
settings (local memory without REDIS_URL, Redis with it): cold clears the cache before each
request, cached does not. Also timed: subsidy.reports.programme_report of the same programme
(every table of the staff's report page). Prints the best and median of --repeat runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics as stats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# One client asks hundreds of times a second: the per-client throttle would answer 429.
os.environ.setdefault("THROTTLE_STATISTICS", "1000000/min")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.common import log  # noqa: E402
from subsidy import reports  # noqa: E402
from subsidy.models import Application, MachineItem, Programme  # noqa: E402


def timed(action, repeat: int) -> list[float]:
    """Milliseconds of each run."""
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    return runs


def line(name: str, runs: list[float]) -> dict:
    return {"what": name, "best_ms": round(min(runs), 2), "median_ms": round(stats.median(runs), 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=None, help="default: the newest programme")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cached-repeat", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    with connection.cursor() as cursor:
        # Read only: the database may be shared (e.g. the integrator's seeded copy).
        cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    programme = Programme.objects.get(year=args.year) if args.year else Programme.objects.first()
    url = f"/api/v1/statistics/?year={programme.year}"
    # A host the local settings allow; DEBUG off, or Django keeps every query's SQL in memory.
    settings.DEBUG = False
    client = Client(HTTP_HOST="localhost")
    data = {
        "applications": Application.objects.count(),
        "items": MachineItem.objects.count(),
        "programme_applications": Application.objects.filter(programme=programme).count(),
        "disbursed": Application.objects.filter(
            programme=programme, status=Application.Status.DISBURSED
        ).count(),
    }
    log(f"{data} in {settings.DATABASES['default']['NAME']}, year {programme.year}")

    def cold() -> None:
        cache.clear()
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    def cached() -> None:
        assert client.get(url).status_code == 200

    cold()  # warm the database's own buffers once, as a running server would have them
    with CaptureQueriesContext(connection) as queries:
        cold()
    results = [line("statistics API, cold (cache cleared)", timed(cold, args.repeat))]
    cached()
    results.append(line("statistics API, cached", timed(cached, args.cached_repeat)))
    body = client.get(url).json()
    with CaptureQueriesContext(connection) as report_queries:
        reports.programme_report(programme)
    results.append(
        line(
            "programme report, every table",
            timed(lambda: reports.programme_report(programme), args.repeat),
        )
    )

    print(
        f"PostgreSQL {connection.cursor().connection.info.server_version}, "
        f"Python {platform.python_version()}, cache {settings.CACHES['default']['BACKEND']}"
    )
    print(
        f"{data['applications']:,} applications ({data['items']:,} items); programme "
        f"{programme.year}: {data['programme_applications']:,} applications, "
        f"{data['disbursed']:,} disbursed ({body['companies']:,} companies, "
        f"{body['machines']:,} machines, Rp {body['disbursed_amount']:,})"
    )
    print(f"cold queries: {len(queries)}; report queries: {len(report_queries)}")
    print(f"{'':40} {'best ms':>10} {'median ms':>10}")
    for result in results:
        print(f"{result['what']:40} {result['best_ms']:>10.2f} {result['median_ms']:>10.2f}")
    if args.json:
        print(json.dumps({"data": data, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
