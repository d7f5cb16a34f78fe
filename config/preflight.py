"""Checks of the database and the broker, worded so an operator knows what to fix."""

from django.conf import settings
from django.db import OperationalError, connections


def _database_hint() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite file {db['NAME']}"
    return f"PostgreSQL at {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


def explain(exc: BaseException) -> str | None:
    """One line for a dependency that is down; None for an error that is a real bug."""
    if isinstance(exc, OperationalError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.rstrip(".")
        return (
            f"Database unreachable ({_database_hint()}): {first}. "
            "Check DATABASE_URL and that the server is running."
        )
    name = type(exc).__module__ + "." + type(exc).__name__
    if name.startswith(("redis.", "kombu.")) or "OperationalError" in name:
        return (
            f"Redis unreachable at {settings.REDIS_URL}: {str(exc).rstrip('.')}. "
            "Check REDIS_URL and that redis-server is running, "
            "or unset REDIS_URL to run tasks eagerly."
        )
    return None


def check_database() -> str:
    """'ok' or a one-line reason."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return explain(exc) or f"Database error: {exc}"
    return "ok"


def check_redis(timeout: float = 2.0) -> str:
    """'ok', 'eager' when no broker is configured, or a one-line reason."""
    if not settings.REDIS_URL:
        return "eager"
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        client.ping()
    except Exception as exc:
        return explain(exc) or f"Redis error: {exc}"
    return "ok"
