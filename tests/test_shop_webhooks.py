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
from core.models import OutboxMessage
from shop.models import (
    FulfilmentStatus,
    Hold,
    Order,
    OrderEvent,
    PaymentEvent,
    PaymentStatus,
    Refund,
)
from shop.payments import sign_payload
from tests.support.shop import checkout_form

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "whsec_test_artspot"
WEBHOOK_URL = "/shop/webhooks/stripe/"

P, F = PaymentStatus, FulfilmentStatus


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
    response = client.post("/shop/checkout/", checkout_form(email, country))
    assert response.status_code == 302, response.content
    return Order.objects.get(email=email, payment_status=P.UNPAID, fulfilment_status=F.UNFULFILLED)


def state(order: Order) -> tuple:
    order.refresh_from_db()
    units = tuple(
        ArtworkUnit.objects.filter(order_lines__order=order).values_list("sold_at", "hold__order")
    )
    statuses = (order.payment_status, order.fulfilment_status)
    return (statuses, order.total, order.refunded, order.paid_at, units)


def test_checkout_creates_one_stripe_session_from_database_facts(client, stripe_on, painting):
    order = start(client, painting, country="FR")
    (create,) = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert create.idempotency_key == f"order-{order.number}-session"
    params = create.params
    assert params["line_items"][0]["price_data"]["unit_amount"] == "180000"
    assert params["line_items"][0]["price_data"]["currency"] == "gbp"
    assert params["shipping_options"][0]["shipping_rate_data"]["fixed_amount"]["amount"] == "6000"
    # The address was given (and checked) at checkout: Stripe ships there, collects none.
    assert "shipping_address_collection" not in params
    assert params["payment_intent_data"]["shipping"] == {
        "name": "Ana Ruiz",
        "phone": order.shipping_phone,
        "address": {
            "line1": "3 rue des Arts", "line2": "", "city": order.shipping_city,
            "postal_code": "75003", "state": "", "country": "FR",
        },
    }  # fmt: skip
    assert order.shipping_phone == "+33142685300"
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
    assert (status, total, refunded) == ((P.PAID, F.UNFULFILLED), Decimal("1825.00"), Decimal(0))
    assert units[0][0] is not None and units[0][1] is None  # sold, no longer held
    assert order.payment_intent_id.startswith("pi_")
    assert order.shipping_line1 == "1 Quay Street"  # the address given at checkout stands
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
    assert expected[0] == (P.PARTLY_REFUNDED, F.UNFULFILLED)
    assert expected[2] == Decimal("500.00")
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
    assert (status, refunded_total) == ((P.REFUNDED, F.UNFULFILLED), total)


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
    assert state(order)[0] == (P.UNPAID, F.CANCELLED)
    assert not Hold.objects.filter(unit__artwork=painting).exists()

    paid = stripe_on.complete_session(session_id)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, paid)
    # Nobody else took it: the collector gets it, and the order is one to ship again.
    assert state(order)[0] == (P.PAID, F.UNFULFILLED)
    assert painting.units.get().sold_at is not None
    assert stripe_on.calls("POST", "/v1/refunds") == []


def test_a_late_payment_for_a_work_sold_to_someone_else_is_refunded_automatically(
    client, stripe_on, painting, django_capture_on_commit_callbacks
):
    first = start(client, painting, email="first@example.com")
    # The first hold lapses; a second collector buys the work and pays.
    Hold.objects.filter(order=first).update(
        held_until=timezone.now() - timezone.timedelta(minutes=1)
    )
    second_client = client.__class__()
    second = start(second_client, painting, email="second@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_on.complete_session(second.payment_session_id))
        post_event(client, stripe_on.complete_session(first.payment_session_id))
    assert state(second)[0] == (P.PAID, F.UNFULFILLED)
    # Paid, then cancelled at once: the refund is requested, not yet confirmed.
    assert state(first)[0] == (P.PAID, F.CANCELLED)
    (refund,) = stripe_on.calls("POST", "/v1/refunds")
    assert refund.idempotency_key == f"order-{first.number}-auto-refund"
    recorded = first.refunds.get()
    assert (recorded.idempotency_key, recorded.amount, recorded.status) == (
        f"order-{first.number}-auto-refund", Decimal("1825.00"), Refund.Status.SENT,
    )  # fmt: skip
    assert first.events.filter(
        kind=OrderEvent.Kind.CANCELLED, public=True, message__endswith="refunding the full amount."
    ).exists()
    assert first.events.filter(
        kind=OrderEvent.Kind.NOTE, message__startswith="Refund of £1,825.00 requested by"
    ).exists()
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_on.last_event("charge.refunded"))  # Stripe confirms
    status, total, refunded, *_ = state(first)
    assert (status, refunded) == ((P.REFUNDED, F.CANCELLED), total)
    assert any("refund" in message.subject.lower() for message in mail.outbox)


def test_a_payment_after_expiry_for_a_work_sold_meanwhile_is_refunded_automatically(
    client, stripe_on, painting, django_capture_on_commit_callbacks
):
    first = start(client, painting, email="first@example.com")
    session = {"id": first.payment_session_id, "object": "checkout.session", "status": "expired"}
    expired = {
        "id": "evt_expired_2", "object": "event", "type": "checkout.session.expired",
        "created": int(time.time()), "data": {"object": session},
    }  # fmt: skip
    post_event(client, expired)
    assert state(first)[0] == (P.UNPAID, F.CANCELLED)
    second = start(client.__class__(), painting, email="second@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, stripe_on.complete_session(second.payment_session_id))
        response = post_event(client, stripe_on.complete_session(first.payment_session_id))
    assert response.status_code == 200
    assert response.json()["result"] == "paid too late; refund requested"
    assert state(second)[0] == (P.PAID, F.UNFULFILLED)
    assert state(first)[0] == (P.PAID, F.CANCELLED)
    (refund,) = stripe_on.calls("POST", "/v1/refunds")
    assert refund.idempotency_key == f"order-{first.number}-auto-refund"
    assert first.events.filter(public=True, message__endswith="refunding the full amount.").exists()


def _snapshot():
    return (
        list(
            Order.objects.order_by("pk").values_list(
                "payment_status", "fulfilment_status", "refunded"
            )
        ),
        PaymentEvent.objects.count(),
        list(Hold.objects.order_by("pk").values_list("unit_id", "order_id", "held_until")),
        OutboxMessage.objects.count(),
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
    session = {"id": order.payment_session_id, "payment_status": "paid",
               "amount_total": 182500, "currency": "gbp"}  # fmt: skip
    forged = {"id": "evt_forged", "type": "checkout.session.completed", "object": "event",
              "data": {"object": session}}  # fmt: skip
    assert post_event(client, forged, secret="whsec_guess").status_code == 400
    assert state(order)[0] == (P.UNPAID, F.UNFULFILLED)
    response = post_event(client, forged, secret=settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
    assert response.status_code == 200
    assert state(order)[0] == (P.PAID, F.UNFULFILLED)


@pytest.mark.parametrize(
    ("amount_total", "currency", "problem"),
    [
        (100, "gbp", "£1.00 paid, £1,825.00 expected"),
        (182500, "eur", "currency EUR, expected GBP"),
        (None, "gbp", "no amount_total"),
    ],
)
def test_a_payment_that_does_not_match_the_order_never_marks_it_paid(
    client, painting, settings, django_capture_on_commit_callbacks, amount_total, currency, problem
):
    order = start(client, painting)
    session = {"id": order.payment_session_id, "payment_status": "paid",
               "amount_total": amount_total, "currency": currency,
               "payment_intent": "pi_local_mismatch"}  # fmt: skip
    event = {"id": "evt_mismatch", "type": "checkout.session.completed", "object": "event",
             "data": {"object": session}}  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, event, secret=settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
    assert response.status_code == 200
    assert response.json()["result"] == "payment does not match the order; not marked paid"
    statuses, _total, _refunded, paid_at, units = state(order)
    assert (statuses, paid_at) == ((P.UNPAID, F.UNFULFILLED), None)
    assert units == ((None, order.pk),)  # not sold; still held for this order
    assert order.last_error == f"Payment mismatch: {problem}"
    (mismatch,) = order.events.filter(kind=OrderEvent.Kind.PAYMENT_MISMATCH)
    assert mismatch.message == f"Payment not accepted: {problem}."
    assert not mismatch.public
    assert PaymentEvent.objects.filter(order=order, event_id="evt_mismatch").count() == 1
    assert [m.subject for m in mail.outbox] == [f"Payment mismatch on order {order.number}"]
