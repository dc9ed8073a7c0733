"""Payments: Stripe Checkout in production, a local test-payment page on the embedded default.

Views and tasks use :func:`get_gateway` and never import ``stripe`` themselves. Both gateways
deliver their results as Stripe-shaped events, signed the way Stripe signs them, to the one
webhook handler (``shop.webhooks``): the local page signs with a local secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import stripe
from django.conf import settings
from django.urls import reverse

from .models import Order


class PaymentError(Exception):
    """The payment service refused or could not be reached; the message is safe to show."""

    retryable = False


class PaymentUnavailable(PaymentError):
    """The provider did not answer in time or answered 5xx: the same call may succeed later."""

    retryable = True


def _error(error: stripe.StripeError, message: str) -> PaymentError:
    """Our error for a Stripe one: retryable when the network or Stripe itself failed."""
    status = getattr(error, "http_status", None) or 0
    if isinstance(error, stripe.APIConnectionError) or status >= 500 or status == 429:
        return PaymentUnavailable(message)
    return PaymentError(message)


class InvalidWebhook(Exception):
    """A webhook whose signature or body is wrong."""


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str


def minor_units(amount: Decimal) -> int:
    """Stripe amounts are integers in the currency's minor unit (pence, cents)."""
    return int((amount * 100).quantize(Decimal(1)))


def from_minor_units(amount: int) -> Decimal:
    return (Decimal(amount) / 100).quantize(Decimal("0.01"))


class PaymentGateway(Protocol):
    webhook_secret: str
    is_test_mode: bool
    # Whether the provider itself reports expired sessions with a webhook (Stripe does).
    reports_expiry: bool

    def create_checkout_session(
        self,
        order: Order,
        *,
        success_url: str,
        cancel_url: str,
        allowed_countries: list[str],
        expires_at: datetime,
        automatic_tax: bool,
    ) -> CheckoutSession: ...

    def expire_checkout_session(self, session_id: str) -> None: ...

    def refund(self, order: Order, amount: Decimal | None, idempotency_key: str) -> str: ...


def verify_webhook(payload: bytes, signature: str, secret: str) -> dict:
    """The event, if ``signature`` is Stripe's HMAC-SHA256 of it with ``secret``."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidWebhook(str(error)) from error
    return event.to_dict() if hasattr(event, "to_dict") else dict(event)


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header for ``payload``, made exactly as Stripe makes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _line_items(order: Order) -> list[dict]:
    currency = order.currency.lower()
    return [
        {
            "quantity": 1,
            "price_data": {
                "currency": currency,
                "unit_amount": minor_units(line.unit_price),
                "product_data": {
                    "name": f"{line.title} — {line.artist_name}"
                    + (f" ({line.edition_label})" if line.edition_number else ""),
                },
            },
        }
        for line in order.lines.all()
    ]


class StripeGateway:
    """Stripe Checkout Sessions (hosted payment page)."""

    reports_expiry = True

    def __init__(
        self,
        secret_key: str,
        webhook_secret: str,
        api_base: str = "",
        timeout: tuple[float, float] = (3.0, 10.0),
    ):
        self.webhook_secret = webhook_secret
        addresses = {"api": api_base} if api_base else None
        # Connect and read timeouts, and no retry inside a request: a provider that hangs costs
        # the collector at most the timeout (tasks retry with the same idempotency key).
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses=addresses,
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout),
        )
        self.is_test_mode = secret_key.startswith("sk_test_")

    def create_checkout_session(
        self, order, *, success_url, cancel_url, allowed_countries, expires_at, automatic_tax
    ) -> CheckoutSession:
        currency = order.currency.lower()
        params: dict = {
            "mode": "payment",
            "line_items": _line_items(order),
            "shipping_options": [
                {
                    "shipping_rate_data": {
                        "type": "fixed_amount",
                        "display_name": "Insured delivery",
                        "fixed_amount": {
                            "amount": minor_units(order.shipping),
                            "currency": currency,
                        },
                    }
                }
            ],
            "customer_email": order.email,
            "client_reference_id": order.number,
            "metadata": {"order_id": str(order.pk), "order_number": order.number},
            "payment_intent_data": {"metadata": {"order_number": order.number}},
            "expires_at": int(expires_at.timestamp()),
            "success_url": success_url,
            "cancel_url": cancel_url,
        }
        if order.shipping_line1:  # given at checkout, validated for its country
            params["payment_intent_data"]["shipping"] = {
                "name": order.shipping_name,
                "phone": order.shipping_phone,
                "address": {
                    "line1": order.shipping_line1,
                    "line2": order.shipping_line2,
                    "city": order.shipping_city,
                    "postal_code": order.shipping_postal_code,
                    "state": order.shipping_state,
                    "country": str(order.shipping_country),
                },
            }
        else:
            params["shipping_address_collection"] = {"allowed_countries": allowed_countries}
        if automatic_tax:
            params["automatic_tax"] = {"enabled": True}
        try:
            session = self.client.v1.checkout.sessions.create(
                params, {"idempotency_key": f"order-{order.number}-session"}
            )
        except stripe.StripeError as error:
            raise _error(error, "Our payment provider could not start the payment.") from error
        return CheckoutSession(id=session.id, url=session.url)

    def expire_checkout_session(self, session_id: str) -> None:
        try:
            self.client.v1.checkout.sessions.expire(session_id)
        except stripe.InvalidRequestError as refusal:
            # Already expired (nothing to do) or already paid (the payment must not be lost).
            try:
                session = self.client.v1.checkout.sessions.retrieve(session_id)
            except stripe.StripeError as error:
                raise _error(error, "Could not check the payment session.") from error
            if session.status == "complete":
                raise PaymentError(
                    "The collector has just paid for this order; it shows as paid in a moment."
                ) from refusal
        except stripe.StripeError as error:
            raise _error(error, "Could not expire the payment session.") from error

    def refund(self, order: Order, amount: Decimal | None, idempotency_key: str) -> str:
        params: dict = {"payment_intent": order.payment_intent_id}
        if amount is not None:
            params["amount"] = minor_units(amount)
        try:
            refund = self.client.v1.refunds.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise _error(
                error, f"Stripe refused the refund: {error.user_message or error}"
            ) from error
        return refund.id


class LocalGateway:
    """The embedded default's stand-in for Stripe: a clearly labelled test-payment page.

    Paying there builds the same ``checkout.session.completed`` event Stripe would send, signs it
    with a local secret and gives it to the same webhook handler.
    """

    is_test_mode = True
    reports_expiry = False

    def __init__(self, webhook_secret: str):
        self.webhook_secret = webhook_secret

    def create_checkout_session(
        self, order, *, success_url, cancel_url, allowed_countries, expires_at, automatic_tax
    ) -> CheckoutSession:
        session_id = f"cs_local_{order.pk}_{secrets.token_hex(8)}"
        return CheckoutSession(id=session_id, url=reverse("shop:test_payment", args=[session_id]))

    def expire_checkout_session(self, session_id: str) -> None:
        return None

    def refund(self, order: Order, amount: Decimal | None, idempotency_key: str) -> str:
        refund_id = "re_local_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]
        refunded = order.refunded + (amount if amount is not None else order.total - order.refunded)
        event = build_event(
            "charge.refunded",
            {
                "object": "charge",
                "id": "ch_local_" + order.number,
                "payment_intent": order.payment_intent_id,
                "amount": minor_units(order.total),
                "amount_refunded": minor_units(refunded),
                "currency": order.currency.lower(),
            },
            event_id="evt_local_" + refund_id,
        )
        deliver_locally(event, self.webhook_secret)
        return refund_id


def build_event(event_type: str, data_object: dict, event_id: str | None = None) -> dict:
    return {
        "id": event_id or f"evt_local_{secrets.token_hex(12)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "livemode": False,
        "api_version": stripe.api_version,
        "data": {"object": data_object},
    }


def completed_session_event(order: Order, session_id: str, address: dict, name: str) -> dict:
    """What Stripe sends when a Checkout Session is paid, for the local test page."""
    return build_event(
        "checkout.session.completed",
        {
            "object": "checkout.session",
            "id": session_id,
            "status": "complete",
            "payment_status": "paid",
            "payment_intent": f"pi_local_{order.number}",
            "amount_total": minor_units(order.total),
            "currency": order.currency.lower(),
            "customer_details": {"email": order.email, "name": name},
            "collected_information": {"shipping_details": {"name": name, "address": address}},
            "metadata": {"order_id": str(order.pk), "order_number": order.number},
        },
    )


def deliver_locally(event: dict, secret: str) -> None:
    """Sign an event and hand it to the webhook handler, as Stripe's delivery would."""
    from .webhooks import handle_webhook

    payload = json.dumps(event).encode()
    handle_webhook(payload, sign_payload(payload, secret))


def get_gateway() -> PaymentGateway:
    if settings.STRIPE_SECRET_KEY:
        return StripeGateway(
            settings.STRIPE_SECRET_KEY,
            settings.STRIPE_WEBHOOK_SECRET,
            settings.STRIPE_API_BASE,
            timeout=(settings.PAYMENT_CONNECT_TIMEOUT, settings.PAYMENT_READ_TIMEOUT),
        )
    return LocalGateway(settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
