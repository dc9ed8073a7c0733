"""What insured delivery costs: one rate per zone from the site's shop settings.

Checkout charges ``ShopSettings.rate_for(zone_for(country))`` as the same figure in the order's
currency; ``shipping_quote`` answers the same question for pages that show it before payment.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import get_currency_precision
from django_countries import countries

from .models import ShippingZone, ShopSettings
from .models.settings import EU_COUNTRIES


@dataclass(frozen=True)
class ZoneRate:
    zone: str
    label: str
    amount: Decimal


def _in_currency(amount: Decimal, currency: str) -> Decimal:
    """The rate to the currency's smallest unit (pence, cents; whole yen)."""
    return amount.quantize(Decimal(1).scaleb(-get_currency_precision(currency.upper())))


def shipping_quote(site, country: str, currency: str) -> Decimal:
    """Insured shipping for one order from ``site`` to ``country``, as checkout will charge it."""
    shop = ShopSettings.for_site(site)
    return _in_currency(shop.rate_for(shop.zone_for(country.upper())), currency)


def zone_rates(shop: ShopSettings, currency: str) -> list[ZoneRate]:
    """Every zone's rate, home country first, labelled as a collector reads them."""
    labels = {
        ShippingZone.DOMESTIC: countries.name(shop.home_country) or shop.home_country,
        ShippingZone.EU: (
            f"Rest of the {ShippingZone.EU.label}"
            if shop.home_country in EU_COUNTRIES
            else ShippingZone.EU.label
        ),
        ShippingZone.WORLD: ShippingZone.WORLD.label,
    }
    return [
        ZoneRate(zone, labels[zone], _in_currency(shop.rate_for(zone), currency))
        for zone in ShippingZone.values
    ]
