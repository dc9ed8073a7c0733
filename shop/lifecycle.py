"""An order's lifecycle: the one place its payment and fulfilment statuses change.

Two small state machines, kept apart as Saleor keeps them::

    payment:    unpaid -> paid -> partly refunded -> refunded
                           paid ------------------> refunded
    fulfilment: unfulfilled -> in fulfilment -> shipped -> delivered
                unfulfilled / in fulfilment -> cancelled
                cancelled -> unfulfilled, only with unpaid -> paid (a late payment, works free)
                shipped -> shipped (a corrected tracking number)

Work can only start on a paid order (paid or partly refunded). :func:`move` checks a change is
allowed, saves it and writes the event, in the caller's transaction; the caller locks the order
(``select_for_update``) first. Events marked ``public`` are the collector's; the rest are staff's.
"""

from __future__ import annotations

from .models import FulfilmentStatus, Order, OrderEvent, PaymentStatus

P, F = PaymentStatus, FulfilmentStatus

PAYMENT_MOVES: dict[str, set[str]] = {
    P.UNPAID: {P.PAID},
    P.PAID: {P.PARTLY_REFUNDED, P.REFUNDED},
    P.PARTLY_REFUNDED: {P.PARTLY_REFUNDED, P.REFUNDED},
    P.REFUNDED: set(),
}
FULFILMENT_MOVES: dict[str, set[str]] = {
    F.UNFULFILLED: {F.IN_FULFILMENT, F.SHIPPED, F.CANCELLED},
    F.IN_FULFILMENT: {F.SHIPPED, F.CANCELLED},
    F.SHIPPED: {F.SHIPPED, F.DELIVERED},
    F.DELIVERED: set(),
    F.CANCELLED: set(),
}
# Fulfilment that needs the money to have been taken (and not all given back).
NEEDS_PAYMENT = {F.IN_FULFILMENT, F.SHIPPED, F.DELIVERED}


class TransitionNotAllowed(Exception):
    """The order cannot make this change; the message says why, for the team."""


def can_move(order: Order, *, payment: str | None = None, fulfilment: str | None = None) -> bool:
    try:
        _check(order, payment, fulfilment)
    except TransitionNotAllowed:
        return False
    return True


def _check(order: Order, payment: str | None, fulfilment: str | None) -> None:
    if payment is not None and payment not in PAYMENT_MOVES[order.payment_status]:
        raise TransitionNotAllowed(
            f"A {order.get_payment_status_display().lower()} order cannot become "
            f"{P(payment).label.lower()}."
        )
    if fulfilment is not None:
        # A payment that lands after its unpaid order was cancelled (its session expired) and
        # finds the works still free sells them: the order is one to fulfil again.
        revived = (
            order.fulfilment_status == F.CANCELLED
            and fulfilment == F.UNFULFILLED
            and order.payment_status == P.UNPAID
            and payment == P.PAID
        )
        if not revived and fulfilment not in FULFILMENT_MOVES[order.fulfilment_status]:
            raise TransitionNotAllowed(
                f"An order that is {order.get_fulfilment_status_display().lower()} cannot "
                f"become {F(fulfilment).label.lower()}."
            )
        paid = (payment or order.payment_status) in (P.PAID, P.PARTLY_REFUNDED)
        if fulfilment in NEEDS_PAYMENT and not paid:
            raise TransitionNotAllowed(
                f"Only a paid order can become {F(fulfilment).label.lower()}."
            )


def move(
    order: Order,
    *,
    payment: str | None = None,
    fulfilment: str | None = None,
    kind: str,
    message: str,
    public: bool = False,
    fields: dict | None = None,
    **data,
) -> OrderEvent:
    """Change the order's statuses (and ``fields``), save, and log one event; or refuse.

    ``message`` is what the event says: in plain words for the collector when ``public``.
    Raises :class:`TransitionNotAllowed` and changes nothing if a move is not allowed.
    """
    _check(order, payment, fulfilment)
    changed = list(fields or {})
    for name, value in (fields or {}).items():
        setattr(order, name, value)
    if payment is not None:
        order.payment_status = payment
        changed.append("payment_status")
    if fulfilment is not None:
        order.fulfilment_status = fulfilment
        changed.append("fulfilment_status")
    if changed:
        order.save(update_fields=sorted(set(changed)))
    if payment is not None:
        data["payment_status"] = payment
    if fulfilment is not None:
        data["fulfilment_status"] = fulfilment
    return order.log(kind, message, public=public, **data)
