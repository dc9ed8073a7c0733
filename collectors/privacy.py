"""A collector's own data: "download my data" and "delete my account".

**Export sections.** The JSON export is built from sections. This module contributes
``account``, ``addresses``, ``orders`` and ``drop_subscriptions`` (:func:`register_export`); any
other module adds its own with the Wagtail hook ``COLLECTOR_DATA_EXPORT``: a function that takes
the user and returns ``(key, JSON-serialisable data)`` (``collectors/wagtail_hooks.py`` adds
``interests``: saved works, followed artists, artist alerts)::

    @hooks.register("COLLECTOR_DATA_EXPORT")
    def export_things(user):
        return "things", [{"id": t.pk} for t in user.things.all()]

A key may appear once; a section that raises fails the whole export (a partial export would
mislead).

**Erasure.** :func:`delete_account` anonymises the collector's orders (``shop.privacy``: kept for
the books without name, email, phone or street address), deletes their drop subscriptions and
enquiry contact details, then deletes the user row, which cascades to the profile, the saved
addresses, allauth's email addresses and every model with a ``CASCADE`` foreign key to the
user (saved works, follows …). Other apps that keep personal data *without* a cascading key
register an eraser with :func:`register_erasure` (called with the user, inside the same
transaction, before the row goes). With the user row gone, every session of theirs is
anonymous on its next request and the account can no longer sign in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from wagtail import hooks

Exporter = Callable[[Any], Any]
Eraser = Callable[[Any], None]

_exporters: dict[str, Exporter] = {}
_erasers: dict[str, Eraser] = {}


def register_export(name: str) -> Callable[[Exporter], Exporter]:
    """Decorator: add a section ``name`` to every collector's data export."""

    def add(function: Exporter) -> Exporter:
        if name in _exporters and _exporters[name] is not function:
            raise ValueError(f"An export section called {name!r} is registered already.")
        _exporters[name] = function
        return function

    return add


def register_erasure(name: str) -> Callable[[Eraser], Eraser]:
    """Decorator: run ``function(user)`` when a collector deletes their account."""

    def add(function: Eraser) -> Eraser:
        _erasers[name] = function
        return function

    return add


def export_sections() -> list[str]:
    return sorted(_exporters)


def account_emails(user) -> list[str]:
    """Every address of the account (verified or not) and the user row's own, lower-cased."""
    emails = {
        e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }
    if user.email:
        emails.add(user.email.lower())
    return sorted(emails)


EXPORT_HOOK = "COLLECTOR_DATA_EXPORT"


def export_data(user) -> dict:
    """Everything we keep about this collector, as one JSON-serialisable dict."""
    data = {
        "exported_at": timezone.now().isoformat(),
        **{name: _exporters[name](user) for name in export_sections()},
    }
    for section in hooks.get_hooks(EXPORT_HOOK):
        key, value = section(user)
        if key in data:
            raise ValueError(f"Two export sections are called {key!r}.")
        data[key] = value
    return data


# --- this app's own sections -----------------------------------------------------------------


@register_export("account")
def _account(user) -> dict:
    profile = getattr(user, "collector_profile", None)
    return {
        "email": user.email,
        "emails": [
            {"email": e.email, "verified": e.verified, "primary": e.primary}
            for e in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "name": profile.name if profile else "",
        "phone": profile.phone if profile else "",
        "joined_at": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
    }


@register_export("addresses")
def _addresses(user) -> list[dict]:
    return [address.as_export() for address in user.saved_addresses.all()]


@register_export("orders")
def _orders(user) -> list[dict]:
    from shop.models import Order
    from shop.privacy import export_order

    orders = Order.objects.filter(user=user).prefetch_related("lines", "events").order_by("pk")
    return [export_order(order) for order in orders]


@register_export("drop_subscriptions")
def _drop_subscriptions(user) -> list[dict]:
    from drops.models import DropSubscription

    emails = account_emails(user)
    subscriptions = (
        DropSubscription.objects.filter(Q(user=user) | Q(email__in=emails))
        .select_related("drop")
        .order_by("pk")
    )
    return [
        {
            "drop": s.drop.title,
            "email": s.email,
            "subscribed_at": s.created_at.isoformat(),
            "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
            "unsubscribed_at": s.unsubscribed_at.isoformat() if s.unsubscribed_at else None,
        }
        for s in subscriptions
    ]


# --- erasure ---------------------------------------------------------------------------------


@register_erasure("orders")
def _erase_orders(user) -> None:
    from shop.models import Order
    from shop.privacy import erase_customer

    emails = account_emails(user)
    # Guest orders placed with a verified address of the account are the collector's as well.
    verified = list(
        EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )
    mine = Q(user=user)
    for email in verified:
        mine |= Q(user__isnull=True, email__iexact=email)
    erase_customer(Order.objects.filter(mine), emails)


@register_erasure("drop_subscriptions")
def _erase_subscriptions(user) -> None:
    from drops.models import DropSubscription

    DropSubscription.objects.filter(Q(user=user) | Q(email__in=account_emails(user))).delete()


@register_erasure("enquiries")
def _erase_enquiries(user) -> None:
    from artworks.models import ArtworkInquiry

    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    if verified:
        theirs = Q()
        for email in verified:
            theirs |= Q(email__iexact=email)
        ArtworkInquiry.objects.filter(theirs).update(
            name="[erased]", email="erased@erased.invalid", phone=""
        )


@transaction.atomic
def delete_account(user) -> None:
    """Anonymise what must stay, delete the rest, and end every session of the account."""
    for name in sorted(_erasers):
        _erasers[name](user)
    # Every session of the account names this user id: with the row gone, Django's
    # authentication middleware finds no user and the session is anonymous from its next request.
    get_user_model().objects.filter(pk=user.pk).delete()
