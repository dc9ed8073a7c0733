"""Refunds and cancellations: recorded in a transaction, sent to the provider by a task.

A refund is a :class:`shop.models.Refund` row: the amount, the lines it covers, whether their
works come back on sale, and a deterministic idempotency key (``order-<number>-refund-<n>``, ``n``
counting the order's refunds so far; ``order-<number>-auto-refund`` for a late payment). The row
and an outbox message (``shop.tasks.send_refund``) are written in one transaction under the
order's row lock; the task calls the provider with no lock held. A retried task sends the same key,
so the provider refunds once; the works come back on sale once, when the provider has accepted
the refund (``Refund.restocked_at``). ``Order.refunded`` and the payment status move when the
provider's ``charge.refunded`` event arrives (``shop.webhooks``).

A double-submitted admin form cannot refund twice: the form carries the number of refunds it saw,
and a form that is out of date is refused (:class:`DuplicateRefund`); the key's uniqueness is the
database's guarantee behind it.

Cancelling (:func:`cancel_order`): an order waiting for payment has its payment session expired
(before any lock is taken), its holds released and becomes cancelled; a paid order that has not
shipped becomes cancelled at once (so nobody ships it) and all that is left of its payment is
refunded, its works back on sale unless the team says otherwise. Shipped orders are refunded,
not cancelled.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from core import outbox
from core.money import format_money

from . import inventory, lifecycle
from .models import FulfilmentStatus, Order, OrderEvent, OrderLine, Refund
from .payments import PaymentError, get_gateway

CENT = Decimal("0.01")


class RefundError(Exception):
    """The refund (or cancellation) cannot be made; the message is for the team."""


class DuplicateRefund(RefundError):
    """The form was sent again after its refund had already been requested."""


def refund_requests(order: Order) -> int:
    """How many refunds have been recorded for this order (the next key's number)."""
    return order.refunds.count()


def refund_idempotency_key(order: Order, sequence: int) -> str:
    return f"order-{order.number}-refund-{sequence}"


def refundable_amount(order: Order) -> Decimal:
    """What is left to refund: the total less every refund not refused by the provider."""
    if not order.payment_intent_id:
        return Decimal(0)
    committed = order.refunds.exclude(status=Refund.Status.FAILED).aggregate(s=Sum("amount"))["s"]
    return max(order.total - (committed or Decimal(0)), Decimal(0))


def refundable_lines(order: Order) -> list[OrderLine]:
    """Lines not covered by a refund that is requested or done."""
    return [
        line
        for line in order.lines.select_related("refund")
        if line.refund is None or line.refund.status == Refund.Status.FAILED
    ]


def can_cancel(order: Order) -> bool:
    if order.is_pending_payment:
        return True
    return order.is_paid and order.fulfilment_status in (
        FulfilmentStatus.UNFULFILLED,
        FulfilmentStatus.IN_FULFILMENT,
    )


def staff_name(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


def clean_amount(value, remaining: Decimal, currency: str = "GBP") -> Decimal:
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
        raise RefundError(f"At most {format_money(remaining, currency)} is left to refund.")
    return amount.quantize(CENT)


def record_refund(
    order: Order,
    *,
    amount: Decimal | None,
    lines: Iterable[OrderLine],
    restock: bool,
    user,
    reason: str = "",
    key: str | None = None,
) -> Refund:
    """Record a refund of ``amount`` (``None``: all that is left) and queue it for the provider.

    ``order`` must be locked by the caller's transaction. Raises :class:`RefundError` for an
    amount that is not refundable.
    """
    remaining = refundable_amount(order)
    if remaining <= 0:
        raise RefundError("There is nothing left to refund on this order.")
    amount = remaining if amount is None else clean_amount(amount, remaining, order.currency)
    lines = list(lines)
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                order=order,
                amount=amount,
                currency=order.currency,
                idempotency_key=key or refund_idempotency_key(order, refund_requests(order)),
                restock=restock and bool(lines),
                reason=reason[:200],
                requested_by=user if getattr(user, "pk", None) else None,
            )
    except IntegrityError as error:
        raise DuplicateRefund(
            "This refund was already requested (the form was sent twice, or someone else "
            "refunded meanwhile). Check the order's history before refunding again."
        ) from error
    OrderLine.objects.filter(pk__in=[line.pk for line in lines]).update(refund=refund)
    covered = ", ".join(str(line) for line in lines)
    order.log(
        OrderEvent.Kind.NOTE,
        f"Refund of {format_money(amount, order.currency)} requested by {staff_name(user)}"
        + (f" for {covered}" if covered else "")
        + ("; the works return to sale once it is accepted." if refund.restock else ".")
        + (f" Reason: {reason}" if reason else ""),
        refund_key=refund.idempotency_key,
        refund=refund.pk,
    )
    outbox.enqueue("shop.tasks.send_refund", refund.pk)
    return refund


def request_refund(
    order: Order,
    *,
    lines: Iterable[OrderLine] = (),
    amount: Decimal | None = None,
    restock: bool = False,
    user=None,
    reason: str = "",
    sequence: int | None = None,
) -> Refund:
    """The team's refund: of the chosen lines (their prices) or of ``amount``.

    ``sequence`` is the number of refunds the caller saw (the admin form sends it back); if
    another has been recorded since, :class:`DuplicateRefund` is raised and nothing is recorded.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if sequence is not None and sequence != refund_requests(locked):
            raise DuplicateRefund(
                "This refund was already requested (the form was sent twice, or someone else "
                "refunded meanwhile). Check the order's history before refunding again."
            )
        if not locked.is_paid:
            raise RefundError("Only a paid order can be refunded.")
        open_lines = {line.pk: line for line in refundable_lines(locked)}
        lines = list(lines)
        chosen = [open_lines[line.pk] for line in lines if line.pk in open_lines]
        if len(chosen) != len(lines):
            raise RefundError("A chosen work has already been refunded.")
        if amount is None:
            if not chosen:
                raise RefundError("Choose the works to refund, or enter an amount.")
            amount = sum((line.unit_price for line in chosen), Decimal(0))
        return record_refund(
            locked, amount=amount, lines=chosen, restock=restock, user=user, reason=reason
        )


def send_refund(refund_pk: int) -> str:
    """Send a recorded refund to the provider (no lock held during the call); idempotent.

    Returns what happened. A refusal marks the refund failed (its lines can be refunded again);
    :class:`shop.payments.PaymentUnavailable` is raised for the task to retry with the same key.
    """
    refund = Refund.objects.select_related("order").get(pk=refund_pk)
    if refund.status != Refund.Status.REQUESTED:
        return f"already {refund.status}"
    try:
        provider_id = get_gateway().refund(
            refund.order, refund.amount, idempotency_key=refund.idempotency_key
        )
    except PaymentError as error:
        if getattr(error, "retryable", False):
            raise
        with transaction.atomic():
            locked = Refund.objects.select_for_update().get(pk=refund_pk)
            if locked.status != Refund.Status.REQUESTED:
                return f"already {locked.status}"
            locked.status = Refund.Status.FAILED
            locked.error = str(error)[:500]
            locked.save(update_fields=["status", "error"])
            locked.lines.update(refund=None)
            refund.order.log(
                OrderEvent.Kind.ERROR,
                f"Refund of {format_money(locked.amount, locked.currency)} refused: {error}"[:500],
                refund_key=locked.idempotency_key,
            )
        return "refused"
    with transaction.atomic():
        locked = Refund.objects.select_for_update().get(pk=refund_pk)
        if locked.status == Refund.Status.REQUESTED:
            locked.status = Refund.Status.SENT
            locked.provider_refund_id = provider_id
            locked.sent_at = timezone.now()
            locked.save(update_fields=["status", "provider_refund_id", "sent_at"])
            refund.order.log(
                OrderEvent.Kind.NOTE,
                f"Refund of {format_money(locked.amount, locked.currency)} accepted by the "
                f"payment provider ({provider_id}).",
                refund_key=locked.idempotency_key,
                refund_id=provider_id,
            )
        restock_once(locked)
    return "sent"


def restock_once(refund: Refund) -> int:
    """Return a restocking refund's units to sale, once (``refund`` locked by the caller)."""
    if not refund.restock or refund.restocked_at is not None:
        return 0
    returned = inventory.return_to_sale(refund.lines.all())
    refund.restocked_at = timezone.now()
    refund.save(update_fields=["restocked_at"])
    refund.order.log(
        OrderEvent.Kind.NOTE, f"{returned} unit(s) back on sale after the refund.", refund=refund.pk
    )
    return returned


def cancel_order(order: Order, user, *, restock: bool = True) -> str:
    """Cancel an order that has not shipped (see the module docstring); a message for the team."""
    who = staff_name(user)
    if order.is_pending_payment and order.payment_session_id:
        # Before any lock: the provider call may be slow, and a payment may still complete.
        try:
            get_gateway().expire_checkout_session(order.payment_session_id)
        except PaymentError as error:
            raise RefundError(
                f"{error} The order stays open so that a payment is not lost; try again."
            ) from error
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if not can_cancel(locked):
            raise RefundError(
                f"An order that is {locked.status_label.lower()} cannot be cancelled"
                + ("; refund it instead." if locked.shipped_at else ".")
            )
        if locked.is_pending_payment:
            released = inventory.release_holds(locked)
            lifecycle.move(
                locked,
                fulfilment=FulfilmentStatus.CANCELLED,
                kind=OrderEvent.Kind.CANCELLED,
                message="Your order was cancelled before payment; nothing was charged.",
                public=True,
                by=getattr(user, "pk", None),
                released=released,
            )
            return f"Order {locked.number} cancelled; {released} held unit(s) released."
        remaining = refundable_amount(locked)
        lifecycle.move(
            locked,
            fulfilment=FulfilmentStatus.CANCELLED,
            kind=OrderEvent.Kind.CANCELLED,
            message="Your order was cancelled"
            + (
                f"; {format_money(remaining, locked.currency)} will be refunded."
                if remaining
                else "."
            ),
            public=True,
            by=getattr(user, "pk", None),
        )
        if remaining > 0:
            record_refund(
                locked,
                amount=None,
                lines=refundable_lines(locked),
                restock=restock,
                user=user,
                reason=f"Order cancelled by {who}.",
            )
    message = f"Order {locked.number} cancelled; "
    message += (
        f"a refund of {format_money(remaining, locked.currency)} is on its way to the provider."
        if remaining > 0
        else "no refund was needed."
    )
    if restock and remaining > 0:
        message += " Its works return to sale once the refund is accepted."
    return message
