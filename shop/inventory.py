"""Holding and selling units, safely under any concurrency.

Every function here locks the inventory rows it decides about (``select_for_update`` on
``artworks.ArtworkUnit``, ordered by primary key so two checkouts never deadlock) inside one
transaction, and only then looks at them and at their holds (``shop.Hold``, at most one per
unit). A unit is free, held by one order until a time, or sold; selling deletes the unit's hold in
the same transaction, so ``sold + held <= units`` always holds. A lapsed hold counts as free at
once; ``release_expired_holds`` only tidies up. Returning units to sale (a cancellation or a
refund that restocks) also happens here, in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from artworks.models import Artwork, ArtworkUnit
from core import frontend_cache, page_cache
from core.db_routing import on_primary

from .models import Hold, Order, OrderLine
from .models.orders import PaymentStatus

# Pages read unexpired holds from the cache (see active_holds); a change clears it.
HOLDS_CACHE_KEY = "shop:unexpired-holds"
HOLDS_CACHE_SECONDS = 60


class CannotHold(Exception):
    """Some requested units could not be held; ``problems`` says which and why, per artwork."""

    def __init__(self, problems: dict[int, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Request:
    artwork: Artwork
    quantity: int
    # The most units of this work one collector may hold or own (a live drop's limit), if any.
    collector_limit: int | None = None


def _locked_units(**filters) -> tuple[list[ArtworkUnit], dict[int, Hold]]:
    """Lock units by primary key, then read their holds (the lock covers them: see module)."""
    units = list(ArtworkUnit.objects.select_for_update().filter(**filters).order_by("pk"))
    holds = {hold.unit_id: hold for hold in Hold.objects.filter(unit__in=[u.pk for u in units])}
    return units, holds


def _free(unit: ArtworkUnit, hold: Hold | None, now: datetime, order: Order | None = None) -> bool:
    if unit.sold_at is not None or unit.withheld:
        return False
    if hold is None or hold.held_until <= now:
        return True
    return order is not None and hold.order_id == order.pk


def _already_bought(order: Order, artwork_id: int, now: datetime) -> int:
    """Units of a work this collector (same account or same email) holds or has bought."""
    collector = Q(order__email__iexact=order.email)
    if order.user_id:
        collector |= Q(order__user_id=order.user_id)
    lines = OrderLine.objects.filter(collector, artwork_id=artwork_id).exclude(order=order)
    sold = Q(
        unit__sold_at__isnull=False,
        order__payment_status__in=[PaymentStatus.PAID, PaymentStatus.PARTLY_REFUNDED],
        refund__isnull=True,
    )
    held = Q(unit__hold__order=F("order"), unit__hold__held_until__gt=now)
    return lines.filter(sold | held).count()


def hold_units(order: Order, requests: Iterable[Request], until: datetime) -> list[ArtworkUnit]:
    """Hold ``quantity`` units of each artwork for ``order`` until ``until``; all or nothing.

    Creates the order's lines (price snapshots from the database). Raises :class:`CannotHold`
    naming each work that is sold or on hold for someone else, or beyond a per-collector limit;
    then nothing is held. The limit is counted after the work's rows are locked, so two carts of
    one collector cannot both slip under it.
    """
    requests = list(requests)
    now = timezone.now()
    with transaction.atomic():
        units, holds = _locked_units(
            artwork__in=[r.artwork.pk for r in requests], sold_at__isnull=True
        )
        problems: dict[int, str] = {}
        chosen: list[ArtworkUnit] = []
        for request in requests:
            limit = request.collector_limit
            if limit is not None:
                owned = _already_bought(order, request.artwork.pk, now)
                if owned + request.quantity > limit:
                    problems[request.artwork.pk] = (
                        f"Each collector may buy at most {limit} of “{request.artwork.title}”"
                        + (f"; you already have {owned}." if owned else ".")
                    )
                    continue
            candidates = [u for u in units if u.artwork_id == request.artwork.pk]
            free = [u for u in candidates if _free(u, holds.get(u.pk), now)]
            if len(free) >= request.quantity:
                chosen += free[: request.quantity]
                continue
            held_by_others = [
                u for u in candidates if not u.withheld and not _free(u, holds.get(u.pk), now)
            ]
            if free:
                problems[request.artwork.pk] = (
                    f"Only {len(free)} of “{request.artwork.title}” can be bought right now."
                )
            elif held_by_others:
                problems[request.artwork.pk] = (
                    f"“{request.artwork.title}” is on hold for another collector who is paying "
                    "for it now. It may be released in a few minutes."
                )
            else:
                problems[request.artwork.pk] = f"“{request.artwork.title}” has just been sold."
        if problems:
            raise CannotHold(problems)
        by_artwork = {r.artwork.pk: r.artwork for r in requests}
        # Lapsed holds on the chosen units make way for the new ones (one row per unit).
        Hold.objects.filter(unit__in=[u.pk for u in chosen]).delete()
        Hold.objects.bulk_create([Hold(unit=u, order=order, held_until=until) for u in chosen])
        _holds_changed({u.artwork_id for u in chosen})
        for unit in chosen:
            artwork = by_artwork[unit.artwork_id]
            OrderLine.objects.create(
                order=order,
                artwork=artwork,
                unit=unit,
                title=artwork.title,
                artist_name=artwork.artist.title,
                edition_number=unit.number if artwork.is_edition else None,
                edition_size=artwork.edition_size if artwork.is_edition else None,
                unit_price=artwork.price,
            )
        order.hold_expires_at = until
        order.save(update_fields=["hold_expires_at"])
    return chosen


def release_holds(order: Order) -> int:
    """Free every unit still held for ``order`` (payment expired, failed or cancelled)."""
    with transaction.atomic():
        unit_ids = list(Hold.objects.filter(order=order).values_list("unit_id", flat=True))
        units, _ = _locked_units(pk__in=unit_ids)
        released, _ = Hold.objects.filter(order=order, unit__in=unit_ids).delete()
        _holds_changed({unit.artwork_id for unit in units})
    return released


def sell_order_units(order: Order) -> bool:
    """Turn the order's units into sales. False (and nothing sold) if any unit went elsewhere.

    A unit whose hold lapsed but which nobody else took is still sold to this order: the
    collector paid for it and it was free. Must run inside the caller's transaction.
    """
    now = timezone.now()
    unit_ids = [line.unit_id for line in order.lines.all() if line.unit_id]
    units, holds = _locked_units(pk__in=unit_ids)
    if len(units) != len(unit_ids) or not all(
        _free(unit, holds.get(unit.pk), now, order) for unit in units
    ):
        return False
    Hold.objects.filter(unit__in=unit_ids).delete()
    ArtworkUnit.objects.filter(pk__in=unit_ids).update(sold_at=now)
    _holds_changed({unit.artwork_id for unit in units})
    # "Sold" / "2 of 15 left" on every public page that shows these works.
    frontend_cache.purge_works({unit.artwork_id for unit in units})
    return True


def return_to_sale(lines: Iterable[OrderLine]) -> int:
    """Put the sold units of ``lines`` back on sale (a cancellation or a restocking refund).

    Must run inside the caller's transaction; a unit already back on sale is left alone, so
    calling it twice for the same lines returns nothing the second time.
    """
    unit_ids = [line.unit_id for line in lines if line.unit_id]
    units, _ = _locked_units(pk__in=unit_ids, sold_at__isnull=False)
    ArtworkUnit.objects.filter(pk__in=[u.pk for u in units]).update(sold_at=None)
    frontend_cache.purge_works({unit.artwork_id for unit in units})
    return len(units)


def release_expired_holds() -> int:
    """Delete holds whose time has passed (they already count as free; this tidies the rows)."""
    now = timezone.now()
    with transaction.atomic():
        unit_ids = list(
            Hold.objects.filter(held_until__lte=now).values_list("unit_id", flat=True)[:1000]
        )
        units = list(
            ArtworkUnit.objects.select_for_update(skip_locked=True)
            .filter(pk__in=unit_ids)
            .order_by("pk")
        )
        deleted, _ = Hold.objects.filter(
            unit__in=[u.pk for u in units], held_until__lte=now
        ).delete()
    return deleted


def active_holds(artwork_ids: Iterable[int] | None = None, now: datetime | None = None):
    """Per artwork: units held right now and when the first of those holds lapses.

    Without ``artwork_ids`` (pages) the answer comes from the cache when it can: the list of
    unexpired holds, kept until a hold is made, released or sold (see :func:`_holds_changed`)
    and compared with the clock here, so a lapsed hold stops counting on time. With
    ``artwork_ids`` (the cart and checkout) it is read from the database.
    """
    now = now or timezone.now()
    if artwork_ids is None:
        rows = cache.get(HOLDS_CACHE_KEY)
        if rows is None:
            # What every page will trust for a minute is read from the primary, never from a
            # lagging replica (core.db_routing), or a hold just made could vanish from pages.
            with on_primary():
                rows = _unexpired_holds(now)
            cache.set(HOLDS_CACHE_KEY, rows, HOLDS_CACHE_SECONDS)
    else:
        rows = _unexpired_holds(now, artwork_ids)
    result: dict[int, tuple[int, datetime]] = {}
    for artwork_id, held_until in rows:
        if held_until > now:
            count, first = result.get(artwork_id, (0, held_until))
            result[artwork_id] = (count + 1, min(first, held_until))
    return result


def _unexpired_holds(now: datetime, artwork_ids: Iterable[int] | None = None) -> list:
    rows = Hold.objects.filter(held_until__gt=now, unit__sold_at__isnull=True)
    if artwork_ids is not None:
        rows = rows.filter(unit__artwork__in=list(artwork_ids))
    return list(rows.values_list("unit__artwork_id", "held_until"))


def _holds_changed(artwork_ids: Iterable[int]) -> None:
    """Holds were made, released or sold: forget the cached list now and again at the commit
    (a page read between the two would otherwise cache the list as it was before), and renew
    the origin's cached pages that show these works ("on hold", "2 of 15 left"). CloudFront is
    not purged for holds: they last minutes (docs/decisions.md)."""
    cache.delete(HOLDS_CACHE_KEY)
    transaction.on_commit(lambda: cache.delete(HOLDS_CACHE_KEY))
    page_cache.invalidate_works(artwork_ids)
