"""One helper for per-address limits on public forms (enquiries, notify-me …).

``over_limit(request, group, ["5/m", "20/h"])`` counts one attempt from the request's client
address (``core.client_address``: the collector's, not the proxy's) against every rate, and says
whether any is exceeded. Every rate is counted on every attempt, so a burst also fills the
hourly bucket. Counting follows ``RATELIMIT_ENABLE`` and the fail-open counters of
``core.ratelimit_cache``. The caller answers 429 and saves and sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

TOO_MANY = "Too many attempts from your connection. Please wait a few minutes and try again."


def over_limit(request: HttpRequest, group: str, rates: Sequence[str]) -> bool:
    """Count this attempt against each rate for the client address; True if any is exceeded."""
    results = [
        is_ratelimited(request, group=group, key="ip", rate=rate, increment=True) for rate in rates
    ]
    return any(results)
