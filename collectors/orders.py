"""Orders under a collector's account: guest orders joining it, and "more by this artist"."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models import Q

from artworks.models import Artwork
from shop.models import Order


def attach_guest_orders(user) -> int:
    """Give the account the guest orders placed with one of its *verified* addresses.

    Only orders with no account yet are taken, and only for addresses the collector proved they
    own: an unverified address (anyone can type one) attaches nothing.
    """
    verified = list(
        EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )
    if not verified or not user.is_active:
        return 0
    match = Q()
    for email in verified:
        match |= Q(email__iexact=email)
    return Order.objects.filter(match, user__isnull=True).update(user=user)


def collector_orders(user):
    """The collector's orders as their account lists them (abandoned checkouts left out)."""
    return (
        Order.objects.filter(user=user)
        .exclude(payment_status="unpaid", fulfilment_status="cancelled")
        .prefetch_related("lines")
    )


def more_by_the_artists(order: Order, limit: int = 4):
    """Works on show by the artists in this order, not the ones bought (art is unique)."""
    lines = list(order.lines.select_related("artwork").only("artwork__artist_id"))
    artist_ids = {line.artwork.artist_id for line in lines if line.artwork is not None}
    bought = {line.artwork_id for line in lines if line.artwork_id}
    if not artist_ids:
        return []
    return list(
        Artwork.objects.public()
        .filter(artist_id__in=artist_ids)
        .exclude(pk__in=bought)
        .for_listing()
        .order_by("availability_rank", "-first_published_at", "-pk")[:limit]
    )
