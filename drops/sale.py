"""The one question the shop asks drops: when may these works be sold?

``sale_windows(artwork_ids)`` gives, per work, the sale windows of the drops it belongs to. The
shop (``shop.offers``) turns them into what a collector sees and may buy; drops know nothing of
the shop. Every drop page counts, published or not: a draft drop still guards its works.

Pages ask with ``fresh=False`` and get an answer cached for ``CACHE_SECONDS`` (cleared whenever a
drop page is saved, published, unpublished or deleted); the moment a window opens is compared
with the clock by the caller, so a cached answer still opens a drop to the second. Purchase paths
(cart, checkout) ask with ``fresh=True`` and read the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache

from core import frontend_cache
from core.db_routing import on_primary

from .models import DropArtwork, status_between

CACHE_KEY = "drops:sale-windows"
CACHE_SECONDS = 300


@dataclass(frozen=True)
class SaleWindow:
    """One drop's sale window for its works."""

    drop_id: int
    title: str
    starts_at: datetime
    ends_at: datetime | None
    hides_price: bool  # the price stays hidden until ``starts_at``
    per_collector_limit: int

    def status_at(self, moment: datetime) -> str:
        return status_between(moment, self.starts_at, self.ends_at)

    def next_change_after(self, moment: datetime) -> datetime | None:
        """The next moment this window opens or closes, if one is still to come."""
        later = [m for m in (self.starts_at, self.ends_at) if m and m > moment]
        return min(later) if later else None


def _windows(rows) -> dict[int, list[SaleWindow]]:
    windows: dict[int, list[SaleWindow]] = {}
    for row in rows:
        windows.setdefault(row["artwork_id"], []).append(
            SaleWindow(
                drop_id=row["page_id"],
                title=row["page__title"],
                starts_at=row["page__starts_at"],
                ends_at=row["page__ends_at"],
                hides_price=not row["page__show_prices_before_start"],
                per_collector_limit=row["page__per_collector_limit"],
            )
        )
    return windows


def _rows(artwork_ids=None):
    rows = DropArtwork.objects.all()
    if artwork_ids is not None:
        rows = rows.filter(artwork_id__in=list(artwork_ids))
    return rows.values(
        "artwork_id",
        "page_id",
        "page__title",
        "page__starts_at",
        "page__ends_at",
        "page__show_prices_before_start",
        "page__per_collector_limit",
    )


def sale_windows(artwork_ids=None, *, fresh: bool = False) -> dict[int, list[SaleWindow]]:
    """Artwork id -> the sale windows of the drops it is in (works in no drop are absent)."""
    if fresh:
        return _windows(_rows(artwork_ids))
    windows = cache.get(CACHE_KEY)
    if windows is None:
        # Cached for every page: read from the primary, never a lagging replica (core.db_routing).
        with on_primary():
            windows = _windows(_rows())
        cache.set(CACHE_KEY, windows, CACHE_SECONDS)
    if artwork_ids is None:
        return windows
    return {pk: windows[pk] for pk in artwork_ids if pk in windows}


def purge_drop_artwork(sender, instance: DropArtwork, **kwargs) -> None:
    """Signal receiver: a work joined or left a drop; pages showing it change (frontend cache)."""
    if not kwargs.get("raw"):
        frontend_cache.purge_works([instance.artwork_id])


def purge_drop_works(sender, instance, **kwargs) -> None:
    """Signal receiver: a drop published or unpublished (its window may have moved)."""
    frontend_cache.purge_works(instance.drop_artworks.values_list("artwork_id", flat=True))


def forget_sale_windows(**kwargs) -> None:
    """Signal receiver: a drop changed, so the cached windows are out of date."""
    cache.delete(CACHE_KEY)
