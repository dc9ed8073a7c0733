"""Shop settings editors can change: shipping rates by zone, hold time, Stripe Tax."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django_countries import countries
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)

# Countries Stripe Checkout does not accept in shipping_address_collection.allowed_countries.
STRIPE_UNSUPPORTED_COUNTRIES = frozenset(
    ["AS", "CX", "CC", "CU", "HM", "IR", "KP", "MH", "FM", "NF", "MP", "PW", "SD", "SY", "UM", "VI"]
)


class ShippingZone(models.TextChoices):
    DOMESTIC = "domestic", "Domestic"
    EU = "eu", "European Union"
    WORLD = "world", "Rest of the world"


def _money(default: str, help_text: str) -> models.DecimalField:
    return models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal(default),
        validators=[MinValueValidator(Decimal(0))],
        help_text=help_text,
    )


@register_setting(icon="cogs")
class ShopSettings(BaseSiteSetting):
    home_country = models.CharField(
        max_length=2, default="GB", choices=list(countries), help_text="Orders here ship domestic."
    )
    domestic_rate = _money("25.00", "Insured shipping per order within the home country.")
    eu_rate = _money("60.00", "Insured shipping per order to the European Union.")
    world_rate = _money("120.00", "Insured shipping per order to the rest of the world.")
    hold_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(60)],
        help_text="How long a work is held for a collector who has started checkout.",
    )
    stripe_tax = models.BooleanField(
        "Stripe Tax", default=False, help_text="Let Stripe calculate and collect sales tax / VAT."
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("home_country"),
                FieldPanel("domestic_rate"),
                FieldPanel("eu_rate"),
                FieldPanel("world_rate"),
            ],
            heading="Shipping",
        ),
        FieldPanel("hold_minutes"),
        FieldPanel("stripe_tax"),
    ]

    class Meta:
        verbose_name = "shop settings"

    def zone_for(self, country: str) -> str:
        if country == self.home_country:
            return ShippingZone.DOMESTIC
        return ShippingZone.EU if country in EU_COUNTRIES else ShippingZone.WORLD

    def rate_for(self, zone: str) -> Decimal:
        return {
            ShippingZone.DOMESTIC: self.domestic_rate,
            ShippingZone.EU: self.eu_rate,
            ShippingZone.WORLD: self.world_rate,
        }[zone]

    def countries_in(self, zone: str) -> list[str]:
        """Country codes a Stripe session may ship to for a zone (the address must match it)."""
        codes = [code for code, _ in countries if code not in STRIPE_UNSUPPORTED_COUNTRIES]
        return [code for code in codes if self.zone_for(code) == zone]
