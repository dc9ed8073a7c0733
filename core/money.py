"""One money format everywhere (site, admin, email): Babel's, in the site's locale.

``format_money(Decimal("17780"), "GBP")`` is ``£17,780.00`` on an en-GB site. Amounts are
``Decimal`` in the currency's major unit; nothing here rounds a price the database holds.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from django.conf import settings
from django.utils.translation import to_locale


def site_locale() -> str:
    """The Babel locale of the site's language (``en-gb`` -> ``en_GB``)."""
    return to_locale(settings.LANGUAGE_CODE)


def format_money(amount: Decimal | int | str | None, currency: str) -> str:
    """``amount`` with its currency symbol in the site's locale; empty for no amount."""
    if amount is None or amount == "":
        return ""
    return format_currency(Decimal(amount), currency.upper(), locale=site_locale())
