"""The payment webhook: one handler for Stripe's events and the local test page's.

Each event is recorded once (``PaymentEvent.event_id`` is unique) in the same transaction as its
effects, so a replay changes nothing. Handlers look at the order's state rather than the order
events arrive in: an expiry after a payment is ignored, a payment after an expiry still sells the
units if nobody else took them, and is refunded automatically if somebody did.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import inventory
from .models import Order, OrderEvent, OrderStatus, PaymentEvent
from .payments import InvalidWebhook, PaymentError, from_minor_units, get_gateway, verify_webhook

logger = logging.getLogger(__name__)

HANDLED_TYPES = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.expired",
    "checkout.session.async_payment_failed",
    "payment_intent.payment_failed",
    "charge.refunded",
}


@dataclass(frozen=True)
class Outcome:
    status: int
    message: str


def handle_webhook(payload: bytes, signature: str) -> Outcome:
    """Verify, record once, apply. Raises :class:`InvalidWebhook` for a bad signature or body."""
    event = verify_webhook(payload, signature, get_gateway().webhook_secret)
    event_id, event_type = event.get("id"), event.get("type")
    data = (event.get("data") or {}).get("object")
    if (
        not isinstance(event_id, str)
        or not isinstance(event_type, str)
        or not isinstance(data, dict)
    ):
        raise InvalidWebhook("The event has no id, type or data object.")
    if event_type not in HANDLED_TYPES:
        return Outcome(200, f"ignored: {event_type} is not handled")
    order = _find_order(event_type, data)
    if order is None:
        return Outcome(200, "ignored: no order for this event")
    try:
        with transaction.atomic():
            PaymentEvent.objects.create(event_id=event_id, type=event_type, order=order)
            message = _apply(event_type, data, order.pk)
    except IntegrityError:
        return Outcome(200, "already processed")
    return Outcome(200, message)


def _find_order(event_type: str, data: dict) -> Order | None:
    if event_type.startswith("checkout.session."):
        session_id = data.get("id")
        return Order.objects.filter(payment_session_id=session_id).first() if session_id else None
    intent = data.get("payment_intent") if event_type == "charge.refunded" else data.get("id")
    return Order.objects.filter(payment_intent_id=intent).first() if intent else None


def _apply(event_type: str, data: dict, order_pk: int) -> str:
    order = Order.objects.select_for_update().get(pk=order_pk)
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        if data.get("payment_status") != "paid":
            return "session complete, payment not yet captured"
        return _paid(order, data)
    if event_type in (
        "checkout.session.expired",
        "checkout.session.async_payment_failed",
        "payment_intent.payment_failed",
    ):
        return _payment_abandoned(order, event_type)
    return _refunded(order, data)


def _paid(order: Order, session: dict) -> str:
    if order.is_paid or order.status == OrderStatus.REFUNDED:
        return "order already paid"
    order.payment_intent_id = session.get("payment_intent") or ""
    _copy_shipping_details(order, session)
    tax = (session.get("total_details") or {}).get("amount_tax")
    if tax:  # Stripe Tax (opt-in in Shop settings) adds tax on Stripe's page
        order.tax = from_minor_units(int(tax))
        order.total = order.subtotal + order.shipping + order.tax
    if inventory.sell_order_units(order):
        order.status = OrderStatus.PAID
        order.paid_at = timezone.now()
        order.save()
        order.log(OrderEvent.Kind.PAID, f"Paid {order.currency} {order.total}.")
        from .tasks import after_payment

        transaction.on_commit(lambda: after_payment(order.pk))
        return "order paid"
    # The hold had lapsed and another collector bought the work meanwhile: give the money back.
    # The order is cancelled now; the refund's own webhook records the amount and emails.
    order.status = OrderStatus.CANCELLED
    order.save()
    inventory.release_holds(order)
    key = f"order-{order.number}-auto-refund"
    try:
        refund_id = get_gateway().refund(order, None, idempotency_key=key)
    except PaymentError as error:
        order.last_error = f"Automatic refund failed: {error}"
        order.save(update_fields=["last_error"])
        order.log(OrderEvent.Kind.ERROR, "Automatic refund failed; refund by hand.", refund_key=key)
        logger.error("Automatic refund failed for %s: %s", order.number, error)
        return "paid too late; automatic refund failed"
    order.log(
        OrderEvent.Kind.REFUNDED,
        "Paid after the hold lapsed and the work was sold to someone else; refund of the full "
        "amount requested.",
        refund_id=refund_id,
        refund_key=key,
    )
    return "paid too late; refund requested"


def _copy_shipping_details(order: Order, session: dict) -> None:
    details = (session.get("collected_information") or {}).get("shipping_details") or session.get(
        "shipping_details"
    )
    if not details:
        return
    address = details.get("address") or {}
    order.shipping_name = (details.get("name") or "")[:200]
    order.shipping_line1 = (address.get("line1") or "")[:200]
    order.shipping_line2 = (address.get("line2") or "")[:200]
    order.shipping_city = (address.get("city") or "")[:100]
    order.shipping_postal_code = (address.get("postal_code") or "")[:20]
    order.shipping_state = (address.get("state") or "")[:100]
    if address.get("country"):
        order.shipping_country = address["country"]


def _payment_abandoned(order: Order, event_type: str) -> str:
    if order.status != OrderStatus.PENDING_PAYMENT:
        return f"order is {order.status}; nothing to release"
    released = inventory.release_holds(order)
    order.status = OrderStatus.CANCELLED
    order.save(update_fields=["status"])
    reason = "expired" if event_type == "checkout.session.expired" else "failed"
    order.log(OrderEvent.Kind.CANCELLED, f"Payment {reason}; {released} unit(s) released.")
    return f"payment {reason}; holds released"


def _refunded(order: Order, charge: dict) -> str:
    amount = from_minor_units(int(charge.get("amount_refunded") or 0))
    if amount <= order.refunded:
        return "refund already recorded"
    order.refunded = min(amount, order.total)
    order.status = (
        OrderStatus.REFUNDED if order.refunded >= order.total else OrderStatus.PARTLY_REFUNDED
    )
    order.save(update_fields=["refunded", "status"])
    order.log(OrderEvent.Kind.REFUNDED, f"Refunded {order.currency} {order.refunded} in total.")
    from .tasks import send_refund_email

    transaction.on_commit(lambda: send_refund_email.delay(order.pk, str(order.refunded)))
    return "refund recorded"
