"""Reading settings from the environment, failing with a message that names the variable."""

import re
from collections.abc import Callable
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_NOT_SET = object()


def read(name: str, cast: Callable[..., Any], default: Any = _NOT_SET, help_text: str = "") -> Any:
    """Read ``name`` with ``cast`` (an environ.Env method); a bad value names the variable."""
    try:
        if default is _NOT_SET:
            return cast(name)
        return cast(name, default=default)
    except ImproperlyConfigured as exc:
        if name not in str(exc):
            raise ImproperlyConfigured(f"{name}: {exc} {help_text}".strip()) from None
        raise ImproperlyConfigured(f"{exc} {help_text}".strip()) from None
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed ({exc}). {help_text}".strip()
        ) from None


def read_bool(name: str, default: bool) -> bool:
    """Booleans accept only clear words; django-environ silently reads anything else as False."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"Environment variable {name}={raw!r} is not a boolean: "
        "use 1/0, true/false, yes/no or on/off."
    )


def read_database(name: str, default: str) -> dict:
    """Parse a database URL, naming the variable when the URL is malformed."""
    raw = env.str(name, default=default)
    if "://" not in raw:
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: expected e.g. "
            "postgres://user:password@host:5432/dbname or sqlite:////path/db.sqlite3."
        )
    scheme = raw.split("://", 1)[0]
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"Environment variable {name} uses the unsupported scheme {scheme!r}: "
            "use postgres:// or sqlite://."
        )
    try:
        config = env.db_url_config(raw)
    except Exception as exc:
        raise ImproperlyConfigured(f"Environment variable {name} is malformed ({exc}).") from None
    if config["ENGINE"].endswith("postgresql") and not config.get("NAME"):
        raise ImproperlyConfigured(f"Environment variable {name} names no database.")
    return config


def read_redis_url(name: str) -> str:
    """Return the Redis URL or an empty string; refuse anything that is not redis://."""
    raw = env.str(name, default="").strip()
    if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"Environment variable {name} is malformed: expected redis://host:6379/0."
        )
    return raw


def read_int(name: str, default: int, minimum: int) -> int:
    """An integer setting with a lower bound (a zero SLA or size limit is a typo, not a choice)."""
    value = read(name, env.int, default=default)
    if value < minimum:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value} must be at least {minimum}."
        )
    return value


_RATE = re.compile(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)")


def read_rate(name: str, default: str) -> str:
    """A DRF throttle rate such as 20/min; a bad one would otherwise fail every request."""
    value = env.str(name, default=default).strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} is not a rate: use e.g. 20/min or 100/hour."
        )
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def read_log_level(name: str, default: str) -> str:
    value = env.str(name, default=default).strip().upper()
    if value not in LOG_LEVELS:
        raise ImproperlyConfigured(
            f"Environment variable {name}={value!r} is not a log level: "
            f"use {', '.join(LOG_LEVELS)}."
        )
    return value
