"""A collector's orders, for their data export and for the erasure of their account.

Orders stay for the books (amounts, works, dates, the destination country for tax), but the
person goes: name, email, phone and street address are overwritten, and the order event log's
mentions of the email address are replaced. Order events are append-only for the shop; erasure
is the one exception and writes through the queryset, never ``save()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet

from .models import Order, OrderEvent

ERASED = "[erased]"


def erased_email(order: Order) -> str:
    """A placeholder that keeps the column valid and says what happened (RFC 2606 .invalid)."""
    return f"erased-{order.pk}@erased.invalid"


def export_order(order: Order) -> dict:
    return {
        "number": order.number,
        "placed_at": order.created_at.isoformat(),
        "paid_at": order.paid_at.isoformat() if order.paid_at else None,
        "status": order.status_label,
        "email": order.email,
        "currency": order.currency,
        "total": str(order.total),
        "refunded": str(order.refunded),
        "shipping_address": order.address_lines if order.shipping_line1 else [],
        "phone": order.shipping_phone,
        "carrier": order.carrier,
        "tracking_number": order.tracking_number,
        "works": [
            {
                "title": line.title,
                "artist": line.artist_name,
                "edition": line.edition_label,
                "price": str(line.unit_price),
            }
            for line in order.lines.all()
        ],
        "history": [
            {"at": event.created_at.isoformat(), "event": event.message}
            for event in order.events.all()
            if event.public
        ],
    }


def _scrub(value, needles: list[str]):
    """``value`` (JSON) with every mention of one of ``needles`` (any case) replaced."""
    if isinstance(value, str):
        for needle in needles:
            value = re.sub(re.escape(needle), ERASED, value, flags=re.IGNORECASE)
        return value
    if isinstance(value, list):
        return [_scrub(item, needles) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, needles) for key, item in value.items()}
    return value


@transaction.atomic
def erase_customer(orders: QuerySet[Order], emails: Iterable[str]) -> int:
    """Anonymise these orders: no name, email, phone or street address of the customer is left.

    ``emails`` are every address the customer used (the account's, verified or not): they are
    also removed from the order events' messages and data. Returns how many orders changed.
    """
    orders = list(orders.select_for_update().order_by("pk"))
    needles = sorted({e.strip().lower() for e in emails if e} | {o.email.lower() for o in orders})
    needles = [n for n in needles if n]
    names = sorted(
        {o.shipping_name.strip().lower() for o in orders if len(o.shipping_name.strip()) > 2}
    )
    for order in orders:
        Order.objects.filter(pk=order.pk).update(
            user=None,
            email=erased_email(order),
            shipping_name="",
            shipping_line1="",
            shipping_line2="",
            shipping_city="",
            shipping_postal_code="",
            shipping_state="",
            shipping_phone="",
            session_key="",
        )
    for event in OrderEvent.objects.filter(order__in=[o.pk for o in orders]):
        message = _scrub(event.message, needles + names)
        data = _scrub(event.data, needles + names)
        if message != event.message or data != event.data:
            OrderEvent.objects.filter(pk=event.pk).update(message=message, data=data)
    return len(orders)
