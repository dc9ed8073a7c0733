"""A randomised entry window for the first seconds of a drop.

Collectors who start checkout in the first ``entry_window_seconds`` (W) of a drop are not served
in the order their requests arrive, which rewards fast networks and bots. Each gets, once per
session, a ticket: a random moment in ``[start + W, start + 2W)``. Checkout proceeds when that
moment comes (the waiting page re-submits by itself), so everyone who arrived in the window is
admitted in a uniformly random order. Later arrivals wait until ``start + 2W``, behind that
randomised group, and are then served as they come. Tickets live in the session, so reloading
does not draw again; a fresh session draws a fresh ticket but gains nothing on average.

The ticket is drawn on the collector's first request to Django about the drop's works: adding a
work to the cart (artwork pages come from the CDN), or checkout if that comes first. Drawing it
only at checkout let the server's own queue decide the order under a rush (bench/drop_day.py).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from .models import DropPage, DropStatus

SESSION_KEY = "drop-tickets"


def _ticket(request, drop: DropPage, now: datetime) -> datetime:
    window = timedelta(seconds=drop.entry_window_seconds)
    tickets = request.session.get(SESSION_KEY, {})
    stored = tickets.get(str(drop.pk))
    if stored is not None:
        return datetime.fromtimestamp(stored, tz=UTC)
    if drop.in_entry_window(now):
        offset = secrets.randbelow(max(1, int(window.total_seconds() * 1000))) / 1000
        admit = drop.starts_at + window + timedelta(seconds=offset)
    else:
        admit = max(now, drop.starts_at + 2 * window)
    tickets[str(drop.pk)] = admit.timestamp()
    request.session[SESSION_KEY] = tickets
    return admit


def admission_time(request, artwork_ids: list[int]) -> datetime | None:
    """When this session may check out these works (None when no drop window applies)."""
    now = timezone.now()
    window_end = None
    drops = DropPage.objects.filter(
        drop_artworks__artwork_id__in=artwork_ids, entry_window_seconds__gt=0
    ).distinct()
    for drop in drops:
        if drop.status_at(now) != DropStatus.LIVE:
            continue
        if now >= drop.starts_at + timedelta(seconds=2 * drop.entry_window_seconds):
            continue  # the randomised start is over: first come, first served
        admit = _ticket(request, drop, now)
        window_end = admit if window_end is None else max(window_end, admit)
    return window_end
