"""Stripe Checkout through the real stripe library against a fake Stripe on loopback, and the
webhook: verified, recorded once, tolerant of replays and of any delivery order."""

import json
import time
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from artworks.factories import ArtworkFactory
from artworks.models import ArtworkUnit
from shop.models import Order, OrderStatus, PaymentEvent
from shop.payments import sign_payload

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_test_artspot"
WEBHOOK_URL = "/shop/webhooks/stripe/"


@pytest.fixture
def stripe_on(settings, fake_stripe):
    settings.STRIPE_SECRET_KEY = "sk_test_artspot"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake_stripe.url
    return fake_stripe


@pytest.fixture
def painting():
    return ArtworkFactory(title="North Light", price=Decimal("1800.00"))


def post_event(client, event: dict, secret: str = WEBHOOK_SECRET):
    payload = json.dumps(event).encode()
    return client.post(
        WEBHOOK_URL,
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, secret),
    )


def start(client, artwork, email="ana@example.com", country="GB") -> Order:
    client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
    response = client.post("/shop/checkout/", {"email": email, "country": country})
    assert response.status_code == 302, response.content
    return Order.objects.get(email=email, status=OrderStatus.PENDING_PAYMENT)


def state(order: Order) -> tuple:
    order.refresh_from_db()
    units = tuple(
        ArtworkUnit.objects.filter(order_lines__order=order).values_list("sold_at", "held_by")
    )
    return (order.status, order.total, order.refunded, order.paid_at, units)


def test_checkout_creates_one_stripe_session_from_database_facts(client, stripe_on, painting):
    order = start(client, painting, country="FR")
    (create,) = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert create.idempotency_key == f"order-{order.number}-session"
    params = create.params
    assert params["line_items"][0]["price_data"]["unit_amount"] == "180000"
    assert params["line_items"][0]["price_data"]["currency"] == "gbp"
    assert params["shipping_options"][0]["shipping_rate_data"]["fixed_amount"]["amount"] == "6000"
    allowed = params["shipping_address_collection"]["allowed_countries"]
    assert "FR" in allowed and "DE" in allowed and "GB" not in allowed  # the EU zone only
    assert params["metadata"]["order_number"] == order.number
    assert int(params["expires_at"]) >= time.time() + 30 * 60
    assert order.payment_url.startswith(stripe_on.url + "/pay/")


def test_paid_session_completes_the_order(
    client, stripe_on, painting, django_capture_on_commit_callbacks
):
    order = start(client, painting)
    event = stripe_on.complete_session(order.payment_session_id)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event)
    assert response.status_code == 200
    status, total, refunded, _paid_at, units = state(order)
    assert (status, total, refunded) == (OrderStatus.PAID, Decimal("1825.00"), Decimal(0))
    assert units[0][0] is not None and units[0][1] is None  # sold, no longer held
    assert order.payment_intent_id.startswith("pi_")
    assert order.shipping_line1  # the address collected by Stripe
    assert len(mail.outbox) == 2


def test_replays_in_any_order_leave_the_same_result(
    client, stripe_on, painting, django_capture_on_commit_callbacks
):
    order = start(client, painting)
    paid = stripe_on.complete_session(order.payment_session_id)
    refunded = stripe_on.refund_event(paid["data"]["object"]["payment_intent"], 50000)
    with django_capture_on_commit_callbacks(execute=True):
        for event in (paid, refunded):
            assert post_event(client, event).status_code == 200
    expected = state(order)
    assert expected[0] == OrderStatus.PARTLY_REFUNDED and expected[2] == Decimal("500.00")
    emails = sorted(m.subject for m in mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        for event in [refunded, paid, refunded, paid, paid, refunded]:
            assert post_event(client, event).status_code == 200
    assert state(order) == expected
    assert sorted(m.subject for m in mail.outbox) == emails  # one of each email
    assert PaymentEvent.objects.filter(order=order).count() == 2


def test_refund_arriving_before_payment_is_applied_once_payment_lands(
    client, stripe_on, painting, django_capture_on_commit_callbacks
):
    order = start(client, painting)
    paid = stripe_on.complete_session(order.payment_session_id)
    refunded = stripe_on.refund_event(paid["data"]["object"]["payment_intent"])
    with django_capture_on_commit_callbacks(execute=True):
        # Out of order: the refund names a payment we have not heard of yet; it is not recorded.
        assert post_event(client, refunded).json()["result"].startswith("ignored")
        post_event(client, paid)
        post_event(client, refunded)  # Stripe retries undelivered events
    status, total, refunded_total, *_ = state(order)
    assert (status, refunded_total) == (OrderStatus.REFUNDED, total)


def test_expired_session_releases_the_hold_and_a_late_payment_still_sells_a_free_work(
    client, stripe_on, painting, django_capture_on_commit_callbacks
):
    order = start(client, painting)
    session_id = order.payment_session_id
    session = {"id": session_id, "object": "checkout.session", "status": "expired"}
    expired = {
        "id": "evt_expired_1", "object": "event", "type": "checkout.session.expired",
        "created": int(time.time()), "data": {"object": session},
    }  # fmt: skip
    post_event(client, expired)
    assert state(order)[0] == OrderStatus.CANCELLED
    assert painting.units.get().held_by is None

    paid = stripe_on.complete_session(session_id)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, paid)
    assert state(order)[0] == OrderStatus.PAID  # nobody else took it: the collector gets it
    assert stripe_on.calls("POST", "/v1/refunds") == []


def test_a_late_payment_for_a_work_sold_to_someone_else_is_refunded_automatically(
    client, stripe_on, painting, django_capture_on_commit_callbacks
):
    first = start(client, painting, email="first@example.com")
    # The first hold lapses; a second collector buys the work and pays.
    painting.units.update(held_until=timezone.now() - timezone.timedelta(minutes=1))
    second_client = client.__class__()
    second = start(second_client, painting, email="second@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_on.complete_session(second.payment_session_id))
        post_event(client, stripe_on.complete_session(first.payment_session_id))
    assert state(second)[0] == OrderStatus.PAID
    assert state(first)[0] == OrderStatus.CANCELLED  # refund requested, not yet confirmed
    (refund,) = stripe_on.calls("POST", "/v1/refunds")
    assert refund.idempotency_key == f"order-{first.number}-auto-refund"
    assert first.events.filter(message__contains="refund of the full amount requested").exists()
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_on.last_event("charge.refunded"))  # Stripe confirms
    status, total, refunded, *_ = state(first)
    assert (status, refunded) == (OrderStatus.REFUNDED, total)
    assert any("refund" in message.subject.lower() for message in mail.outbox)


def _snapshot():
    return (
        list(Order.objects.order_by("pk").values_list("status", "refunded")),
        PaymentEvent.objects.count(),
        list(ArtworkUnit.objects.filter(held_by__isnull=False).values_list("pk", flat=True)),
    )


def test_bad_webhooks_are_refused_and_change_nothing(client, stripe_on, painting):
    order = start(client, painting)
    event = stripe_on.complete_session(order.payment_session_id)
    before = _snapshot()
    payload = json.dumps(event).encode()

    bad_signature = client.post(
        WEBHOOK_URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, "whsec_wrong"),
    )
    assert bad_signature.status_code == 400
    missing = client.post(WEBHOOK_URL, payload, content_type="application/json")
    assert missing.status_code == 400
    tampered = payload.replace(b"1825", b"1")
    assert (
        client.post(
            WEBHOOK_URL,
            tampered,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, WEBHOOK_SECRET),
        ).status_code
        == 400
    )
    malformed = b"{not json"
    assert (
        client.post(
            WEBHOOK_URL,
            malformed,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(malformed, WEBHOOK_SECRET),
        ).status_code
        == 400
    )
    no_data = {"id": "evt_x", "type": "checkout.session.completed"}
    assert post_event(client, no_data).status_code == 400
    unknown_type = {**event, "id": "evt_unknown_type", "type": "customer.created"}
    response = post_event(client, unknown_type)
    assert response.status_code == 200 and response.json()["result"].startswith("ignored")
    unknown_session = json.loads(json.dumps(event))
    unknown_session["id"] = "evt_unknown_session"
    unknown_session["data"]["object"]["id"] = "cs_test_not_ours"
    response = post_event(client, unknown_session)
    assert response.status_code == 200 and response.json()["result"].startswith("ignored")
    assert client.get(WEBHOOK_URL).status_code == 405
    assert _snapshot() == before


def test_local_gateway_events_use_the_same_handler_and_secret(client, painting, settings):
    order = start(client, painting)
    assert order.payment_session_id.startswith("cs_local_")
    session = {"id": order.payment_session_id, "payment_status": "paid"}
    forged = {"id": "evt_forged", "type": "checkout.session.completed", "object": "event",
              "data": {"object": session}}  # fmt: skip
    assert post_event(client, forged, secret="whsec_guess").status_code == 400
    response = post_event(client, forged, secret=settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
    assert response.status_code == 200
    assert state(order)[0] == OrderStatus.PAID
