"""What every benchmark script shares: progress on stderr, its own database, and the timing of
pages in process (the applicant's and the officers' page benchmarks)."""

import statistics
import sys
import time
from collections.abc import Callable

import psycopg
from django.conf import settings


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the table (or the JSON)."""
    print(message, file=sys.stderr, flush=True)


def ensure_database() -> None:
    """Create the benchmark database on the server when it does not exist yet."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://...")
    params = {
        "dbname": "postgres",
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
        "autocommit": True,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            log(f"creating database {db['NAME']}")
            admin.execute(f'CREATE DATABASE "{db["NAME"]}"')


def time_pages(pages: dict[str, Callable[[], object]], requests: int) -> dict[str, dict]:
    """Each page's server time (ms, `requests` calls after 3 warm-up calls that must answer
    200) and the queries one call runs; Django's test client calls, no network."""
    from django.db import connection

    result: dict[str, dict] = {}
    for name, call in pages.items():
        for _ in range(3):  # warm up caches, connections, templates
            response = call()
            if response.status_code != 200:
                raise SystemExit(f"{name}: HTTP {response.status_code}")
        executed: list[str] = []

        def count(execute, sql, params, many, context, executed=executed):
            executed.append(sql)
            return execute(sql, params, many, context)

        # A wrapper, not CaptureQueriesContext: the request_started signal empties Django's
        # query log in the middle of the capture.
        with connection.execute_wrapper(count):
            call()
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        result[name] = {"ms": times, "queries": len(executed)}
    return result


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]
