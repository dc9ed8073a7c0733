"""Starting checkout: an order, holds on its units, and a payment session, in that order.

The holds are written in one transaction; the payment provider is called after it commits, with
no lock held and with connect and read timeouts (``PAYMENT_*_TIMEOUT``). If the provider fails or
does not answer in time, the holds are released at once and the collector is asked to try again:
their retry is a new order and finds the works free.

Against hoarding, one order, and one visitor (the same session or the same email) across their
open checkouts, may hold at most ``SHOP_MAX_HELD_WORKS`` distinct works at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail.models import Site

from . import inventory, lifecycle
from .cart import CartLine
from .models import FulfilmentStatus, Hold, Order, OrderEvent, ShopSettings
from .offers import offers_for
from .payments import PaymentError, get_gateway

# Stripe refuses a Checkout Session that expires sooner than 30 minutes from now, so the session
# may outlive a shorter hold: the beat task expires it when the hold lapses, and a payment that
# still arrives is honoured if the units are free, or refunded automatically if they are not.
STRIPE_MIN_SESSION = timedelta(minutes=31)


class CheckoutError(Exception):
    """Checkout cannot start; the message is for the collector. Their cart is untouched."""


def session_fingerprint(session_key: str | None) -> str:
    """What an order keeps of the visitor's session: a hash, enough to count their holds."""
    if not session_key:
        return ""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{session_key}".encode()).hexdigest()


def works_held_by(email: str, fingerprint: str) -> set[int]:
    """Artworks with units held right now by orders of this email or this session."""
    visitor = Q(order__email__iexact=email)
    if fingerprint:
        visitor |= Q(order__session_key=fingerprint)
    return set(
        Hold.objects.filter(visitor, held_until__gt=timezone.now()).values_list(
            "unit__artwork_id", flat=True
        )
    )


def start_checkout(
    *,
    lines: list[CartLine],
    email: str,
    country: str,
    user,
    site: Site,
    absolute_url: Callable[[str], str],
    session_key: str | None = None,
    address: dict | None = None,
) -> Order:
    if not lines:
        raise CheckoutError("Your cart is empty.")
    blocked = [line for line in lines if not line.can_buy]
    if blocked:
        raise CheckoutError(blocked[0].problems[0])
    currencies = {line.artwork.currency for line in lines}
    if len(currencies) != 1:
        raise CheckoutError("Please check out works priced in different currencies separately.")
    limit = settings.SHOP_MAX_HELD_WORKS
    wanted = {line.artwork.pk for line in lines}
    if len(wanted) > limit:
        raise CheckoutError(
            f"One order can hold at most {limit} different works at once; "
            "please check out the rest separately."
        )

    shop = ShopSettings.for_site(site)
    zone = shop.zone_for(country)
    now = timezone.now()
    hold_until = now + timedelta(minutes=shop.hold_minutes)
    fingerprint = session_fingerprint(session_key)
    with transaction.atomic():
        # The drop windows and limits as the database has them now, not as a page saw them.
        offers = offers_for([line.artwork for line in lines], fresh=True)
        for line in lines:
            if not offers[line.artwork.pk].can_buy:
                raise CheckoutError(offers[line.artwork.pk].reason)
        already = works_held_by(email, fingerprint) - wanted
        if len(already | wanted) > limit:
            raise CheckoutError(
                f"You are already holding {len(already)} other work(s) in another checkout; "
                f"one collector may hold at most {limit} at once. Finish or cancel that "
                "payment first, or wait for its hold to end."
            )
        order = Order.objects.create(
            user=user if user and user.is_authenticated else None,
            email=email,
            session_key=fingerprint,
            currency=currencies.pop(),
            shipping_zone=zone,
            shipping_country=country,
            shipping=shop.rate_for(zone),
            **(address or {}),
        )
        try:
            inventory.hold_units(
                order,
                [
                    inventory.Request(
                        line.artwork, line.quantity, offers[line.artwork.pk].collector_limit
                    )
                    for line in lines
                ],
                until=hold_until,
            )
        except inventory.CannotHold as error:
            transaction.set_rollback(True)
            raise CheckoutError(str(error)) from error
        order.recalculate()
        order.save()
        order.log(
            OrderEvent.Kind.PLACED,
            "Order placed; the works are held for you while you pay.",
            public=True,
            held=order.lines.count(),
            held_until=hold_until.isoformat(),
        )

    try:
        session = get_gateway().create_checkout_session(
            order,
            success_url=absolute_url(order.signed_url()) + "&paid=1",
            cancel_url=absolute_url("/shop/cart/") + f"?cancelled={order.number}",
            allowed_countries=shop.countries_in(zone),
            expires_at=max(hold_until, now + STRIPE_MIN_SESSION),
            automatic_tax=shop.stripe_tax,
        )
    except PaymentError as error:
        _abandon(order, error)
        raise CheckoutError(
            "Our payment provider did not respond, so nothing was charged and the works are "
            "no longer held for you. Please try again in a moment."
        ) from error
    order.payment_session_id = session.id
    order.payment_url = session.url
    order.save(update_fields=["payment_session_id", "payment_url"])
    return order


def _abandon(order: Order, error: PaymentError) -> None:
    """The payment session could not be made: release the holds and cancel, at once."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        inventory.release_holds(locked)
        lifecycle.move(
            locked,
            fulfilment=FulfilmentStatus.CANCELLED,
            kind=OrderEvent.Kind.CANCELLED,
            message="The payment could not be started; nothing was charged.",
            public=True,
            fields={"last_error": f"Payment session failed: {error}"[:2000]},
        )
