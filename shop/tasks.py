"""Background work for orders: email (each sent once), ShipStation, refunds, lapsed holds.

These tasks are queued through the outbox (``core.outbox``), which delivers at least once, so
each is idempotent: an email records when it was sent, under a row lock, in the same transaction
as the send is decided; a ShipStation order is an upsert keyed by our order number; a refund
carries its deterministic idempotency key and its recorded status.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core import email, outbox
from core.email import site_url
from core.money import format_money

from . import inventory, lifecycle, refunds
from .models import FulfilmentStatus, Order, OrderEvent, PaymentStatus
from .payments import PaymentUnavailable
from .shipping import ShippingError, ShippingUnavailable, get_shipping
from .tracking import tracking_url

logger = logging.getLogger(__name__)

SHIPSTATION_MAX_RETRIES = 6


def _send_once(order_pk: int, sent_field: str, template: str, subject: str, to_team: bool) -> bool:
    from artworks.tasks import team_address

    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .filter(pk=order_pk, **{f"{sent_field}__isnull": True})
            .first()
        )
        if order is None:
            return False
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "order_url": site_url(order.signed_url()),
            "admin_url": site_url(f"/admin/shop/order/inspect/{order.pk}/"),
            "tracking_url": tracking_url(order.carrier, order.tracking_number),
        }
        message = EmailMultiAlternatives(
            subject=subject.format(order=order),
            body=render_to_string(f"shop/email/{template}.txt", context),
            to=[team_address()] if to_team else [order.email],
            reply_to=[order.email] if to_team else None,
        )
        message.attach_alternative(
            render_to_string(f"shop/email/{template}.html", context), "text/html"
        )
        what = f"{template.replace('_', ' ').capitalize()} email"
        outcome = _send_and_log(order, message, what, "the team" if to_team else order.email)
        # A skipped email is done too: the address stays undeliverable until an administrator
        # lifts it, and the order's event says it was not sent.
        setattr(order, sent_field, timezone.now())
        order.save(update_fields=[sent_field])
    return outcome.was_sent


def _send_and_log(
    order: Order, message: EmailMessage, what: str, recipient: str, **data
) -> email.Outcome:
    """Send through ``core.email`` (the one rule for whom we may email) and log the outcome."""
    outcome = email.send(message)
    if outcome.was_sent:
        order.log(OrderEvent.Kind.EMAIL_SENT, f"{what} sent to {recipient}.", **data)
    if outcome.skipped:
        order.log(
            OrderEvent.Kind.EMAIL_SKIPPED,
            (
                f"{what} not sent: {', '.join(outcome.skipped)} is marked undeliverable "
                "(SES reported a bounce or a complaint)."
            )[:500],
            skipped=outcome.skipped,
            **data,
        )
    return outcome


@shared_task(
    name="shop.tasks.send_order_confirmation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_order_confirmation(order_pk: int) -> bool:
    return _send_once(
        order_pk,
        "confirmation_sent_at",
        "order_confirmation",
        "Your ArtSpot order {order.number}",
        False,
    )


@shared_task(
    name="shop.tasks.notify_team_of_order",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_team_of_order(order_pk: int) -> bool:
    return _send_once(order_pk, "team_notified_at", "order_team", "New order {order.number}", True)


@shared_task(
    name="shop.tasks.send_shipped_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_shipped_email(order_pk: int) -> bool:
    return _send_once(
        order_pk,
        "shipped_email_sent_at",
        "order_shipped",
        "Your ArtSpot order {order.number} is on its way",
        False,
    )


@shared_task(
    name="shop.tasks.send_refund_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5
)
def send_refund_email(order_pk: int, refunded_total: str) -> None:
    """One email per refunded total: a replayed refund event finds it already sent."""
    order = Order.objects.get(pk=order_pk)
    what = f"Refund email for {format_money(refunded_total, order.currency)} in total"
    marker = f"Refund email sent for {format_money(refunded_total, order.currency)} in total."
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order_pk)
        done = order.events.filter(kind=OrderEvent.Kind.EMAIL_SENT, message=marker)
        skipped = order.events.filter(
            kind=OrderEvent.Kind.EMAIL_SKIPPED, data__refund_email=refunded_total
        )
        if done.exists() or skipped.exists():
            return
        context = {
            "order": order,
            "refunded_total": refunded_total,
            "order_url": site_url(order.signed_url()),
        }
        message = EmailMultiAlternatives(
            subject=f"Your refund for ArtSpot order {order.number}",
            body=render_to_string("shop/email/order_refunded.txt", context),
            to=[order.email],
        )
        message.attach_alternative(
            render_to_string("shop/email/order_refunded.html", context), "text/html"
        )
        outcome = email.send(message)
        if outcome.was_sent:
            order.log(OrderEvent.Kind.EMAIL_SENT, marker)
        else:
            order.log(
                OrderEvent.Kind.EMAIL_SKIPPED,
                f"{what} not sent: {order.email} is marked undeliverable "
                "(SES reported a bounce or a complaint).",
                skipped=outcome.skipped,
                refund_email=refunded_total,
            )


@shared_task(name="shop.tasks.alert_team_payment_mismatch", autoretry_for=(OSError,), max_retries=5)
def alert_team_payment_mismatch(order_pk: int, problem: str) -> None:
    """Tell the team a payment did not match its order (the order stays unpaid)."""
    from artworks.tasks import team_address

    order = Order.objects.get(pk=order_pk)
    marker = f"Team alerted to a payment mismatch: {problem}"[:500]
    admin_url = site_url(f"/admin/shop/order/inspect/{order.pk}/")
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order_pk)
        if order.events.filter(kind=OrderEvent.Kind.EMAIL_SENT, message=marker).exists():
            return
        message = EmailMultiAlternatives(
            subject=f"Payment mismatch on order {order.number}",
            body=(
                f"A payment for order {order.number} did not match it ({problem}), so the order "
                "was not marked paid and its works were not sold.\n\nCheck the payment in Stripe "
                f"and refund it if money was taken:\n{admin_url}\n"
            ),
            to=[team_address()],
        )
        sent = email.send(message).was_sent  # not sent: the team address is undeliverable
        order.log(OrderEvent.Kind.EMAIL_SENT if sent else OrderEvent.Kind.EMAIL_SKIPPED, marker)


@shared_task(
    bind=True,
    name="shop.tasks.send_refund",
    autoretry_for=(PaymentUnavailable,),
    retry_backoff=True,
    max_retries=8,
)
def send_refund(self, refund_pk: int) -> str:
    """Send a recorded refund to the provider with its idempotency key (``shop.refunds``)."""
    return refunds.send_refund(refund_pk)


@shared_task(bind=True, name="shop.tasks.create_shipment", max_retries=SHIPSTATION_MAX_RETRIES)
def create_shipment(self, order_pk: int) -> str:
    """Create (or update) the order in ShipStation; retry with backoff on 429 and 5xx."""
    order = Order.objects.get(pk=order_pk)
    backend = get_shipping()
    if order.shipstation_order_id or backend.name == "manual" or not order.is_paid:
        return order.shipstation_order_id
    try:
        remote_id = backend.create_order(order)
    except ShippingUnavailable as error:
        if self.request.retries >= self.max_retries:
            _record_failure(order, f"ShipStation failed after {self.max_retries} retries: {error}")
            raise
        countdown = error.retry_after or min(600, 2 ** (self.request.retries + 2))
        raise self.retry(exc=error, countdown=countdown) from error
    except ShippingError as error:
        _record_failure(order, str(error))
        raise
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order_pk)
        if remote_id and not locked.shipstation_order_id:
            locked.shipstation_order_id = remote_id
            locked.last_error = ""
            locked.save(update_fields=["shipstation_order_id", "last_error"])
            locked.log(
                OrderEvent.Kind.SHIPMENT_CREATED,
                f"Order created in ShipStation ({remote_id}).",
                shipstation_order_id=remote_id,
            )
    return remote_id


def _record_failure(order: Order, message: str) -> None:
    Order.objects.filter(pk=order.pk).update(last_error=message[:2000])
    order.log(OrderEvent.Kind.ERROR, message[:500])
    logger.error("Order %s: %s", order.number, message)


def mark_shipped(order: Order, carrier: str, tracking_number: str, user=None) -> bool:
    """Record a shipment (or a corrected tracking number) once and email the collector.

    False if this tracking number was already recorded. Raises
    :class:`shop.lifecycle.TransitionNotAllowed` for an order that cannot ship.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if (
            order.fulfilment_status == FulfilmentStatus.SHIPPED
            and order.tracking_number == tracking_number
        ):
            return False
        correction = order.fulfilment_status == FulfilmentStatus.SHIPPED
        lifecycle.move(
            order,
            fulfilment=FulfilmentStatus.SHIPPED,
            kind=OrderEvent.Kind.SHIPPED,
            message=(
                f"{'Tracking updated' if correction else 'Shipped'}: "
                f"{carrier or 'the carrier'}, tracking number {tracking_number}."
            ),
            public=True,
            fields={
                "carrier": carrier,
                "tracking_number": tracking_number,
                "shipped_at": order.shipped_at if correction else timezone.now(),
            },
            by=getattr(user, "pk", None),
        )
        if not correction:
            outbox.enqueue("shop.tasks.send_shipped_email", order.pk)
    return True


@shared_task(
    name="shop.tasks.process_ship_notification",
    autoretry_for=(ShippingUnavailable,),
    retry_backoff=True,
    max_retries=5,
)
def process_ship_notification(resource_url: str) -> int:
    count = 0
    for shipment in get_shipping().shipments_for_notification(resource_url):
        order = Order.objects.filter(number=shipment.order_number).first()
        if order and mark_shipped(order, shipment.carrier, shipment.tracking_number):
            count += 1
    return count


@shared_task(name="shop.tasks.release_lapsed_holds")
def release_lapsed_holds() -> int:
    """Beat: tidy expired holds and close payment sessions whose hold has lapsed."""
    from .payments import PaymentError, get_gateway

    released = inventory.release_expired_holds()
    gateway = get_gateway()
    lapsed = Order.objects.filter(
        payment_status=PaymentStatus.UNPAID,
        fulfilment_status=FulfilmentStatus.UNFULFILLED,
        hold_expires_at__lte=timezone.now() - timedelta(seconds=30),
    )
    for order in lapsed[:200]:
        if order.payment_session_id:
            try:  # before any lock: the provider may be slow
                gateway.expire_checkout_session(order.payment_session_id)
            except PaymentError:
                continue
        if not gateway.reports_expiry or not order.payment_session_id:
            with transaction.atomic():
                locked = Order.objects.select_for_update().get(pk=order.pk)
                if locked.is_pending_payment:
                    inventory.release_holds(locked)
                    lifecycle.move(
                        locked,
                        fulfilment=FulfilmentStatus.CANCELLED,
                        kind=OrderEvent.Kind.CANCELLED,
                        message="Your hold ended before payment; nothing was charged.",
                        public=True,
                    )
    return released
