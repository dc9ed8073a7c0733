"""Orders, their lines (snapshots at purchase), their append-only event log and payment events."""

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


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending", "Pending payment"
    PAID = "paid", "Paid"
    IN_FULFILMENT = "fulfilment", "In fulfilment"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"
    PARTLY_REFUNDED = "partly-refunded", "Partly refunded"


PAID_STATUSES = {
    OrderStatus.PAID,
    OrderStatus.IN_FULFILMENT,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.PARTLY_REFUNDED,
}


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
    status = models.CharField(
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_PAYMENT,
        db_index=True,
    )
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
    shipping_state = models.CharField(max_length=100, blank=True)

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
        return self.status in PAID_STATUSES

    def recalculate(self) -> None:
        self.subtotal = sum((line.unit_price for line in self.lines.all()), Decimal(0))
        self.total = self.subtotal + self.shipping + self.tax

    def log(self, kind: str, message: str, **data) -> OrderEvent:
        return OrderEvent.objects.create(order=self, kind=kind, message=message, data=data)

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
        EMAIL_SENT = "email-sent", "Email sent"
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
