"""Which drops to show where: the home page, artist pages and embedded drop blocks.

The home page has a strict query budget, so what it shows comes from the cache: the list of
current drops and the embedded drop pages (with their hero images) are kept for ``CACHE_SECONDS``,
so a warm home page makes no query for drops and what an editor publishes shows within a minute
(the CDN keeps the page itself for longer). The status (upcoming / live / ended) is never cached:
it is worked out from the clock on every render, so a drop opens on the home page to the second and
an ended drop drops out of the list at once.
"""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from .models import DropPage, DropStatus

CACHE_SECONDS = 60
HOME_LIMIT = 6
ARTIST_LIMIT = 6


def _not_ended(now) -> Q:
    return Q(ends_at__isnull=True) | Q(ends_at__gt=now)


def current_drops(limit: int = HOME_LIMIT) -> list[DropPage]:
    """Published drops that are live or coming, live first then soonest (cached, see above)."""
    key = f"drops:current:{limit}"
    drops = cache.get(key)
    if drops is None:
        now = timezone.now()
        drops = list(
            DropPage.objects.live()
            .public()
            .filter(_not_ended(now))
            .select_related("hero_image")
            .order_by("starts_at")[: limit * 2]
        )
        cache.set(key, drops, CACHE_SECONDS)
    return _live_then_upcoming(drops)[:limit]


def _live_then_upcoming(drops: list[DropPage]) -> list[DropPage]:
    now = timezone.now()
    live = [d for d in drops if d.status_at(now) == DropStatus.LIVE]
    upcoming = [d for d in drops if d.status_at(now) == DropStatus.UPCOMING]
    return live + upcoming


def drops_for_artist(artist, limit: int = ARTIST_LIMIT) -> list[DropPage]:
    """Live and upcoming published drops with a live work by ``artist`` (two queries)."""
    now = timezone.now()
    drops = (
        DropPage.objects.live()
        .public()
        .filter(_not_ended(now))
        .filter(drop_artworks__artwork__artist=artist, drop_artworks__artwork__live=True)
        .select_related("hero_image")
        .distinct()
        .order_by("starts_at")[:limit]
    )
    return _live_then_upcoming(list(drops))


def drops_by_pk(pks: list[int]) -> dict[int, DropPage]:
    """Drop pages (any state, with hero image) by id, from the cache when it has them.

    For the embed block: editors choose the drop, so this does not filter; the block's template
    shows nothing for a drop that is unpublished or over.
    """
    keys = {pk: f"drops:embed:{pk}" for pk in set(pks) if pk is not None}
    found = cache.get_many(list(keys.values())) if keys else {}
    drops = {pk: found[key] for pk, key in keys.items() if key in found}
    missing = [pk for pk in keys if pk not in drops]
    if missing:
        fetched = DropPage.objects.select_related("hero_image").in_bulk(missing)
        cache.set_many({keys[pk]: drop for pk, drop in fetched.items()}, CACHE_SECONDS)
        drops.update(fetched)
    return drops
