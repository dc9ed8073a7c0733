"""Collectors for the account tests: verified accounts, guest orders, paid orders."""

from __future__ import annotations

from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from wagtail.models import Site

from artworks.factories import ArtworkFactory
from shop.cart import CartLine
from shop.checkout import start_checkout
from shop.models import Order
from shop.offers import offer_for
from shop.payments import completed_session_event, deliver_locally

PASSWORD = "a-long-Collector-passphrase-42"
ADDRESS = {"line1": "4 Quay Street", "city": "Bristol", "postal_code": "BS1 4DJ", "country": "GB"}


def make_collector(email: str, *, verified: bool = True, password: str = PASSWORD, **extra):
    user = get_user_model().objects.create_user(
        username=email.split("@")[0][:30] + "-" + email.split("@")[1][:10],
        email=email,
        password=password,
        **extra,
    )
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


def place_order(email: str, *, user=None, artwork=None, name: str = "Ana Ruiz") -> Order:
    """A paid order for one new work, placed as the checkout places it, paid the local way."""
    from artworks.models import Artwork

    work = artwork or ArtworkFactory(price=Decimal("1800"))
    work = Artwork.objects.for_listing().get(pk=work.pk)
    order = start_checkout(
        lines=[CartLine(work, 1, offer_for(work, fresh=True))],
        email=email,
        country="GB",
        user=user,
        site=Site.objects.get(is_default_site=True),
        absolute_url=lambda path: f"http://testserver{path}",
        address={
            "shipping_name": name,
            "shipping_line1": "4 Quay Street",
            "shipping_line2": "Flat 2",
            "shipping_city": "Bristol",
            "shipping_postal_code": "BS1 4DJ",
            "shipping_state": "",
            "shipping_phone": "+447700900123",
        },
    )
    event = completed_session_event(order, order.payment_session_id, ADDRESS, name)
    deliver_locally(event, settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
    order.refresh_from_db()
    return order


class CommittingClient:
    """Wraps a test client so each request's on-commit work (the outbox: emails) runs after it,
    as it would after the request's real commit."""

    def __init__(self, client, capture):
        self._client = client
        self._capture = capture

    def __getattr__(self, name):
        attribute = getattr(self._client, name)
        if name in ("get", "post", "head", "options", "put", "patch", "delete"):

            def call(*args, **kwargs):
                with self._capture(execute=True):
                    return attribute(*args, **kwargs)

            return call
        return attribute
