"""A collector's account: the profile (name, phone) and saved shipping addresses.

The account itself is Django's ``User`` with its email addresses kept by django-allauth
(``allauth.account.EmailAddress``: verified or not, one primary). A collector is a user who is
not staff; ``Collector`` is a proxy for the admin's read-only list for shop managers.
Addresses are checked exactly as checkout checks them (``shop.forms.ShippingAddressForm``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django_countries.fields import CountryField


class CollectorQuerySet(models.QuerySet):
    def collectors(self) -> CollectorQuerySet:
        return self.filter(is_staff=False, is_superuser=False)


class CollectorManager(models.Manager.from_queryset(CollectorQuerySet)):
    def get_queryset(self) -> CollectorQuerySet:
        return super().get_queryset().filter(is_staff=False, is_superuser=False)


class Collector(get_user_model()):
    """Accounts of the public (not staff), as shop managers see them in the admin."""

    objects = CollectorManager()

    class Meta:
        proxy = True
        verbose_name = "collector"
        verbose_name_plural = "collectors"

    @property
    def profile_name(self) -> str:
        profile = getattr(self, "collector_profile", None)
        return profile.name if profile else ""


class CollectorProfile(models.Model):
    """What a collector tells us about themselves, beyond the email they sign in with."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collector_profile"
    )
    name = models.CharField("full name", max_length=200, blank=True)
    phone = models.CharField(
        max_length=32, blank=True, help_text="E.164, checked as checkout checks it."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name or str(self.user)


class SavedAddress(models.Model):
    """A shipping address kept for the next checkout, normalised for its country."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_addresses"
    )
    country = CountryField()
    name = models.CharField(max_length=200)
    line1 = models.CharField(max_length=200)
    line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=32)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # A collector keeps a handful of addresses, not a directory.
    MAX_PER_COLLECTOR = 20

    class Meta:
        ordering = ["-is_default", "-created_at", "-pk"]
        verbose_name_plural = "saved addresses"
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(is_default=True),
                name="one_default_address_per_collector",
            )
        ]

    def __str__(self) -> str:
        return ", ".join(part for part in (self.name, self.line1, self.city) if part)

    @property
    def lines(self) -> list[str]:
        from shop.addresses import format_address_lines

        return format_address_lines(
            name=self.name,
            line1=self.line1,
            line2=self.line2,
            city=self.city,
            postal_code=self.postal_code,
            region=self.region,
            country=str(self.country),
        )

    def as_export(self) -> dict:
        return {
            "name": self.name,
            "line1": self.line1,
            "line2": self.line2,
            "city": self.city,
            "region": self.region,
            "postal_code": self.postal_code,
            "country": str(self.country),
            "phone": self.phone,
            "is_default": self.is_default,
            "created_at": self.created_at.isoformat(),
        }
