"""Checkout against a payment provider that hangs, a visitor who hoards, and a payment that does
not match its order: each through the site's own views, on PostgreSQL."""

import json
import socket
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.core import mail

from artworks.factories import ArtworkFactory
from shop.models import FulfilmentStatus, Hold, Order, OrderEvent, PaymentStatus
from shop.payments import completed_session_event, sign_payload
from tests.support.shop import checkout_form

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.fakes.fixtures"]

WEBHOOK_SECRET = "whsec_limits"
READ_TIMEOUT = 2.0


@contextmanager
def silent_provider():
    """A server that accepts connections and never answers (a provider that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
                held.append(connection)  # read nothing, answer nothing
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for connection in held:
            connection.close()
        server.close()


@pytest.fixture
def stripe(settings):
    settings.STRIPE_SECRET_KEY = "sk_test_artspot"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.PAYMENT_CONNECT_TIMEOUT = 1.0
    settings.PAYMENT_READ_TIMEOUT = READ_TIMEOUT
    return settings


def add(client, artwork):
    response = client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
    assert response.status_code == 302
    return response


def checkout(client, email="ana@example.com"):
    return client.post("/shop/checkout/", checkout_form(email), follow=True)


def test_a_hanging_provider_costs_the_timeout_releases_the_hold_and_the_retry_succeeds(
    client, stripe, fake_stripe
):
    work = ArtworkFactory(title="Quarry Blue", price=Decimal("3100.00"))
    add(client, work)
    with silent_provider() as url:
        stripe.STRIPE_API_BASE = url
        started = time.monotonic()
        response = checkout(client)
        seconds = time.monotonic() - started
    assert seconds < READ_TIMEOUT + 2, seconds
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/shop/cart/"
    html = response.content.decode()
    assert "did not respond, so nothing was charged" in html
    failed = Order.objects.get(email="ana@example.com")
    assert failed.fulfilment_status == FulfilmentStatus.CANCELLED
    assert not Hold.objects.filter(order=failed).exists()  # released at once, not in 15 minutes

    stripe.STRIPE_API_BASE = fake_stripe.url  # the provider is back
    response = client.post("/shop/checkout/", checkout_form("ana@example.com"))
    assert response.status_code == 302
    assert response["Location"].startswith(fake_stripe.url)
    retry = Order.objects.exclude(pk=failed.pk).get(email="ana@example.com")
    assert retry.is_pending_payment
    assert Hold.objects.filter(order=retry, unit__artwork=work).count() == 1


def test_one_order_cannot_hold_more_than_the_limit_of_distinct_works(client, settings):
    settings.SHOP_MAX_HELD_WORKS = 3
    works = [ArtworkFactory(price=Decimal("100.00")) for _ in range(4)]
    for work in works:
        add(client, work)
    response = checkout(client)
    assert "One order can hold at most 3 different works" in response.content.decode()
    assert not Hold.objects.exists()


def test_one_visitor_cannot_hoard_across_checkouts(client, settings):
    settings.SHOP_MAX_HELD_WORKS = 3
    first, second = ArtworkFactory.create_batch(2), ArtworkFactory.create_batch(2)
    for work in first:
        add(client, work)
    assert (
        checkout(client, email="bot@example.com")
        .redirect_chain[-1][0]
        .startswith("/shop/test-payment/")
    )
    session = client.session
    session["cart"] = {str(work.pk): 1 for work in second}
    session.save()
    # Another email, the same session: still the same visitor.
    response = checkout(client, email="bot2@example.com")
    assert "You are already holding 2 other work(s)" in response.content.decode()
    assert Hold.objects.count() == 2
    # The same email from a fresh session: the same collector.
    other = client.__class__()
    for work in second:
        add(other, work)
    response = checkout(other, email="bot@example.com")
    assert "one collector may hold at most 3" in response.content.decode()
    assert Hold.objects.count() == 2


def _post_payment(client, order, **changes):
    from django.conf import settings

    event = completed_session_event(
        order, order.payment_session_id, {"line1": "1 High St", "country": "GB"}, "Ana"
    )
    event["data"]["object"].update(changes)
    payload = json.dumps(event).encode()
    return client.post(
        "/shop/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, settings.LOCAL_PAYMENTS_WEBHOOK_SECRET),
    )


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"amount_total": 100}, "£1.00 paid, £1,225.00 expected"),
        ({"currency": "usd"}, "currency USD, expected GBP"),
        ({"amount_total": None}, "no amount_total"),
    ],
)
def test_a_payment_that_does_not_match_leaves_the_order_unpaid(
    client, changes, problem, django_capture_on_commit_callbacks
):
    work = ArtworkFactory(price=Decimal("1200.00"))
    add(client, work)
    checkout(client)
    order = Order.objects.get()
    assert order.total == Decimal("1225.00")  # with UK shipping
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the outbox sends after commit
        response = _post_payment(client, order, **changes)
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.UNPAID
    assert problem in order.last_error
    event = order.events.get(kind=OrderEvent.Kind.PAYMENT_MISMATCH)
    assert not event.public
    assert work.units.get().sold_at is None
    [alert] = mail.outbox
    assert alert.subject == f"Payment mismatch on order {order.number}"
    # The right payment still completes the order.
    response = _post_payment(client, order)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID


def test_checkout_validates_the_address_and_phone_for_the_country(client):
    work = ArtworkFactory(price=Decimal("500.00"))
    add(client, work)
    bad = checkout_form(postal_code="NOT A CODE", phone="12")
    response = client.post("/shop/checkout/", bad)
    html = response.content.decode()
    assert response.status_code == 400
    assert "Enter a valid UK postcode" in html
    assert "phone" in html.lower() and not Hold.objects.exists()
    response = client.post("/shop/checkout/", checkout_form(country="US", region=""))
    assert response.status_code == 400 and "state" in response.content.decode().lower()

    response = client.post("/shop/checkout/", checkout_form(postal_code="bs14dj"))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.shipping_postal_code == "BS1 4DJ"
    assert order.shipping_phone == "+441174960123"
    assert order.address_lines == [
        "Ana Ruiz", "1 Quay Street", "Bristol", "BS1 4DJ", "United Kingdom"
    ]  # fmt: skip
