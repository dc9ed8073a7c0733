"""Committed shop data for tests that watch another process (a worker, a server) act on it.

Such tests cannot use pytest-django's per-test transaction: the other process would never see
the rows. They commit for real and remove what they made afterwards (`remove_artworks`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wagtail.models import Site

from artists.models import ArtistPage
from artworks.models import Artwork, ArtworkUnit
from shop.cart import CartLine
from shop.checkout import start_checkout
from shop.models import Order, OrderLine, PaymentEvent, Refund
from shop.offers import offer_for
from shop.payments import completed_session_event, deliver_locally, get_gateway

# What the checkout form asks for, per destination: a delivery address and a phone number.
CHECKOUT_ADDRESSES = {
    "GB": {
        "name": "Ana Ruiz",
        "line1": "1 Quay Street",
        "city": "Bristol",
        "postal_code": "BS1 4DJ",
        "phone": "+44 117 496 0123",
    },
    "FR": {
        "name": "Ana Ruiz",
        "line1": "3 rue des Arts",
        "city": "Paris",
        "postal_code": "75003",
        "phone": "+33 1 42 68 53 00",
    },
    "US": {
        "name": "Ana Ruiz",
        "line1": "1 Market St",
        "city": "San Francisco",
        "region": "CA",
        "postal_code": "94105",
        "phone": "+1 415 555 2671",
    },
}


def checkout_form(email: str = "ana@example.com", country: str = "GB", **extra) -> dict:
    """A complete checkout form: email, destination and its address and phone."""
    return {"email": email, "country": country, **CHECKOUT_ADDRESSES.get(country, {}), **extra}


ADDRESS = {
    "line1": "9 Harbour Row",
    "line2": "",
    "city": "Whitby",
    "postal_code": "YO21 3PU",
    "state": "",
    "country": "GB",
}


def checkout(artwork: Artwork, email: str) -> Order:
    """Start checkout for one unit of `artwork` as a guest from the UK (holds it)."""
    return start_checkout(
        lines=[CartLine(artwork, 1, offer_for(artwork, fresh=True))],
        email=email,
        country="GB",
        user=None,
        site=Site.objects.get(is_default_site=True),
        absolute_url=lambda path: f"http://testserver{path}",
    )


def pay(order: Order, name: str = "Mara Quinn") -> Order:
    """Pay on the local test-payment gateway: the signed event the test page would deliver."""
    event = completed_session_event(order, order.payment_session_id, ADDRESS, name)
    deliver_locally(event, get_gateway().webhook_secret)
    return Order.objects.get(pk=order.pk)


@contextmanager
def through_the_broker() -> Iterator[None]:
    """Queue Celery tasks on Redis for a worker, although the test settings run them eagerly."""
    from artspot.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


def remove_artworks(artworks: list[Artwork]) -> None:
    """Delete committed artworks with their orders, payment events, units and artists."""
    for artwork in artworks:
        orders = Order.objects.filter(lines__artwork=artwork).distinct()
        PaymentEvent.objects.filter(order__in=orders).delete()
        OrderLine.objects.filter(order__in=orders).update(refund=None)
        Refund.objects.filter(order__in=orders).delete()
        Order.objects.filter(pk__in=list(orders.values_list("pk", flat=True))).delete()
        artist_pk = artwork.artist_id
        ArtworkUnit.objects.filter(artwork=artwork).delete()
        artwork.delete()
        ArtistPage.objects.filter(pk=artist_pk).delete()


def buyable_demo_artwork() -> Artwork:
    """A live demo work with an image that anyone may add to the cart now (no drop limits)."""
    from shop.offers import OfferState, offers_for

    works = list(Artwork.objects.filter(live=True).order_by("pk")[:60])
    offers = offers_for(works, fresh=True)
    for work in works:
        offer = offers[work.pk]
        buyable = offer.state == OfferState.AVAILABLE and offer.collector_limit is None
        if buyable and work.main_image is not None:
            return work
    raise AssertionError("the demo content has no artwork for sale")
