"""Shipping through ShipStation: the order is created there once, retried politely, and shipped.

Celery runs eagerly in-process here; ShipStation is the local fake, reached through the real
client code (``shop.shipping.ShipStation``) over HTTP.
"""

import json
from decimal import Decimal

import pytest
from celery.signals import task_retry
from django.core import mail

from artspot.celery import app
from artworks.factories import ArtworkFactory
from shop.models import FulfilmentStatus, Order, OrderEvent, PaymentStatus
from shop.tasks import SHIPSTATION_MAX_RETRIES, create_shipment
from tests.support.shop import checkout_form

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.fakes.fixtures"]

WEBHOOK_SECRET = "ss-hook-7f3a9c"


@pytest.fixture
def use_shipstation(settings, fake_shipstation):
    """Point the shop at the fake; call it to switch ShipStation on at a chosen moment."""

    def switch_on():
        settings.SHIPSTATION_API_KEY, settings.SHIPSTATION_API_SECRET = fake_shipstation.auth
        settings.SHIPSTATION_API_BASE = fake_shipstation.url
        settings.SHIPSTATION_WEBHOOK_SECRET = WEBHOOK_SECRET

    return switch_on


@pytest.fixture
def retries():
    """(retry number, countdown) for each retry Celery schedules, from its `task_retry` signal."""
    seen: list[tuple[int, int]] = []

    def record(sender=None, request=None, reason=None, **kwargs):
        seen.append((request.retries, reason.when))

    task_retry.connect(record, weak=False)
    yield seen
    task_retry.disconnect(record)


def pay(client, capture, artwork) -> Order:
    """A guest buys the work through the cart, checkout and the local test-payment page."""
    client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
    form = checkout_form("ines@example.com", name="Inês Duarte", line1="4 Mill Lane",
                         city="Leeds", postal_code="LS1 4AP")  # fmt: skip
    payment_url = client.post("/shop/checkout/", form)["Location"]
    with capture(execute=True):  # the address was given at checkout: only the card here
        response = client.post(payment_url, {"card": "4242 4242 4242 4242", "pay": "1"})
    assert response.status_code == 302
    order = Order.objects.get(email="ines@example.com")
    assert (order.payment_status, order.fulfilment_status) == (
        PaymentStatus.PAID, FulfilmentStatus.UNFULFILLED,
    )  # fmt: skip
    return order


@pytest.fixture
def artwork():
    return ArtworkFactory(title="Tidal Study", price=Decimal("640.00"), images=0)


def kinds(order: Order) -> list[str]:
    return list(order.events.values_list("kind", flat=True))


def test_paying_creates_the_shipstation_order_once(
    client, artwork, use_shipstation, fake_shipstation, django_capture_on_commit_callbacks
):
    use_shipstation()
    order = pay(client, django_capture_on_commit_callbacks, artwork)

    assert len(fake_shipstation.orders) == 1
    remote = next(iter(fake_shipstation.orders.values()))
    assert remote["orderKey"] == remote["orderNumber"] == order.number
    assert remote["orderStatus"] == "awaiting_shipment"
    assert remote["shipTo"]["city"] == "Leeds"
    assert remote["customerEmail"] == "ines@example.com"
    assert [item["name"] for item in remote["items"]] == ["Tidal Study"]
    order.refresh_from_db()
    assert order.shipstation_order_id == str(remote["orderId"])
    assert kinds(order).count(OrderEvent.Kind.SHIPMENT_CREATED) == 1

    # The task again: it knows the order is in ShipStation and does not call it. (An eager result
    # is complete: Celery's guard against joins inside a task reads a process-wide flag that an
    # eager task in any other thread of this process sets, so it is not asked here.)
    assert create_shipment.delay(order.pk).get(disable_sync_subtasks=False) == str(
        remote["orderId"]
    )
    # Even when our record of it is lost, ShipStation's upsert on orderKey updates, not adds.
    Order.objects.filter(pk=order.pk).update(shipstation_order_id="")
    assert create_shipment.delay(order.pk).get(disable_sync_subtasks=False) == str(
        remote["orderId"]
    )
    assert len(fake_shipstation.calls("POST", "/orders/createorder")) == 2
    assert len(fake_shipstation.orders) == 1


def test_a_429_is_retried_after_the_retry_after_it_names(
    client, artwork, use_shipstation, fake_shipstation, retries, django_capture_on_commit_callbacks
):
    order = pay(client, django_capture_on_commit_callbacks, artwork)  # manual shipping so far
    assert fake_shipstation.calls() == []
    use_shipstation()
    fake_shipstation.fail_next(1, status=429, retry_after=7)

    # apply() runs the task as a worker would, without raising: Celery records the retry (and
    # the countdown it would wait) and, eagerly, runs the retried task at once.
    result = create_shipment.apply(args=[order.pk], throw=False)

    assert result.successful()
    assert retries == [(0, 7)]  # first attempt, retried after Retry-After's 7 seconds
    assert [call.status for call in fake_shipstation.calls("POST", "/orders/createorder")] == [
        429,
        200,
    ]
    assert len(fake_shipstation.orders) == 1
    order.refresh_from_db()
    assert order.shipstation_order_id == result.result
    assert order.last_error == ""


def test_after_the_last_retry_the_failure_shows_on_the_order(
    client,
    artwork,
    use_shipstation,
    fake_shipstation,
    retries,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    order = pay(client, django_capture_on_commit_callbacks, artwork)
    use_shipstation()
    fake_shipstation.fail_next(SHIPSTATION_MAX_RETRIES + 1, status=503)
    # As on a worker, a failed attempt is recorded rather than raised to the caller, so eager
    # Celery follows the whole chain of retries (apply() only passes throw=False to the first).
    monkeypatch.setitem(app.conf, "task_eager_propagates", False)

    result = create_shipment.delay(order.pk)

    assert result.failed()
    # No Retry-After on these 503s: exponential backoff, one retry after another, then give up.
    assert retries == [(n, 2 ** (n + 2)) for n in range(SHIPSTATION_MAX_RETRIES)]
    assert len(fake_shipstation.calls("POST", "/orders/createorder")) == SHIPSTATION_MAX_RETRIES + 1
    assert fake_shipstation.orders == {}
    order.refresh_from_db()
    assert order.last_error == (
        f"ShipStation failed after {SHIPSTATION_MAX_RETRIES} retries: ShipStation answered 503"
    )
    assert order.shipstation_order_id == ""
    errors = order.events.filter(kind=OrderEvent.Kind.ERROR)
    assert [event.message for event in errors] == [order.last_error]


def _notify(client, body, secret=WEBHOOK_SECRET):
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"/shop/webhooks/shipstation/{secret}/", payload, content_type="application/json"
    )


def shipped_emails(order: Order) -> list:
    return [m for m in mail.outbox if m.subject.endswith(f"{order.number} is on its way")]


def test_ship_notify_marks_the_order_shipped_and_emails_the_collector_once(
    client, artwork, use_shipstation, fake_shipstation, django_capture_on_commit_callbacks
):
    use_shipstation()
    order = pay(client, django_capture_on_commit_callbacks, artwork)
    notification = fake_shipstation.ship(order.number, "royal_mail", "RM123456785GB")

    with django_capture_on_commit_callbacks(execute=True):
        response = _notify(client, notification)
    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.payment_status, order.fulfilment_status) == (
        PaymentStatus.PAID, FulfilmentStatus.SHIPPED,
    )  # fmt: skip
    shipped = order.events.get(kind=OrderEvent.Kind.SHIPPED)
    assert shipped.public
    assert shipped.message == "Shipped: royal_mail, tracking number RM123456785GB."
    assert (order.carrier, order.tracking_number) == ("royal_mail", "RM123456785GB")
    assert order.shipped_at is not None and order.shipped_email_sent_at is not None
    [email] = shipped_emails(order)
    assert email.to == ["ines@example.com"]
    assert "RM123456785GB" in email.body

    # ShipStation delivers webhooks at least once: the replay changes nothing and sends nothing.
    events_before = kinds(order)
    with django_capture_on_commit_callbacks(execute=True):
        assert _notify(client, notification).status_code == 200
    assert len(fake_shipstation.calls("GET", "/shipments")) == 2  # it was processed again
    assert len(shipped_emails(order)) == 1
    assert kinds(order) == events_before
    assert events_before.count(OrderEvent.Kind.SHIPPED) == 1


@pytest.mark.parametrize(
    ("secret", "body", "status"),
    [
        ("wrong-secret", None, 404),
        (WEBHOOK_SECRET[:-1], None, 404),
        (WEBHOOK_SECRET, b"not json", 400),
        (WEBHOOK_SECRET, {"resource_type": "SHIP_NOTIFY"}, 400),
        (WEBHOOK_SECRET, ["resource_url"], 400),
    ],
    ids=["wrong-secret", "secret-prefix", "not-json", "no-resource-url", "not-an-object"],
)
def test_bad_ship_notifications_change_nothing(
    client,
    artwork,
    use_shipstation,
    fake_shipstation,
    django_capture_on_commit_callbacks,
    secret,
    body,
    status,
):
    use_shipstation()
    order = pay(client, django_capture_on_commit_callbacks, artwork)
    notification = fake_shipstation.ship(order.number)
    before = Order.objects.filter(pk=order.pk).values().get()
    events_before, emails_before = kinds(order), len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _notify(client, body if body is not None else notification, secret)

    assert response.status_code == status
    assert callbacks == []  # nothing was queued
    assert fake_shipstation.calls("GET", "/shipments") == []
    assert Order.objects.filter(pk=order.pk).values().get() == before
    assert kinds(order) == events_before
    assert len(mail.outbox) == emails_before
