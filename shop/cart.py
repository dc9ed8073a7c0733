"""The cart: artwork ids and quantities in the session; everything else read from the database.

What may be bought, and how many, is the work's offer (``shop.offers``), read fresh from the
database on every change and every view of the cart. It works for guests and survives signing in
(Django keeps session data when it rotates the key).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpRequest

from artworks.models import Artwork

from .offers import Offer, OfferState, offer_for, offers_for

SESSION_KEY = "cart"
MAX_QUANTITY = 20


class CartError(Exception):
    """A change the cart refuses; the message is for the collector."""


@dataclass
class CartLine:
    artwork: Artwork
    quantity: int
    offer: Offer
    problems: list[str] = field(default_factory=list)

    @property
    def line_total(self) -> Decimal:
        return (self.offer.price or Decimal(0)) * self.quantity

    @property
    def can_buy(self) -> bool:
        return not self.problems


def quantity_problem(artwork: Artwork, offer: Offer, quantity: int) -> str:
    """Why ``quantity`` of this work cannot be bought now ("" when it can)."""
    if not offer.can_buy:
        return offer.reason
    if offer.collector_limit is not None and quantity > offer.collector_limit:
        return f"Each collector may buy at most {offer.collector_limit} of “{artwork.title}”."
    per_order = artwork.max_per_order if artwork.is_edition else 1
    if quantity > min(per_order, MAX_QUANTITY):
        return (
            f"You can buy at most {per_order} of “{artwork.title}” in one order."
            if artwork.is_edition
            else f"“{artwork.title}” is a unique work: there is only one."
        )
    if quantity > offer.units_left:
        return f"Only {offer.units_left} of “{artwork.title}” are available."
    return ""


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
        offer = offer_for(artwork, fresh=True)
        if problem := quantity_problem(artwork, offer, quantity):
            raise CartError(problem)
        other_ids = [int(k) for k in self.items if k != str(artwork.pk)]
        currencies = set(
            Artwork.objects.filter(pk__in=other_ids[:1]).values_list("currency", flat=True)
        )
        if currencies and artwork.currency not in currencies:
            raise CartError(
                "Your cart holds works priced in another currency; please check those out first."
            )

    def lines(self) -> list[CartLine]:
        """Each item with its live offer and anything that now stops it being bought."""
        ids = [int(k) for k in self.items]
        artworks = {a.pk: a for a in Artwork.objects.filter(pk__in=ids).for_listing()}
        offers = offers_for(artworks.values(), fresh=True)
        lines = []
        for key, quantity in self.items.items():
            artwork = artworks.get(int(key))
            if artwork is None:
                continue
            offer = offers[artwork.pk]
            line = CartLine(artwork, quantity, offer)
            if problem := quantity_problem(artwork, offer, quantity):
                if offer.state == OfferState.SOLD:
                    problem = "Sold since you added it."
                elif offer.state == OfferState.ON_HOLD:
                    problem = "On hold for another collector; it may come back soon."
                elif offer.can_buy and quantity > offer.units_left:
                    problem = f"Only {offer.units_left} left; lower the quantity to continue."
                line.problems.append(problem)
            lines.append(line)
        return lines

    @staticmethod
    def subtotal(lines: list[CartLine]) -> Decimal:
        return sum((line.line_total for line in lines if line.can_buy), Decimal(0))
