"""Rules other apps add to purchasing without the shop knowing about them.

Drops register a rule that keeps their works off sale outside the sale window, and a
per-collector limit while a drop is live (see ``drops.apps``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

PurchaseRule = Callable[[int], str]  # artwork id -> a reason it cannot be bought now, or ""
CollectorLimit = Callable[[int], int | None]  # artwork id -> most units one collector may buy

_purchase_rules: list[PurchaseRule] = []
_collector_limits: list[CollectorLimit] = []


def register_purchase_rule(rule: PurchaseRule) -> None:
    if rule not in _purchase_rules:
        _purchase_rules.append(rule)


def register_collector_limit(limit: CollectorLimit) -> None:
    if limit not in _collector_limits:
        _collector_limits.append(limit)


def rule_problems(artwork_id: int) -> list[str]:
    return [problem for rule in _purchase_rules if (problem := rule(artwork_id))]


def collector_limit(artwork_id: int) -> int | None:
    limits = [limit for source in _collector_limits if (limit := source(artwork_id)) is not None]
    return min(limits) if limits else None


Admission = Callable[[object, list[int]], "datetime | None"]  # (request, artwork ids) -> admit at
_admissions: list[Admission] = []


def register_admission(rule: Admission) -> None:
    if rule not in _admissions:
        _admissions.append(rule)


def admission_time(request, artwork_ids: list[int]) -> datetime | None:
    """The latest moment any rule lets this checkout in (None: straight away)."""
    times = [when for rule in _admissions if (when := rule(request, artwork_ids)) is not None]
    return max(times) if times else None


ChangeClock = Callable[[int], "float | None"]  # artwork id -> seconds until its sale state changes
_change_clocks: list[ChangeClock] = []


def register_change_clock(clock: ChangeClock) -> None:
    if clock not in _change_clocks:
        _change_clocks.append(clock)


def seconds_until_change(artwork_id: int) -> float | None:
    """How long what the page says about buying this work stays true (for cache lifetimes)."""
    times = [t for clock in _change_clocks if (t := clock(artwork_id)) is not None]
    return min(times) if times else None


PriceVeil = Callable[[int], "str | None"]  # artwork id -> text to show instead of the price
_price_veils: list[PriceVeil] = []


def register_price_veil(veil: PriceVeil) -> None:
    if veil not in _price_veils:
        _price_veils.append(veil)


def price_veil(artwork_id: int) -> str | None:
    """What to show instead of the price right now (a drop that hides prices until it opens)."""
    for veil in _price_veils:
        if text := veil(artwork_id):
            return text
    return None
