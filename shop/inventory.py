"""Holding and selling units, safely under any concurrency.

Every function here locks the inventory rows it decides about (``select_for_update``, ordered by
primary key so two checkouts never deadlock) inside one transaction, and only then looks at them.
A unit is free, held by one order until a time, or sold; the database refuses a unit that is both
held and sold (``artworks.ArtworkUnit`` constraints), so ``sold + held <= units`` always holds.
An expired hold counts as free at once; ``release_expired_holds`` only tidies up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from artworks.models import Artwork, ArtworkUnit

from . import rules
from .models import Order, OrderLine
from .models.orders import PAID_STATUSES


class CannotHold(Exception):
    """Some requested units could not be held; ``problems`` says which and why, per artwork."""

    def __init__(self, problems: dict[int, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


@dataclass(frozen=True)
class Request:
    artwork: Artwork
    quantity: int


def _free(unit: ArtworkUnit, now: datetime, order: Order | None = None) -> bool:
    if unit.sold_at is not None or unit.withheld:
        return False
    if unit.held_until is None or unit.held_until <= now:
        return True
    return order is not None and unit.held_by_id == order.pk


def _already_bought(order: Order, artwork_id: int, now: datetime) -> int:
    """Units of a work this collector (same account or same email) holds or has bought."""
    collector = Q(order__email__iexact=order.email)
    if order.user_id:
        collector |= Q(order__user_id=order.user_id)
    lines = OrderLine.objects.filter(collector, artwork_id=artwork_id).exclude(order=order)
    sold = Q(unit__sold_at__isnull=False, order__status__in=PAID_STATUSES)
    held = Q(unit__held_by=F("order"), unit__held_until__gt=now)
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
        units = list(
            ArtworkUnit.objects.select_for_update()
            .filter(artwork__in=[r.artwork.pk for r in requests], sold_at__isnull=True)
            .order_by("pk")
        )
        problems: dict[int, str] = {}
        chosen: list[ArtworkUnit] = []
        for request in requests:
            limit = rules.collector_limit(request.artwork.pk)
            if limit is not None:
                owned = _already_bought(order, request.artwork.pk, now)
                if owned + request.quantity > limit:
                    problems[request.artwork.pk] = (
                        f"Each collector may buy at most {limit} of “{request.artwork.title}”"
                        + (f"; you already have {owned}." if owned else ".")
                    )
                    continue
            candidates = [u for u in units if u.artwork_id == request.artwork.pk]
            free = [u for u in candidates if _free(u, now)]
            if len(free) >= request.quantity:
                chosen += free[: request.quantity]
                continue
            held_by_others = [u for u in candidates if not u.withheld and not _free(u, now)]
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
        for unit in chosen:
            unit.held_by = order
            unit.held_until = until
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
        ArtworkUnit.objects.bulk_update(chosen, ["held_by", "held_until"])
        order.hold_expires_at = until
        order.save(update_fields=["hold_expires_at"])
    return chosen


def release_holds(order: Order) -> int:
    """Free every unit still held for ``order`` (payment expired, failed or cancelled)."""
    with transaction.atomic():
        units = list(
            ArtworkUnit.objects.select_for_update()
            .filter(held_by=order, sold_at__isnull=True)
            .order_by("pk")
        )
        for unit in units:
            unit.held_by = None
            unit.held_until = None
        ArtworkUnit.objects.bulk_update(units, ["held_by", "held_until"])
    return len(units)


def sell_order_units(order: Order) -> bool:
    """Turn the order's units into sales. False (and nothing sold) if any unit went elsewhere.

    A unit whose hold expired but which nobody else took is still sold to this order: the
    collector paid for it and it was free. Must run inside the caller's transaction.
    """
    now = timezone.now()
    unit_ids = [line.unit_id for line in order.lines.all() if line.unit_id]
    units = list(ArtworkUnit.objects.select_for_update().filter(pk__in=unit_ids).order_by("pk"))
    if len(units) != len(unit_ids) or not all(_free(unit, now, order) for unit in units):
        return False
    for unit in units:
        unit.sold_at = now
        unit.held_by = None
        unit.held_until = None
    ArtworkUnit.objects.bulk_update(units, ["sold_at", "held_by", "held_until"])
    return True


def release_expired_holds() -> int:
    """Clear holds whose time has passed (they already count as free; this tidies the rows)."""
    now = timezone.now()
    with transaction.atomic():
        units = list(
            ArtworkUnit.objects.select_for_update(skip_locked=True)
            .filter(Q(held_until__lte=now), sold_at__isnull=True)
            .order_by("pk")
        )
        for unit in units:
            unit.held_by = None
            unit.held_until = None
        ArtworkUnit.objects.bulk_update(units, ["held_by", "held_until"])
    return len(units)
