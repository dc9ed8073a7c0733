"""Refunds and cancellations asked for by the team in the admin.

A refund goes to the payment gateway (``get_gateway().refund``) with a deterministic idempotency
key, ``order-<pk>-refund-<n>``, where ``n`` counts the refund requests already recorded on the
order (its events whose data carries ``refund_key``). Every attempt, successful or not, records
one such event, so each attempt gets its own key and a key is never reused for other parameters.

A double-submitted admin form cannot refund twice: the form carries the ``n`` it was rendered
with, the order row is locked while the request is checked, sent and recorded, and a form whose
``n`` is out of date is refused before anything is sent (:class:`DuplicateRefund`). Should the
process die after Stripe refunded but before the event was written, the same form sent again uses
the same key and Stripe answers with the refund it already made.

Nothing here changes ``Order.refunded``: the provider's ``charge.refunded`` event does that, in
``shop.webhooks`` (it arrives at once from the local gateway, later from Stripe), and queues the
collector's refund email.

Cancelling (:func:`cancel_order`):

* an order waiting for payment: its payment session is expired (so it can no longer be paid),
  its held units are released, and it becomes *Cancelled*;
* a paid order that has not shipped: it becomes *Cancelled* at once, so nobody ships it, and all
  that is left of its payment is refunded; when the provider confirms the refund the webhook moves
  it on to *Refunded*. Its units go back on sale unless the team unticks that (a damaged work, say,
  is better withheld in Inventory). If the refund is refused, nothing changes but the log.

Shipped or delivered orders are not cancelled: refund them, in full or in part, instead.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from artworks.models import ArtworkUnit

from . import inventory
from .models import Order, OrderEvent, OrderStatus
from .payments import PaymentError, get_gateway

CENT = Decimal("0.01")
REFUND_KEY = "refund_key"

# Paid, not yet shipped: these can be cancelled (with a full refund of what remains).
CANCELLABLE_PAID = {OrderStatus.PAID, OrderStatus.IN_FULFILMENT, OrderStatus.PARTLY_REFUNDED}


class RefundError(Exception):
    """The refund (or cancellation) cannot be made; the message is for the team."""


class DuplicateRefund(RefundError):
    """The form was sent again after its refund had already been requested."""


def refund_requests(order: Order) -> int:
    """How many refunds have been requested for this order (the next key's number)."""
    return order.events.filter(data__has_key=REFUND_KEY).count()


def refund_idempotency_key(order: Order, sequence: int) -> str:
    return f"order-{order.number}-refund-{sequence}"


def refundable_amount(order: Order) -> Decimal:
    """What is left to refund: nothing unless the order was paid through the gateway."""
    if not order.payment_intent_id:
        return Decimal(0)
    return max(order.total - order.refunded, Decimal(0))


def can_cancel(order: Order) -> bool:
    if order.status == OrderStatus.PENDING_PAYMENT:
        return True
    return order.status in CANCELLABLE_PAID and order.shipped_at is None


def staff_name(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def clean_amount(value, remaining: Decimal) -> Decimal:
    """``value`` as a refundable amount of money, or :class:`RefundError` saying why not."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise RefundError("Enter the amount as a number, such as 120.00.") from error
    if not amount.is_finite():
        raise RefundError("Enter the amount as a number, such as 120.00.")
    if amount != amount.quantize(CENT):
        raise RefundError("Enter the amount in whole pence or cents (two decimal places).")
    if amount <= 0:
        raise RefundError("The amount must be more than zero.")
    if amount > remaining:
        raise RefundError(f"At most {remaining} is left to refund on this order.")
    return amount.quantize(CENT)


def _refund_locked(
    order: Order, amount: Decimal | None, user, sequence: int | None
) -> tuple[str | None, PaymentError | None]:
    """Check, send and record one refund. ``order`` must be locked by the caller's transaction.

    Raises :class:`RefundError` before anything is sent; a refusal by the provider is recorded
    and returned (so the caller can commit the record) rather than raised.
    """
    count = refund_requests(order)
    if sequence is not None and sequence != count:
        raise DuplicateRefund(
            "This refund was already requested (the form was sent twice, or someone else "
            "refunded meanwhile). Check the order's history before refunding again."
        )
    remaining = refundable_amount(order)
    if remaining <= 0:
        raise RefundError("There is nothing left to refund on this order.")
    amount = remaining if amount is None else clean_amount(amount, remaining)
    key = refund_idempotency_key(order, count)
    data = {
        REFUND_KEY: key,
        "amount": str(amount),
        "currency": order.currency,
        "by": getattr(user, "pk", None),
    }
    who = staff_name(user)
    try:
        refund_id = get_gateway().refund(order, amount, idempotency_key=key)
    except PaymentError as error:
        # Recorded all the same: the next attempt gets the next key (Stripe keeps the answer
        # it gave for a key, errors included, so retrying with this one would only repeat it).
        order.log(
            OrderEvent.Kind.ERROR,
            f"Refund of {order.currency} {amount} by {who} failed: {error}"[:500],
            **data,
        )
        return None, error
    order.log(
        OrderEvent.Kind.NOTE,
        f"Refund of {order.currency} {amount} requested by {who} (refund {refund_id}).",
        refund_id=refund_id,
        **data,
    )
    return refund_id, None


def request_refund(
    order: Order, amount: Decimal | None, user, *, sequence: int | None = None
) -> str:
    """Refund ``amount`` (``None``: all that is left) of a paid order; the provider's refund id.

    ``sequence`` is the number of refund requests the caller saw (the admin form sends it back);
    if another has been recorded since, :class:`DuplicateRefund` is raised and nothing is sent.
    Raises :class:`RefundError` for an amount that is not refundable or a provider's refusal.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        refund_id, failure = _refund_locked(locked, amount, user, sequence)
    if failure is not None:
        raise RefundError(str(failure)) from failure
    return refund_id


def _return_units_to_sale(order: Order) -> int:
    """Un-sell the order's units (locked by primary key, as the shop always locks them)."""
    unit_ids = [line.unit_id for line in order.lines.all() if line.unit_id]
    units = list(
        ArtworkUnit.objects.select_for_update()
        .filter(pk__in=unit_ids, sold_at__isnull=False)
        .order_by("pk")
    )
    for unit in units:
        unit.sold_at = None
    ArtworkUnit.objects.bulk_update(units, ["sold_at"])
    return len(units)


def cancel_order(order: Order, user, *, restock: bool = True) -> str:
    """Cancel an order that has not shipped (see the module docstring); a message for the team."""
    who = staff_name(user)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if not can_cancel(locked):
            raise RefundError(
                f"A {locked.get_status_display().lower()} order cannot be cancelled"
                + ("; refund it instead." if locked.shipped_at else ".")
            )
        if locked.status == OrderStatus.PENDING_PAYMENT:
            if locked.payment_session_id:
                try:
                    get_gateway().expire_checkout_session(locked.payment_session_id)
                except PaymentError as error:
                    raise RefundError(
                        f"{error} The order stays open so that a payment is not lost; try again."
                    ) from error
            released = inventory.release_holds(locked)
            locked.status = OrderStatus.CANCELLED
            locked.save(update_fields=["status"])
            locked.log(
                OrderEvent.Kind.CANCELLED,
                f"Cancelled by {who} before payment; {released} unit(s) released.",
                by=getattr(user, "pk", None),
            )
            return f"Order {locked.number} cancelled; {released} held unit(s) released."

        previous = locked.status
        remaining = refundable_amount(locked)
        # Cancelled first, so that the refund's webhook (at once from the local gateway) moves
        # the order on to Refunded rather than being overwritten afterwards.
        locked.status = OrderStatus.CANCELLED
        locked.save(update_fields=["status"])
        failure = None
        if remaining > 0:
            _, failure = _refund_locked(locked, None, user, None)
        if failure is not None:
            Order.objects.filter(pk=locked.pk).update(status=previous)
        else:
            returned = _return_units_to_sale(locked) if restock else 0
            locked.log(
                OrderEvent.Kind.CANCELLED,
                f"Cancelled by {who} before shipping; {locked.currency} {remaining} refunded"
                + (f"; {returned} unit(s) back on sale." if restock else "; units kept as sold."),
                by=getattr(user, "pk", None),
            )
    if failure is not None:
        raise RefundError(f"The order was not cancelled: {failure}") from failure
    message = f"Order {locked.number} cancelled; a refund of {locked.currency} {remaining} "
    message += "was requested." if remaining > 0 else "was not needed."
    if restock:
        message += " Its works are back on sale."
    return message
