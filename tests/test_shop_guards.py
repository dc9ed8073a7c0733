"""Guards around the shop: CSRF on forms, rate limits, and tidying of lapsed holds."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from artworks.factories import ArtworkFactory
from shop.models import FulfilmentStatus, Hold, Order, OrderEvent, PaymentStatus
from shop.offers import OfferState, offer_for
from shop.tasks import release_lapsed_holds
from tests.support.shop import checkout_form

pytestmark = pytest.mark.django_db


def test_shop_forms_need_a_csrf_token():
    artwork = ArtworkFactory()
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1}).status_code == 403
    assert (
        strict.post("/shop/checkout/", {"email": "a@example.com", "country": "GB"}).status_code
        == 403
    )


def test_checkout_starts_are_rate_limited_per_address(settings):
    settings.RATELIMIT_ENABLE = True
    artwork = ArtworkFactory(price=Decimal("100"))
    statuses = []
    # One fixed moment: the limiter counts per clock minute, and the test must not straddle two.
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        for n in range(25):  # fresh sessions and emails, one address
            visitor = Client()
            visitor.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
            form = {"email": f"v{n}@example.com", "country": "XX"}
            answer = visitor.post("/shop/checkout/", form)
            statuses.append(answer.status_code)
        last = visitor.post("/shop/checkout/", {"email": "a@example.com", "country": "GB"})
    assert statuses[:20] == [400] * 20  # invalid forms, answered normally
    assert set(statuses[20:]) == {429}
    assert "Too many checkout attempts" in last.content.decode()


def test_checkout_is_limited_per_session_across_addresses_and_emails(client, settings):
    settings.RATELIMIT_ENABLE = True
    artwork = ArtworkFactory(price=Decimal("100"))
    client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        statuses = [
            client.post(
                "/shop/checkout/",
                {"email": f"s{n}@example.com", "country": "XX"},
                REMOTE_ADDR=f"127.4.0.{n + 1}",
            ).status_code
            for n in range(12)
        ]
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]


def test_failed_webhook_calls_are_rate_limited(client, settings):
    settings.RATELIMIT_ENABLE = True
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        statuses = [
            client.post(
                "/shop/webhooks/stripe/",
                b"{}",
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE="t=1,v1=bad",
            ).status_code
            for _ in range(65)
        ]
    first_refusal = statuses.index(429)
    assert 60 <= first_refusal <= 61  # 60 failures a minute are answered, then refused
    assert set(statuses[:first_refusal]) == {400}
    assert set(statuses[first_refusal:]) == {429}


def test_lapsed_holds_free_the_work_at_once_and_the_beat_task_tidies_up(client):
    artwork = ArtworkFactory(price=Decimal("100"))
    client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
    client.post("/shop/checkout/", checkout_form("a@example.com"))
    order = Order.objects.get()
    assert Order.objects.get().hold_expires_at is not None
    assert offer_for(artwork, fresh=True).state == OfferState.ON_HOLD
    with time_machine.travel(order.hold_expires_at + timedelta(seconds=1)):
        # Before any clean-up the work already counts as available again.
        assert Hold.objects.filter(order=order).exists()
        offer = offer_for(artwork, fresh=True)
        assert (offer.state, offer.can_buy) == (OfferState.AVAILABLE, True)
    with time_machine.travel(order.hold_expires_at + timedelta(minutes=2)):
        release_lapsed_holds()
    assert not Hold.objects.filter(unit__artwork=artwork).exists()
    order.refresh_from_db()
    # The local gateway cannot report expiry itself, so the beat task cancels the order.
    assert (order.payment_status, order.fulfilment_status) == (
        PaymentStatus.UNPAID, FulfilmentStatus.CANCELLED,
    )  # fmt: skip
    cancelled = order.events.get(kind=OrderEvent.Kind.CANCELLED)
    assert cancelled.message == "Your hold ended before payment; nothing was charged."
    assert cancelled.public
    assert timezone.now() < order.hold_expires_at + timedelta(minutes=2)


def test_checkout_is_limited_per_email_across_addresses_and_sessions(settings):
    settings.RATELIMIT_ENABLE = True
    artwork = ArtworkFactory(price=Decimal("100"))
    statuses = []
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        for n in range(12):  # a bot with a fresh session and address each time, one email
            bot = Client(REMOTE_ADDR=f"127.3.0.{n + 1}")
            bot.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
            answer = bot.post("/shop/checkout/", {"email": "bot@example.com", "country": "XX"})
            statuses.append(answer.status_code)
    assert statuses[:10] == [400] * 10
    assert statuses[10:] == [429, 429]
