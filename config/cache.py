"""The Redis cache, degrading instead of failing: with Redis down or slow, a read is a miss and
a write is dropped, so throttles, allauth's rate limits and cached statistics let the request
through rather than answer 500. Nothing here holds data only the cache has.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# One warning per this many seconds while Redis stays down, not one per request.
WARN_EVERY_SECONDS = 30.0


class DegradingRedisCache(RedisCache):
    """RedisCache whose connection errors and timeouts are logged and answered as a miss."""

    _warned_at = float("-inf")

    def _degrade(self, operation: str, error: Exception, fallback: object) -> object:
        now = time.monotonic()
        if now - DegradingRedisCache._warned_at >= WARN_EVERY_SECONDS:
            DegradingRedisCache._warned_at = now
            logger.warning("cache %s failed, treated as a miss: %s", operation, error)
        return fallback

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except (RedisError, OSError) as error:
            return self._degrade("get", error, default)

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except (RedisError, OSError) as error:
            return self._degrade("get_many", error, {})

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except (RedisError, OSError) as error:
            return self._degrade("has_key", error, False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except (RedisError, OSError) as error:
            # As for a missing key: added. A lock taken with add (allauth's rate limits take
            # one) then lets the request through rather than refusing it as rate limited.
            return self._degrade("add", error, True)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set(key, value, timeout, version)
        except (RedisError, OSError) as error:
            return self._degrade("set", error, None)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except (RedisError, OSError) as error:
            return self._degrade("set_many", error, list(data))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except (RedisError, OSError) as error:
            return self._degrade("touch", error, False)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except (RedisError, OSError) as error:
            return self._degrade("delete", error, False)

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except (RedisError, OSError) as error:
            return self._degrade("delete_many", error, None)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except (RedisError, OSError) as error:
            # No stored count to add to: as for a missing key.
            self._degrade("incr", error, None)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from error
