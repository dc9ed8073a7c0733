"""A Redis that fails: note it once, leave it alone a few seconds, and owe a step to its return.

Several parts of ArtSpot keep something in Redis that the site can live without for a while
(the page cache, lookups, rate-limit counts). Each keeps one :class:`RedisOutage` for its
process: the first failure is logged, Redis is not asked again for ``retry_seconds`` (so an
outage costs one connection attempt per process every few seconds, not one per request), and
the first call that reaches Redis again first runs the part's ``recover`` step (renew every
page, drop every lookup) since a change made meanwhile could not reach Redis itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

ERRORS = (RedisError, OSError)
RETRY_SECONDS = 5.0


class RedisOutage:
    """Process-wide: whether Redis failed, and when to ask it again."""

    def __init__(
        self, name: str, meanwhile: str, on_return: str, retry_seconds: float = RETRY_SECONDS
    ):
        self.name = name  # "Page cache"
        self.meanwhile = meanwhile  # what the site does without Redis
        self.on_return = on_return  # what the first call back does
        self.retry_seconds = retry_seconds
        self.lock = threading.Lock()
        self.down = False
        self.retry_at = 0.0

    def failed(self, error: Exception) -> None:
        with self.lock:
            if not self.down:
                logger.warning(
                    "%s: Redis is unreachable (%s); %s until it answers again.",
                    self.name,
                    error.__class__.__name__,
                    self.meanwhile,
                )
            self.down = True
            self.retry_at = time.monotonic() + self.retry_seconds

    def skip(self) -> bool:
        """Whether to leave Redis alone now (it failed less than ``retry_seconds`` ago)."""
        return self.down and time.monotonic() < self.retry_at

    def answered(self) -> None:
        if self.down:
            with self.lock:
                if self.down:
                    logger.warning("%s: Redis answers again; %s.", self.name, self.on_return)
                self.down = False

    def call(
        self,
        operation: Callable[[], Any],
        default: Any = None,
        recover: Callable[[], Any] | None = None,
    ) -> Any:
        """``operation()``, or ``default`` while Redis is down or when the call fails. The first
        call after an outage runs ``recover()`` first."""
        if self.skip():
            return default
        try:
            if self.down and recover is not None:
                recover()
            result = operation()
        except ERRORS as error:
            self.failed(error)
            return default
        self.answered()
        return result
