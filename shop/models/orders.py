"""Orders, their lines (snapshots at purchase), holds, refunds, the event log and payment events.

An order has two statuses kept apart, as Saleor keeps them: what happened to the money
(``payment_status``) and what happened to the parcel (``fulfilment_status``). Both change only
through ``shop.lifecycle``, which checks each move and writes the event.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField

from .settings import ShippingZone

ORDER_NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I
ACCESS_SALT = "shop.order-access"


class PaymentStatus(models.TextChoices):
    UNPAID = "unpaid", "Unpaid"
    PAID = "paid", "Paid"
    PARTLY_REFUNDED = "partly-refunded", "Partly refunded"
    REFUNDED = "refunded", "Refunded"


class FulfilmentStatus(models.TextChoices):
    UNFULFILLED = "unfulfilled", "Unfulfilled"
    IN_FULFILMENT = "fulfilment", "In fulfilment"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"


# Money was taken (some may have been given back since).
PAID_STATUSES = {PaymentStatus.PAID, PaymentStatus.PARTLY_REFUNDED, PaymentStatus.REFUNDED}


def new_order_number() -> str:
    """Readable and hard to guess: AS-2611-7KQ4MX (year, month, six random characters)."""
    stamp = timezone.now().strftime("%y%m")
    code = "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))
    return f"AS-{stamp}-{code}"


class Order(models.Model):
    number = models.CharField(max_length=20, unique=True, default=new_order_number, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    email = models.EmailField()
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.UNPAID, db_index=True
    )
    fulfilment_status = models.CharField(
        max_length=20,
        choices=FulfilmentStatus.choices,
        default=FulfilmentStatus.UNFULFILLED,
        db_index=True,
    )
    # A hash of the checkout's session, so one visitor's holds can be counted (see shop.checkout).
    session_key = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    shipping = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))
    tax = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal(0))
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))
    refunded = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal(0))

    shipping_zone = models.CharField(max_length=10, choices=ShippingZone.choices)
    shipping_country = CountryField()
    shipping_name = models.CharField(max_length=200, blank=True)
    shipping_line1 = models.CharField(max_length=200, blank=True)
    shipping_line2 = models.CharField(max_length=200, blank=True)
    shipping_city = models.CharField(max_length=100, blank=True)
    shipping_postal_code = models.CharField(max_length=20, blank=True)
    shipping_state = models.CharField("region", max_length=100, blank=True)
    shipping_phone = models.CharField("phone", max_length=32, blank=True)

    hold_expires_at = models.DateTimeField(null=True, blank=True)
    payment_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_url = models.URLField(max_length=1000, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)

    shipstation_order_id = models.CharField(max_length=50, blank=True)
    carrier = models.CharField(max_length=50, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)

    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    team_notified_at = models.DateTimeField(null=True, blank=True)
    shipped_email_sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, help_text="The last background failure, if any.")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="order_total_not_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded__lte=models.F("total")),
                name="order_refund_within_total",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("shop:order_detail", args=[self.number])

    @property
    def is_paid(self) -> bool:
        """Money was taken and not all of it given back."""
        return self.payment_status in (PaymentStatus.PAID, PaymentStatus.PARTLY_REFUNDED)

    @property
    def is_pending_payment(self) -> bool:
        return (
            self.payment_status == PaymentStatus.UNPAID
            and self.fulfilment_status != FulfilmentStatus.CANCELLED
        )

    @property
    def is_cancelled(self) -> bool:
        return self.fulfilment_status == FulfilmentStatus.CANCELLED

    @property
    def address_lines(self) -> list[str]:
        """The shipping address as the destination country writes it, one line each."""
        from shop.addresses import format_address_lines

        return format_address_lines(
            name=self.shipping_name,
            line1=self.shipping_line1,
            line2=self.shipping_line2,
            city=self.shipping_city,
            postal_code=self.shipping_postal_code,
            region=self.shipping_state,
            country=str(self.shipping_country),
        )

    @property
    def status_label(self) -> str:
        """Both statuses in a few words, for lists and the collector's page."""
        if self.is_pending_payment:
            return "Awaiting payment"
        if self.payment_status == PaymentStatus.UNPAID:
            return "Cancelled"
        if self.fulfilment_status == FulfilmentStatus.UNFULFILLED:
            return self.get_payment_status_display()
        if self.payment_status == PaymentStatus.PAID:
            return self.get_fulfilment_status_display()
        return (
            f"{self.get_fulfilment_status_display()}, {self.get_payment_status_display().lower()}"
        )

    def recalculate(self) -> None:
        self.subtotal = sum((line.unit_price for line in self.lines.all()), Decimal(0))
        self.total = self.subtotal + self.shipping + self.tax

    def log(self, kind: str, message: str, *, public: bool = False, **data) -> OrderEvent:
        """Append an event; ``public`` ones are shown to the collector, in plain words."""
        return OrderEvent.objects.create(
            order=self, kind=kind, message=message, public=public, data=data
        )

    # --- Access for guests: a signed link in their email ----------------------------------

    def access_token(self) -> str:
        return signing.Signer(salt=ACCESS_SALT).sign(self.number).split(":", 1)[1]

    def token_is_valid(self, token: str) -> bool:
        try:
            return signing.Signer(salt=ACCESS_SALT).unsign(f"{self.number}:{token}") == self.number
        except signing.BadSignature:
            return False

    def signed_url(self) -> str:
        return f"{self.get_absolute_url()}?token={self.access_token()}"


class OrderLine(models.Model):
    """One unit sold: the work itself, or one numbered copy of an edition, frozen at purchase."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    artwork = models.ForeignKey(
        "artworks.Artwork", null=True, on_delete=models.SET_NULL, related_name="order_lines"
    )
    unit = models.ForeignKey(
        "artworks.ArtworkUnit", null=True, on_delete=models.SET_NULL, related_name="order_lines"
    )
    title = models.CharField(max_length=255)
    artist_name = models.CharField(max_length=255)
    edition_number = models.PositiveSmallIntegerField(null=True, blank=True)
    edition_size = models.PositiveSmallIntegerField(null=True, blank=True)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    refund = models.ForeignKey(
        "shop.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.title} ({self.edition_label})" if self.edition_number else self.title

    @property
    def edition_label(self) -> str:
        return f"{self.edition_number}/{self.edition_size}" if self.edition_number else ""


class OrderEvent(models.Model):
    """Append-only log: rows are written once and never changed or removed."""

    class Kind(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        PAYMENT_MISMATCH = "payment-mismatch", "Payment mismatch"
        FULFILMENT = "fulfilment", "In fulfilment"
        DELIVERED = "delivered", "Delivered"
        EMAIL_SENT = "email-sent", "Email sent"
        EMAIL_SKIPPED = "email-skipped", "Email not sent"
        SHIPMENT_CREATED = "shipment-created", "Shipment created"
        SHIPPED = "shipped", "Shipped"
        REFUNDED = "refunded", "Refunded"
        CANCELLED = "cancelled", "Cancelled"
        STATUS = "status", "Status changed"
        ERROR = "error", "Error"
        NOTE = "note", "Note"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    public = models.BooleanField(
        default=False, help_text="Shown to the collector on their order page."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order.number}: {self.message}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Order events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Order events are append-only.")


class PaymentEvent(models.Model):
    """Each payment-provider event, recorded once, in the same transaction as its effects."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    order = models.ForeignKey(
        Order, null=True, on_delete=models.SET_NULL, related_name="payment_events"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Hold(models.Model):
    """A unit kept for one order's checkout until ``held_until`` (Saleor's reservation).

    At most one row per unit (a hold that has lapsed is replaced). A lapsed hold counts as free
    at once; ``shop.inventory`` writes these rows only under the unit's row lock, and deletes the
    unit's hold in the same transaction that sells it.
    """

    unit = models.OneToOneField(
        "artworks.ArtworkUnit", on_delete=models.CASCADE, related_name="hold"
    )
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    held_until = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["held_until"]

    def __str__(self) -> str:
        return f"{self.unit} for {self.order} until {self.held_until:%H:%M:%S}"


class Refund(models.Model):
    """A refund the team decided on: recorded first, then sent to the provider by a task.

    The idempotency key is deterministic (``order-<number>-refund-<n>``), so a retried task cannot
    refund twice; ``restock`` says whether the refunded lines' units come back on sale, which
    happens once, when the provider has accepted the refund (``restocked_at``).
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        SENT = "sent", "Accepted by the provider"
        FAILED = "failed", "Refused by the provider"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    idempotency_key = models.CharField(max_length=80, unique=True)
    restock = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    provider_refund_id = models.CharField(max_length=255, blank=True)
    error = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    restocked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.idempotency_key}: {self.currency} {self.amount}"
