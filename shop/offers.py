"""A work's offer: the one answer to "what is for sale, at what price, until when".

Every place that shows or sells a work asks here: the artwork page and cards (``{% offer %}``
in ``shop_tags``), JSON-LD, search and autocomplete, feeds, the sitemap, the cart and checkout.
An :class:`Offer` says, for one moment:

* the price to show, or why none is shown (on request, hidden until a drop opens);
* the machine price and the schema.org availability (no ``Offer`` at all while a price is hidden);
* whether, and how many, units can be bought now, and the editions left ("3 of 15 left");
* until when this answer holds (``valid_until``): the cache lifetime of a page that shows it.

Inputs: the work's own fields and stock (``artworks``), the shop's active holds, and the sale
windows of the drops it is in (``drops.sale``: the shop asks, drops know nothing of the shop).
For a page of works that is two cache reads (unexpired holds, drop windows; a query each when
cold), whatever the number of works; both are kept on the request so every card shares them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.utils import timezone

from core.money import format_money
from drops.models import DropStatus
from drops.sale import SaleWindow, sale_windows

from .inventory import active_holds

SCHEMA = "https://schema.org"
REQUEST_ATTR = "_shop_offer_inputs"


class OfferState(StrEnum):
    AVAILABLE = "available"
    ON_HOLD = "on-hold"
    SOLD = "sold"
    UPCOMING = "upcoming"  # in a drop that has not opened yet
    ENDED = "ended"  # its drop has closed
    ON_REQUEST = "on-request"
    NOT_FOR_SALE = "not-for-sale"


SCHEMA_AVAILABILITY = {
    OfferState.AVAILABLE: f"{SCHEMA}/InStock",
    # In someone's checkout and may come back: "reserved and therefore not available".
    OfferState.ON_HOLD: f"{SCHEMA}/Reserved",
    OfferState.SOLD: f"{SCHEMA}/SoldOut",
    OfferState.UPCOMING: f"{SCHEMA}/PreSale",
    OfferState.ENDED: f"{SCHEMA}/Discontinued",
    OfferState.ON_REQUEST: f"{SCHEMA}/InStock",
}


def _moment(value: datetime) -> str:
    local = timezone.localtime(value)
    return f"{local:%-d %B %Y, %H:%M %Z}"


@dataclass(frozen=True)
class Offer:
    artwork_id: int
    state: OfferState
    label: str  # what the availability badge says
    price: Decimal | None  # the machine price, when it may be shown
    currency: str
    price_text: str  # what the price slot says ("£17,780.00", "Price at release", …)
    buyable: int  # most units one order may buy now; 0 when it cannot be bought
    reason: str  # why it cannot be bought now, for the collector ("" when it can)
    units_left: int
    edition_size: int
    collector_limit: int | None = None  # a live drop's per-collector limit
    available_from: datetime | None = None  # an upcoming drop's opening
    valid_until: datetime | None = None  # this answer may change at this moment

    @property
    def can_buy(self) -> bool:
        return self.buyable > 0

    @property
    def is_edition(self) -> bool:
        return self.edition_size > 1

    @property
    def left_text(self) -> str:
        """ "3 of 15 left" for an edition that is on sale; empty otherwise."""
        if not self.is_edition or self.state != OfferState.AVAILABLE:
            return ""
        return f"{self.units_left} of {self.edition_size} left"

    def seconds_valid(self, now: datetime | None = None) -> float | None:
        if self.valid_until is None:
            return None
        return max(0.0, (self.valid_until - (now or timezone.now())).total_seconds())

    def schema(self, url: str) -> dict[str, Any] | None:
        """The schema.org ``Offer``; ``None`` when not for sale or while the price is hidden."""
        availability = SCHEMA_AVAILABILITY.get(self.state)
        if availability is None:
            return None
        if self.state == OfferState.UPCOMING and self.price is None:
            return None
        offer: dict[str, Any] = {"@type": "Offer", "url": url, "availability": availability}
        if self.price is not None:
            offer["price"] = f"{self.price:.2f}"
            offer["priceCurrency"] = self.currency
        if self.available_from is not None:
            offer["availabilityStarts"] = self.available_from.isoformat()
        return offer


@dataclass
class _Inputs:
    now: datetime
    holds: dict[int, tuple[int, datetime]]
    windows: dict[int, list[SaleWindow]]


def _governing(windows: list[SaleWindow], now: datetime) -> SaleWindow | None:
    """The window that decides: a live one, else the next to open, else the last to close."""
    if not windows:
        return None
    by_status: dict[str, list[SaleWindow]] = {}
    for window in windows:
        by_status.setdefault(window.status_at(now), []).append(window)
    if live := by_status.get(DropStatus.LIVE):
        return min(live, key=lambda w: w.per_collector_limit)
    if upcoming := by_status.get(DropStatus.UPCOMING):
        return min(upcoming, key=lambda w: w.starts_at)
    return max(by_status[DropStatus.ENDED], key=lambda w: w.ends_at or w.starts_at)


def _next_change(*moments: datetime | None) -> datetime | None:
    known = [m for m in moments if m is not None]
    return min(known) if known else None


def build_offer(artwork, inputs: _Inputs) -> Offer:
    """The offer of one work from its fields and stock and the gathered holds and windows."""
    now = inputs.now
    in_stock = artwork.units_in_stock
    held, first_lapse = inputs.holds.get(artwork.pk, (0, None))
    free = max(0, in_stock - held)
    windows = inputs.windows.get(artwork.pk, [])
    window = _governing(windows, now)
    change = _next_change(*(w.next_change_after(now) for w in windows))
    status = window.status_at(now) if window else None
    hidden = status == DropStatus.UPCOMING and window.hides_price
    on_request = artwork.price_on_request or artwork.price is None
    price = None if (hidden or on_request) else artwork.price
    base = {
        "artwork_id": artwork.pk,
        "currency": artwork.currency,
        "price": price,
        "price_text": (
            "Price at release"
            if hidden
            else "Price on request"
            if on_request
            else format_money(artwork.price, artwork.currency)
        ),
        "units_left": free,
        "edition_size": artwork.unit_count if artwork.is_edition else 1,
        "valid_until": change,
    }

    def offer(state: OfferState, label: str, reason: str = "", **extra) -> Offer:
        return Offer(state=state, label=label, reason=reason, buyable=0, **{**base, **extra})

    if not artwork.live or not artwork.artist.live:
        return offer(OfferState.NOT_FOR_SALE, "Not on sale", "This work is not on sale.")
    if not artwork.for_sale:
        return offer(OfferState.NOT_FOR_SALE, "Not for sale", "This work is not for sale.")
    if in_stock == 0:
        return offer(OfferState.SOLD, "Sold", f"Sorry, “{artwork.title}” has been sold.")
    if status == DropStatus.UPCOMING:
        opening = _moment(window.starts_at)
        return offer(
            OfferState.UPCOMING,
            f"On sale {opening}",
            f"Coming soon: on sale from {opening} in the drop “{window.title}”.",
            available_from=window.starts_at,
        )
    if status == DropStatus.ENDED:
        return offer(
            OfferState.ENDED,
            "No longer on sale",
            f"The drop “{window.title}” has ended; this work is no longer on sale.",
        )
    if on_request:
        return offer(
            OfferState.ON_REQUEST,
            "Available on request",
            "This work is offered on request; please send an enquiry.",
        )
    if free == 0:
        return offer(
            OfferState.ON_HOLD,
            "On hold",
            f"“{artwork.title}” is on hold for another collector right now; "
            "it may come back in a few minutes.",
            valid_until=_next_change(change, first_lapse),
        )
    limit = window.per_collector_limit if window else None
    per_order = artwork.max_per_order if artwork.is_edition else 1
    buyable = min(free, per_order, *([limit] if limit else []))
    return Offer(
        state=OfferState.AVAILABLE,
        label="Available",
        reason="",
        buyable=buyable,
        collector_limit=limit,
        **base,
    )


def _gather(artwork_ids: list[int] | None, now: datetime, fresh: bool) -> _Inputs:
    return _Inputs(
        now=now,
        holds=active_holds(artwork_ids, now=now),
        windows=sale_windows(artwork_ids, fresh=fresh),
    )


def offers_for(
    artworks: Iterable, *, request=None, now: datetime | None = None, fresh: bool = False
) -> dict[int, Offer]:
    """Offers of several works, by id, for ``now`` (the request's moment when given a request).

    With a ``request``, the holds and drop windows are read once and kept on it, so every card
    of a page asks at no further cost. ``fresh=True`` (purchase paths) reads the database for
    the works asked about and never the cache.
    """
    artworks = list(artworks)
    if request is not None and not fresh:
        inputs = getattr(request, REQUEST_ATTR, None)
        if inputs is None:
            inputs = _gather(None, now or timezone.now(), fresh=False)
            setattr(request, REQUEST_ATTR, inputs)
    else:
        inputs = _gather([a.pk for a in artworks], now or timezone.now(), fresh=fresh)
    return {artwork.pk: build_offer(artwork, inputs) for artwork in artworks}


def offer_for(artwork, *, request=None, now: datetime | None = None, fresh: bool = False) -> Offer:
    return offers_for([artwork], request=request, now=now, fresh=fresh)[artwork.pk]
