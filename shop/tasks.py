"""Background work for orders: email (each sent once), ShipStation, and tidying lapsed holds.

Each email records when it was sent, under a row lock, in the same transaction as the send is
decided, so a retried or redelivered task never sends it twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from . import inventory
from .models import Order, OrderEvent, OrderStatus
from .shipping import ShippingError, ShippingUnavailable, get_shipping

logger = logging.getLogger(__name__)

SHIPSTATION_MAX_RETRIES = 6


def after_payment(order_pk: int) -> None:
    """Everything that follows a payment, queued after the payment's transaction commits."""
    send_order_confirmation.delay(order_pk)
    notify_team_of_order.delay(order_pk)
    create_shipment.delay(order_pk)


def _absolute(path: str) -> str:
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}{path}"


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
            "order_url": _absolute(order.signed_url()),
            "admin_url": _absolute(f"/admin/shop/order/inspect/{order.pk}/"),
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
        message.send()
        setattr(order, sent_field, timezone.now())
        order.save(update_fields=[sent_field])
        recipient = "the team" if to_team else order.email
        order.log(
            OrderEvent.Kind.EMAIL_SENT,
            f"{template.replace('_', ' ').capitalize()} email sent to {recipient}.",
        )
    return True


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
    marker = f"Refund email sent for {order.currency} {refunded_total}."
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order_pk)
        if order.events.filter(kind=OrderEvent.Kind.EMAIL_SENT, message=marker).exists():
            return
        context = {
            "order": order,
            "refunded_total": refunded_total,
            "order_url": _absolute(order.signed_url()),
        }
        message = EmailMultiAlternatives(
            subject=f"Your refund for ArtSpot order {order.number}",
            body=render_to_string("shop/email/order_refunded.txt", context),
            to=[order.email],
        )
        message.attach_alternative(
            render_to_string("shop/email/order_refunded.html", context), "text/html"
        )
        message.send()
        order.log(OrderEvent.Kind.EMAIL_SENT, marker)


@shared_task(bind=True, name="shop.tasks.create_shipment", max_retries=SHIPSTATION_MAX_RETRIES)
def create_shipment(self, order_pk: int) -> str:
    """Create (or update) the order in ShipStation; retry with backoff on 429 and 5xx."""
    order = Order.objects.get(pk=order_pk)
    backend = get_shipping()
    if order.shipstation_order_id and backend.name != "manual":
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
    if remote_id:
        Order.objects.filter(pk=order_pk).update(shipstation_order_id=remote_id, last_error="")
        order.log(
            OrderEvent.Kind.SHIPMENT_CREATED,
            f"Order created in ShipStation ({remote_id}).",
            shipstation_order_id=remote_id,
        )
    return remote_id


def _record_failure(order: Order, message: str) -> None:
    Order.objects.filter(pk=order.pk).update(last_error=message[:2000])
    order.log(OrderEvent.Kind.ERROR, message[:500])
    logger.error("Order %s: %s", order.number, message)


def mark_shipped(order: Order, carrier: str, tracking_number: str) -> bool:
    """Record a shipment once and email the collector. False if it was already recorded."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == OrderStatus.SHIPPED and order.tracking_number == tracking_number:
            return False
        order.status = OrderStatus.SHIPPED
        order.carrier = carrier
        order.tracking_number = tracking_number
        order.shipped_at = timezone.now()
        order.save(update_fields=["status", "carrier", "tracking_number", "shipped_at"])
        order.log(
            OrderEvent.Kind.SHIPPED,
            f"Shipped with {carrier or 'the carrier'}, tracking {tracking_number}.",
            carrier=carrier,
            tracking_number=tracking_number,
        )
        transaction.on_commit(lambda: send_shipped_email.delay(order.pk))
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
        status=OrderStatus.PENDING_PAYMENT,
        hold_expires_at__lte=timezone.now() - timedelta(seconds=30),
    )
    for order in lapsed[:200]:
        if order.payment_session_id:
            try:
                gateway.expire_checkout_session(order.payment_session_id)
            except PaymentError:
                continue
        if not gateway.reports_expiry or not order.payment_session_id:
            with transaction.atomic():
                locked = Order.objects.select_for_update().get(pk=order.pk)
                if locked.status == OrderStatus.PENDING_PAYMENT:
                    inventory.release_holds(locked)
                    locked.status = OrderStatus.CANCELLED
                    locked.save(update_fields=["status"])
                    locked.log(OrderEvent.Kind.CANCELLED, "The hold lapsed before payment.")
    return released
