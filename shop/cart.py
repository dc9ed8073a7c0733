"""The cart: artwork ids and quantities in the session; everything else read from the database.

It works for guests and survives signing in (Django keeps session data when it rotates the key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpRequest

from artworks.models import Artwork, Availability

from . import rules

SESSION_KEY = "cart"
MAX_QUANTITY = 20


class CartError(Exception):
    """A change the cart refuses; the message is for the collector."""


def purchase_blockers(artwork: Artwork) -> list[str]:
    """Why this work cannot be bought now (empty when it can); other apps add rules (shop.rules)."""
    if not artwork.live or not artwork.artist.live:
        return ["This work is not on sale."]
    if not artwork.for_sale:
        return ["This work is not for sale."]
    if artwork.price_on_request or artwork.price is None:
        return ["This work is offered on request; please send an enquiry."]
    return rules.rule_problems(artwork.pk)


def units_free(artwork: Artwork) -> int:
    """Units not sold, withheld or held by someone (from the availability annotation)."""
    return max(0, artwork.units_unsold - artwork.units_held)


def per_order_limit(artwork: Artwork) -> int:
    return artwork.max_per_order if artwork.is_edition else 1


@dataclass
class CartLine:
    artwork: Artwork
    quantity: int
    problems: list[str] = field(default_factory=list)

    @property
    def line_total(self) -> Decimal:
        return (self.artwork.price or Decimal(0)) * self.quantity

    @property
    def can_buy(self) -> bool:
        return not self.problems


class Cart:
    def __init__(self, request: HttpRequest):
        self.session = request.session
        raw = self.session.get(SESSION_KEY, {})
        self.items: dict[str, int] = (
            {str(k): int(v) for k, v in raw.items() if str(k).isdigit() and str(v).isdigit()}
            if isinstance(raw, dict)
            else {}
        )

    def __len__(self) -> int:
        return sum(self.items.values())

    def _save(self) -> None:
        self.session[SESSION_KEY] = self.items
        self.session.modified = True

    @staticmethod
    def _artwork(artwork_id: int | str) -> Artwork:
        artwork = (
            Artwork.objects.public()
            .with_availability()
            .select_related("artist")
            .filter(pk=artwork_id)
            .first()
        )
        if artwork is None:
            raise CartError("That work is not available.")
        return artwork

    def add(self, artwork_id: int | str, quantity: int = 1) -> Artwork:
        artwork = self._artwork(artwork_id)
        wanted = self.items.get(str(artwork.pk), 0) + quantity
        self._check(artwork, wanted)
        self.items[str(artwork.pk)] = wanted
        self._save()
        return artwork

    def set_quantity(self, artwork_id: int | str, quantity: int) -> None:
        if quantity <= 0:
            self.remove(artwork_id)
            return
        artwork = self._artwork(artwork_id)
        self._check(artwork, quantity)
        self.items[str(artwork.pk)] = quantity
        self._save()

    def remove(self, artwork_id: int | str) -> None:
        self.items.pop(str(artwork_id), None)
        self._save()

    def clear(self) -> None:
        self.items = {}
        self._save()

    def _check(self, artwork: Artwork, quantity: int) -> None:
        blockers = purchase_blockers(artwork)
        if blockers:
            raise CartError(blockers[0])
        drop_limit = rules.collector_limit(artwork.pk)
        if drop_limit is not None and quantity > drop_limit:
            raise CartError(f"Each collector may buy at most {drop_limit} of “{artwork.title}”.")
        limit = per_order_limit(artwork)
        if quantity > min(limit, MAX_QUANTITY):
            raise CartError(
                f"You can buy at most {limit} of “{artwork.title}” in one order."
                if artwork.is_edition
                else f"“{artwork.title}” is a unique work: there is only one."
            )
        free = units_free(artwork)
        if free < quantity:
            if artwork.availability == Availability.SOLD:
                raise CartError(f"Sorry, “{artwork.title}” has just been sold.")
            if free == 0:
                raise CartError(f"“{artwork.title}” is on hold for another collector right now.")
            raise CartError(f"Only {free} of “{artwork.title}” are available.")
        for other_id in self.items:
            if other_id != str(artwork.pk):
                other = (
                    Artwork.objects.filter(pk=other_id).values_list("currency", flat=True).first()
                )
                if other and other != artwork.currency:
                    raise CartError(
                        "Your cart holds works priced in another currency; "
                        "please check those out first."
                    )
                break

    def lines(self) -> list[CartLine]:
        """Each item with its live price and anything that now stops it being bought."""
        ids = [int(k) for k in self.items]
        artworks = {a.pk: a for a in Artwork.objects.filter(pk__in=ids).for_listing()}
        lines = []
        for key, quantity in self.items.items():
            artwork = artworks.get(int(key))
            if artwork is None:
                continue
            line = CartLine(artwork, quantity)
            line.problems = purchase_blockers(artwork)
            if not line.problems:
                free = units_free(artwork)
                if artwork.availability == Availability.SOLD:
                    line.problems.append("Sold since you added it.")
                elif free == 0:
                    line.problems.append("On hold for another collector; it may come back soon.")
                elif free < quantity:
                    line.problems.append(f"Only {free} left; lower the quantity to continue.")
            lines.append(line)
        return lines

    @staticmethod
    def subtotal(lines: list[CartLine]) -> Decimal:
        return sum((line.line_total for line in lines if line.can_buy), Decimal(0))
