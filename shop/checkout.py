"""Starting checkout: an order, holds on its units, and a payment session, in that order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from wagtail.models import Site

from . import inventory
from .cart import CartLine
from .models import Order, OrderEvent, OrderStatus, ShopSettings
from .payments import PaymentError, get_gateway

# Stripe refuses a Checkout Session that expires sooner than 30 minutes from now, so the session
# may outlive a shorter hold: the beat task expires it when the hold lapses, and a payment that
# still arrives is honoured if the units are free, or refunded automatically if they are not.
STRIPE_MIN_SESSION = timedelta(minutes=31)


class CheckoutError(Exception):
    """Checkout cannot start; the message is for the collector. Their cart is untouched."""


def start_checkout(
    *,
    lines: list[CartLine],
    email: str,
    country: str,
    user,
    site: Site,
    absolute_url: Callable[[str], str],
) -> Order:
    if not lines:
        raise CheckoutError("Your cart is empty.")
    blocked = [line for line in lines if not line.can_buy]
    if blocked:
        raise CheckoutError(blocked[0].problems[0])
    currencies = {line.artwork.currency for line in lines}
    if len(currencies) != 1:
        raise CheckoutError("Please check out works priced in different currencies separately.")

    shop = ShopSettings.for_site(site)
    zone = shop.zone_for(country)
    now = timezone.now()
    hold_until = now + timedelta(minutes=shop.hold_minutes)
    with transaction.atomic():
        order = Order.objects.create(
            user=user if user and user.is_authenticated else None,
            email=email,
            currency=currencies.pop(),
            shipping_zone=zone,
            shipping_country=country,
            shipping=shop.rate_for(zone),
        )
        try:
            inventory.hold_units(
                order,
                [inventory.Request(line.artwork, line.quantity) for line in lines],
                until=hold_until,
            )
        except inventory.CannotHold as error:
            transaction.set_rollback(True)
            raise CheckoutError(str(error)) from error
        order.recalculate()
        order.save()
        order.log(
            OrderEvent.Kind.PLACED,
            f"Checkout started; {order.lines.count()} unit(s) held until {hold_until:%H:%M:%S}.",
        )

    gateway = get_gateway()
    try:
        session = gateway.create_checkout_session(
            order,
            success_url=absolute_url(order.signed_url()) + "&paid=1",
            cancel_url=absolute_url("/shop/cart/") + f"?cancelled={order.number}",
            allowed_countries=shop.countries_in(zone),
            expires_at=max(hold_until, now + STRIPE_MIN_SESSION),
            automatic_tax=shop.stripe_tax,
        )
    except PaymentError as error:
        inventory.release_holds(order)
        order.status = OrderStatus.CANCELLED
        order.last_error = str(error)
        order.save(update_fields=["status", "last_error"])
        order.log(OrderEvent.Kind.ERROR, f"Payment session failed: {error}")
        raise CheckoutError(f"{error} Nothing was charged; please try again.") from error
    order.payment_session_id = session.id
    order.payment_url = session.url
    order.save(update_fields=["payment_session_id", "payment_url"])
    return order
