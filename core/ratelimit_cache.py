"""Rate-limit counters that fail open: Redis, or a counter in this process while Redis is down.

django-ratelimit counts in a cache (``RATELIMIT_USE_CACHE``). On a Redis cache that swallows
errors, a Redis outage makes every count unknown and the limiter refuses everything: checkout
answers 429 to every collector. This backend counts in Redis as long as Redis answers; when a
call fails it logs one warning, counts in a small in-process cache instead, and tries Redis again
after ``RETRY_SECONDS`` (so an outage costs one connection attempt per process every few
seconds, not one per request). When Redis answers again it logs that and counts there again.

During an outage each process counts on its own, so with W web processes a limit lets through up
to W times its rate: loose, but still a limit, and checkout and webhooks go on.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache

from .redis_outage import ERRORS, RedisOutage

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
FALLBACK_NAME = "artspot-ratelimit-fallback"  # one store shared by every thread of the process


outage = RedisOutage("Rate limits", "counting in this process", "counting there", RETRY_SECONDS)


class FailOpenRedisCache(RedisCache):
    """A django-redis cache whose failures fall back to an in-process counter (see above)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = {**params.get("OPTIONS", {}), "IGNORE_EXCEPTIONS": False}
        super().__init__(server, {**params, "OPTIONS": options})
        self.fallback = LocMemCache(
            FALLBACK_NAME,
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_PREFIX": params.get("KEY_PREFIX", ""),
                "OPTIONS": {"MAX_ENTRIES": 20_000},
            },
        )

    def _either(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not outage.skip():
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except ERRORS as error:
                outage.failed(error)
            else:
                outage.answered()
                return result
        return getattr(self.fallback, name)(*args, **kwargs)

    # The calls django-ratelimit makes, and those tests and tools make.
    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("get", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("incr", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("set", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._either("delete", *args, **kwargs)

    def clear(self) -> Any:
        self.fallback.clear()
        return self._either("clear")
