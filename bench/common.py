"""What every benchmark script shares: progress on stderr, and its own database."""

import sys

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
