"""The Stripe and ShipStation fakes, exercised through the real client libraries."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import stripe
import time_machine

from tests.fakes import FakeShipStation, FakeStripe
from tests.fakes.stripe_server import parse_form

pytest_plugins = ["tests.fakes.fixtures"]

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def client(fake_stripe: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_artspot", base_addresses={"api": fake_stripe.url})


def session_params(**overrides: Any) -> dict[str, Any]:
    """What the shop will send: price_data line items, shipping, metadata, a 1-hour expiry."""
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "gbp",
                    "unit_amount": 12500,
                    "product_data": {"name": "Harbour at Dusk (original)"},
                },
            },
            {
                "quantity": 2,
                "price_data": {
                    "currency": "gbp",
                    "unit_amount": 2000,
                    "product_data": {"name": "Harbour at Dusk (print)"},
                },
            },
        ],
        "shipping_address_collection": {"allowed_countries": ["GB", "IE"]},
        "shipping_options": [
            {
                "shipping_rate_data": {
                    "type": "fixed_amount",
                    "display_name": "Tracked 48",
                    "fixed_amount": {"amount": 495, "currency": "gbp"},
                }
            }
        ],
        "metadata": {"order_id": "42"},
        "client_reference_id": "order-42",
        "customer_email": "buyer@example.com",
        "expires_at": int(time.time()) + 3600,
        "success_url": "https://artspot.test/checkout/done?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://artspot.test/basket",
    }
    params.update(overrides)
    return params


def create_session(client: stripe.StripeClient, key: str = "order-42-session", **overrides: Any):
    return client.v1.checkout.sessions.create(
        params=session_params(**overrides), options={"idempotency_key": key}
    )


# --- Stripe: checkout sessions --------------------------------------------------------------
def test_form_decoding_matches_the_library_encoding() -> None:
    body = (
        "line_items[0][price_data][unit_amount]=100&line_items[0][quantity]=2"
        "&line_items[1][quantity]=1&metadata[order_id]=7&metadata[0]=zero"
        "&shipping_address_collection[allowed_countries][0]=GB"
        "&shipping_address_collection[allowed_countries][1]=IE&expand[]=line_items"
    )
    assert parse_form(body) == {
        "line_items": [{"price_data": {"unit_amount": "100"}, "quantity": "2"}, {"quantity": "1"}],
        "metadata": {"order_id": "7", "0": "zero"},
        "shipping_address_collection": {"allowed_countries": ["GB", "IE"]},
        "expand": ["line_items"],
    }


def test_create_and_read_back_a_checkout_session(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    session = create_session(client)

    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{fake_stripe.url}/pay/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "payment")
    assert session.amount_subtotal == 12500 + 2 * 2000
    assert session.amount_total == 12500 + 2 * 2000 + 495
    assert session.currency == "gbp"
    assert session.metadata.to_dict() == {"order_id": "42"}
    assert session.client_reference_id == "order-42"
    assert session.customer_email == "buyer@example.com"
    assert session.payment_intent is None
    assert session.shipping_address_collection.allowed_countries == ["GB", "IE"]

    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.id == session.id and again.expires_at == session.expires_at
    assert [item.quantity for item in again.line_items.data] == [1, 2]

    (call,) = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert call.idempotency_key == "order-42-session"
    assert call.headers["Authorization"] == "Bearer sk_test_artspot"
    assert call.params["line_items"][0]["price_data"]["unit_amount"] == "12500"
    assert call.params["metadata"] == {"order_id": "42"}


def test_idempotent_replay_returns_the_same_session_and_creates_nothing(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    params = session_params()
    first = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k1"})
    second = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "k1"})

    assert second.id == first.id
    assert len(fake_stripe.checkout_sessions) == 1
    calls = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert [c.replayed for c in calls] == [False, True]
    assert second.last_response.headers["Idempotent-Replayed"] == "true"

    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(
            params={**params, "client_reference_id": "other"}, options={"idempotency_key": "k1"}
        )
    assert len(fake_stripe.checkout_sessions) == 1


def test_module_level_api_base_works_too(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe, "api_key", "sk_test_global")
    monkeypatch.setattr(stripe, "api_base", fake_stripe.url)
    session = stripe.checkout.Session.create(idempotency_key="global-1", **session_params())
    assert stripe.checkout.Session.retrieve(session.id).amount_total == session.amount_total
    assert fake_stripe.calls()[0].headers["Authorization"] == "Bearer sk_test_global"


@pytest.mark.parametrize("seconds", [29 * 60, 24 * 3600 + 60])
def test_expires_at_must_be_30_minutes_to_24_hours_ahead(
    fake_stripe: FakeStripe, client: stripe.StripeClient, seconds: int
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        create_session(client, expires_at=int(time.time()) + seconds)
    assert caught.value.param == "expires_at"
    assert caught.value.http_status == 400
    assert fake_stripe.checkout_sessions == {}


def test_unknown_and_missing_parameters_are_rejected(client: stripe.StripeClient) -> None:
    params = session_params()
    params["line_items"][0]["price_data"]["unit_amont"] = 1
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=params)
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "line_items[0][price_data][unit_amont]"

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params=session_params(mode=None))
    assert (caught.value.code, caught.value.param) == ("parameter_missing", "mode")


def test_api_key_is_required(fake_stripe: FakeStripe) -> None:
    live = stripe.StripeClient("sk_live_oops", base_addresses={"api": fake_stripe.url})
    with pytest.raises(stripe.AuthenticationError):
        live.v1.checkout.sessions.retrieve("cs_test_x")

    response = requests.get(f"{fake_stripe.url}/v1/checkout/sessions/cs_test_x", timeout=5)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_unknown_ids_are_404_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.retrieve("re_nope")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


def test_expire_an_open_session_once(fake_stripe: FakeStripe, client: stripe.StripeClient) -> None:
    session = create_session(client)
    assert client.v1.checkout.sessions.expire(session.id).status == "expired"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert fake_stripe.last_event("checkout.session.expired")["data"]["object"]["id"] == session.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(session.id)

    paid = create_session(client, key="paid")
    fake_stripe.complete_session(paid.id)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.expire(paid.id)


def test_sessions_expire_by_themselves_once_expires_at_passes(client: stripe.StripeClient) -> None:
    session = create_session(client)
    with time_machine.travel(session.expires_at + 1):
        assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


# --- Stripe: payment, refunds, events -------------------------------------------------------
def test_complete_session_pays_and_returns_the_completed_event(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    session = create_session(client)
    shipping = {
        "name": "Grace Hopper",
        "address": {"line1": "1 Quay", "city": "Cork", "country": "IE"},
    }

    event = fake_stripe.complete_session(session.id, shipping_details=shipping)

    assert event["id"].startswith("evt_") and event["object"] == "event"
    assert event["type"] == "checkout.session.completed"
    assert event["livemode"] is False and event["api_version"]
    paid = event["data"]["object"]
    assert (paid["status"], paid["payment_status"]) == ("complete", "paid")
    assert paid["payment_intent"].startswith("pi_")
    assert paid["metadata"] == {"order_id": "42"}
    details = paid["collected_information"]["shipping_details"]
    assert details["name"] == "Grace Hopper" and details["address"]["country"] == "IE"

    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert again.payment_intent.status == "succeeded"
    assert again.payment_intent.amount_received == session.amount_total
    with pytest.raises(ValueError, match="not open"):
        fake_stripe.complete_session(session.id)


def test_partial_refund_then_over_refund(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    session = create_session(client)
    intent = fake_stripe.complete_session(session.id)["data"]["object"]["payment_intent"]

    refund = client.v1.refunds.create(
        params={"payment_intent": intent, "amount": 2000}, options={"idempotency_key": "r1"}
    )
    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.payment_intent) == ("succeeded", 2000, intent)
    assert client.v1.refunds.retrieve(refund.id).amount == 2000

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"payment_intent": intent, "amount": session.amount_total})
    assert caught.value.param == "amount"

    event = fake_stripe.last_event("charge.refunded")
    assert event["data"]["object"]["amount_refunded"] == 2000
    assert event["data"]["object"]["refunded"] is False
    assert event["request"]["idempotency_key"] == "r1"


def test_test_controls_return_the_other_events(
    fake_stripe: FakeStripe, client: stripe.StripeClient
) -> None:
    expired = fake_stripe.expire_session_event(create_session(client, key="a").id)
    assert expired["type"] == "checkout.session.expired"
    assert expired["data"]["object"]["status"] == "expired"

    failed = fake_stripe.payment_failed_event(create_session(client, key="b").id)
    assert failed["type"] == "checkout.session.async_payment_failed"
    assert failed["data"]["object"]["payment_status"] == "unpaid"

    session = create_session(client, key="c")
    intent = fake_stripe.complete_session(session.id)["data"]["object"]["payment_intent"]
    refunded = fake_stripe.refund_event(intent, 1000)
    assert refunded["type"] == "charge.refunded"
    assert refunded["data"]["object"]["amount_refunded"] == 1000
    assert fake_stripe.refund_event(intent)["data"]["object"]["refunded"] is True
    with pytest.raises(ValueError, match="already been refunded"):
        fake_stripe.refund_event(intent, 1)


def test_signed_webhook_verifies_with_the_library(fake_stripe: FakeStripe, client) -> None:
    event = fake_stripe.complete_session(create_session(client).id)
    payload, headers = fake_stripe.webhook_request(event, WEBHOOK_SECRET)

    verified = stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], WEBHOOK_SECRET)
    assert verified.id == event["id"] and verified.type == "checkout.session.completed"
    assert verified.data.object.metadata["order_id"] == "42"

    ts = int(time.time())
    assert fake_stripe.sign(payload, WEBHOOK_SECRET, ts) == (
        stripe.WebhookSignature.generate_signature_header(payload.decode(), WEBHOOK_SECRET, ts)
    )
    tampered = payload.replace(b'"order_id": "42"', b'"order_id": "43"')
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(tampered, headers["Stripe-Signature"], WEBHOOK_SECRET)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_other")
    stale = fake_stripe.sign(payload, WEBHOOK_SECRET, timestamp=ts - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, stale, WEBHOOK_SECRET)


def test_library_retries_an_injected_500_with_the_same_idempotency_key(
    fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stripe.HTTPClient, "_sleep_time_seconds", lambda self, n: 0)
    client = stripe.StripeClient(
        "sk_test_x", base_addresses={"api": fake_stripe.url}, max_network_retries=1
    )
    fake_stripe.fail_next(1, status=500)

    session = create_session(client, key="order-7-session")

    calls = fake_stripe.calls("POST", "/v1/checkout/sessions")
    assert [c.status for c in calls] == [500, 200]
    assert {c.idempotency_key for c in calls} == {"order-7-session"}
    assert list(fake_stripe.checkout_sessions) == [session.id]


def test_hosted_page_pays_and_redirects(fake_stripe: FakeStripe, client) -> None:
    session = create_session(client)
    assert "Pay" in requests.get(session.url, timeout=5).text

    response = requests.post(session.url, allow_redirects=False, timeout=5)

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"session={session.id}")
    assert fake_stripe.checkout_sessions[session.id]["payment_status"] == "paid"


# --- ShipStation ----------------------------------------------------------------------------
def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orderNumber": "AS-1042",
        "orderKey": "order-1042",
        "orderDate": "2026-05-01T10:00:00.0000000",
        "orderStatus": "awaiting_shipment",
        "customerEmail": "buyer@example.com",
        "billTo": {"name": "Grace Hopper"},
        "shipTo": {
            "name": "Grace Hopper",
            "street1": "1 Quay",
            "city": "Cork",
            "postalCode": "T12",
            "country": "IE",
        },
        "items": [{"sku": "AW-7", "name": "Harbour at Dusk", "quantity": 1, "unitPrice": 125.0}],
        "shippingAmount": 4.95,
    }
    body.update(overrides)
    return body


@pytest.fixture
def shipstation(fake_shipstation: FakeShipStation) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.auth = fake_shipstation.auth
        yield session


def test_createorder_upserts_by_order_key(
    fake_shipstation: FakeShipStation, shipstation: requests.Session
) -> None:
    url = f"{fake_shipstation.url}/orders/createorder"
    first = shipstation.post(url, json=order_body(), timeout=5).json()
    second = shipstation.post(url, json=order_body(internalNotes="gift wrap"), timeout=5).json()

    assert second["orderId"] == first["orderId"]
    assert second["orderKey"] == "order-1042"
    assert second["internalNotes"] == "gift wrap"
    assert second["orderTotal"] == 129.95
    assert second["createDate"] == first["createDate"]
    listing = shipstation.get(
        f"{fake_shipstation.url}/orders", params={"orderNumber": "AS-1042"}, timeout=5
    ).json()
    assert (listing["total"], listing["page"], listing["pages"]) == (1, 1, 1)
    assert len(fake_shipstation.orders) == 1


def test_createorder_without_order_key_creates_another_order_each_time(
    fake_shipstation: FakeShipStation, shipstation: requests.Session
) -> None:
    url = f"{fake_shipstation.url}/orders/createorder"
    first = shipstation.post(url, json=order_body(orderKey=None), timeout=5).json()
    second = shipstation.post(url, json=order_body(orderKey=None), timeout=5).json()
    assert first["orderId"] != second["orderId"]
    assert len(fake_shipstation.orders) == 2


def test_createorder_validates_and_requires_basic_auth(
    fake_shipstation: FakeShipStation, shipstation: requests.Session
) -> None:
    url = f"{fake_shipstation.url}/orders/createorder"
    assert requests.post(url, json=order_body(), timeout=5).status_code == 401
    wrong = requests.post(url, json=order_body(), auth=("ss-test-key", "nope"), timeout=5)
    assert wrong.status_code == 401

    response = shipstation.post(url, json=order_body(shipTo=None), timeout=5)
    assert response.status_code == 400
    assert "apiOrder.shipTo" in response.json()["ModelState"]
    assert fake_shipstation.orders == {}


def test_ship_notify_resource_url_lists_the_shipment(
    fake_shipstation: FakeShipStation, shipstation: requests.Session
) -> None:
    url = fake_shipstation.url
    order = shipstation.post(f"{url}/orders/createorder", json=order_body(), timeout=5).json()

    notify = fake_shipstation.ship("AS-1042", tracking_number="RM123456785GB")

    assert notify["resource_type"] == "SHIP_NOTIFY"
    assert notify["resource_url"].startswith(f"{url}/shipments?batchId=")
    shipments = shipstation.get(notify["resource_url"], timeout=5).json()
    assert (shipments["total"], shipments["page"], shipments["pages"]) == (1, 1, 1)
    (shipment,) = shipments["shipments"]
    assert shipment["orderId"] == order["orderId"]
    assert (shipment["carrierCode"], shipment["trackingNumber"]) == ("royal_mail", "RM123456785GB")
    by_number = shipstation.get(f"{url}/shipments", params={"orderNumber": "AS-1042"}, timeout=5)
    assert by_number.json()["shipments"][0]["shipmentId"] == shipment["shipmentId"]
    assert shipstation.get(f"{url}/orders/{order['orderId']}", timeout=5).json()["orderStatus"] == (
        "shipped"
    )

    locked = shipstation.post(f"{url}/orders/createorder", json=order_body(), timeout=5)
    assert locked.status_code == 400


def test_rate_limit_then_success(
    fake_shipstation: FakeShipStation, shipstation: requests.Session
) -> None:
    fake_shipstation.fail_next(2, status=429, retry_after=0)
    url = f"{fake_shipstation.url}/orders/createorder"

    responses = []
    for _attempt in range(5):
        response = shipstation.post(url, json=order_body(), timeout=5)
        responses.append(response)
        if response.status_code != 429:
            break
        time.sleep(int(response.headers["Retry-After"]))

    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "0"
    assert responses[0].headers["X-Rate-Limit-Reset"] == "0"
    assert len(fake_shipstation.orders) == 1
    assert [c.status for c in fake_shipstation.calls("POST")] == [429, 429, 200]


def test_server_errors_can_be_injected(
    fake_shipstation: FakeShipStation, shipstation: requests.Session
) -> None:
    fake_shipstation.fail_next(1, status=503)
    url = f"{fake_shipstation.url}/orders"
    assert shipstation.get(url, timeout=5).status_code == 503
    assert shipstation.get(url, timeout=5).json() == {
        "orders": [],
        "total": 0,
        "page": 1,
        "pages": 0,
    }
