"""The payment webhook: one handler for Stripe's events and the local test page's.

Each event is recorded once (``PaymentEvent.event_id`` is unique) in the same transaction as its
effects, so a replay changes nothing. Handlers look at the order's state rather than the order
events arrive in: an expiry after a payment is ignored, a payment after an expiry still sells the
units if nobody else took them, and is refunded automatically if somebody did. A payment whose
amount or currency is not the order's is recorded and never marks it paid. What follows (emails,
ShipStation, refunds) goes to the outbox in the same transaction, so a broker outage delays it
and loses nothing; no provider is called while the order's row is locked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import outbox
from core.money import format_money

from . import inventory, lifecycle, refunds
from .models import FulfilmentStatus, Order, OrderEvent, PaymentEvent, PaymentStatus
from .payments import InvalidWebhook, from_minor_units, get_gateway, verify_webhook

logger = logging.getLogger(__name__)

# What follows a payment, each task idempotent (see core.outbox).
AFTER_PAYMENT = (
    "shop.tasks.send_order_confirmation",
    "shop.tasks.notify_team_of_order",
    "shop.tasks.create_shipment",
)

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


def _amount_problem(order: Order, session: dict, tax: Decimal) -> str:
    """Why the paid amount or currency is not the order's ("" when they match)."""
    currency = str(session.get("currency") or "").upper()
    if currency != order.currency:
        return f"currency {currency or 'missing'}, expected {order.currency}"
    try:
        paid = from_minor_units(int(session.get("amount_total")))
    except (TypeError, ValueError):
        return "no amount_total"
    expected = order.subtotal + order.shipping + tax
    if paid != expected:
        return f"{format_money(paid, currency)} paid, {format_money(expected, currency)} expected"
    return ""


def _paid(order: Order, session: dict) -> str:
    if order.payment_status != PaymentStatus.UNPAID:
        return "order already paid"
    tax_minor = (session.get("total_details") or {}).get("amount_tax") or 0
    tax = from_minor_units(int(tax_minor)) if str(tax_minor).isdigit() else Decimal(0)
    if problem := _amount_problem(order, session, tax):
        # Not marked paid: the team looks into it (and refunds by hand if money was taken).
        order.last_error = f"Payment mismatch: {problem}"[:2000]
        order.save(update_fields=["last_error"])
        order.log(
            OrderEvent.Kind.PAYMENT_MISMATCH,
            f"Payment not accepted: {problem}.",
            payment_intent=str(session.get("payment_intent") or ""),
        )
        outbox.enqueue("shop.tasks.alert_team_payment_mismatch", order.pk, problem)
        logger.error("Payment mismatch on %s: %s", order.number, problem)
        return "payment does not match the order; not marked paid"
    order.payment_intent_id = session.get("payment_intent") or ""
    _copy_shipping_details(order, session)
    if tax:  # Stripe Tax (opt-in in Shop settings) adds tax on Stripe's page
        order.tax = tax
        order.total = order.subtotal + order.shipping + order.tax
    order.save()  # the payment's facts; the status moves below write the rest
    if inventory.sell_order_units(order):
        lifecycle.move(
            order,
            payment=PaymentStatus.PAID,
            # Cancelled unpaid (its session expired) and paid after all: fulfil it after all.
            fulfilment=FulfilmentStatus.UNFULFILLED if order.is_cancelled else None,
            kind=OrderEvent.Kind.PAID,
            message=f"Payment received: {format_money(order.total, order.currency)}.",
            public=True,
            fields={"paid_at": timezone.now()},
        )
        for task in AFTER_PAYMENT:
            outbox.enqueue(task, order.pk)
        return "order paid"
    # The hold had lapsed and another collector bought the work meanwhile: give the money back.
    # The order is cancelled now; the refund goes out by a task, and its webhook records it.
    lifecycle.move(
        order,
        payment=PaymentStatus.PAID,
        kind=OrderEvent.Kind.PAID,
        message=f"Payment received: {format_money(order.total, order.currency)}.",
        fields={"paid_at": timezone.now()},
    )
    inventory.release_holds(order)
    too_late = (
        "Your payment arrived after your hold had ended and the work was sold to another "
        "collector meanwhile. We are refunding the full amount."
    )
    if order.is_cancelled:  # already cancelled unpaid (its session expired): just say why
        order.log(OrderEvent.Kind.NOTE, too_late, public=True)
    else:
        lifecycle.move(
            order,
            fulfilment=FulfilmentStatus.CANCELLED,
            kind=OrderEvent.Kind.CANCELLED,
            message=too_late,
            public=True,
        )
    refunds.record_refund(
        order,
        amount=None,
        lines=[],
        restock=False,
        user=None,
        reason="Paid after the hold lapsed; the work was sold to someone else.",
        key=f"order-{order.number}-auto-refund",
    )
    return "paid too late; refund requested"


def _copy_shipping_details(order: Order, session: dict) -> None:
    details = (session.get("collected_information") or {}).get("shipping_details") or session.get(
        "shipping_details"
    )
    if not details or order.shipping_line1:
        return  # the address given at checkout stands
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
    if not order.is_pending_payment:
        return "order is not waiting for payment; nothing to release"
    released = inventory.release_holds(order)
    reason = "expired" if event_type == "checkout.session.expired" else "failed"
    lifecycle.move(
        order,
        fulfilment=FulfilmentStatus.CANCELLED,
        kind=OrderEvent.Kind.CANCELLED,
        message=f"Payment {reason}; the order was cancelled and nothing was charged.",
        public=True,
        released=released,
    )
    return f"payment {reason}; holds released"


def _refunded(order: Order, charge: dict) -> str:
    amount = from_minor_units(int(charge.get("amount_refunded") or 0))
    if amount <= order.refunded:
        return "refund already recorded"
    refunded = min(amount, order.total)
    fully = refunded >= order.total
    lifecycle.move(
        order,
        payment=PaymentStatus.REFUNDED if fully else PaymentStatus.PARTLY_REFUNDED,
        kind=OrderEvent.Kind.REFUNDED,
        message=f"Refunded {format_money(refunded - order.refunded, order.currency)}"
        + (
            " (the full amount)."
            if fully
            else f"; {format_money(refunded, order.currency)} in total."
        ),
        public=True,
        fields={"refunded": refunded},
    )
    outbox.enqueue("shop.tasks.send_refund_email", order.pk, str(refunded))
    return "refund recorded"
