"""Collectors in the admin, at checkout and in the account's data export.

- A read-only list of collectors for shop managers (``collectors.view_collector``). Staff
  accounts stay under Settings → Users (superusers only); this list shows the public's accounts
  with their profile, so shop managers can answer a collector without user management.
- ``artspot_checkout_address``: checkout offers the collector's default saved address.
- ``COLLECTOR_DATA_EXPORT`` hooks each take a user and return ``(key, JSON-serialisable data)``;
  "download my data" (``collectors.privacy.export_data``) gathers every registered one.
"""

from __future__ import annotations

from typing import Any

from wagtail import hooks
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from core.admin_policies import ReadOnlyPermissionPolicy

from .models import ArtistAlerts, Collector, FollowedArtist, SavedWork

# Read only, for holders of the view permission (Shop managers): see core.admin_policies.
register_permission_policy(Collector, ReadOnlyPermissionPolicy(Collector), exact_class=True)


class CollectorViewSet(ModelViewSet):
    model = Collector
    icon = "user"
    menu_label = "Collectors"
    menu_order = 260
    add_to_admin_menu = True
    url_prefix = "collectors"
    list_display = [
        "email",
        Column("name", label="Name", accessor="profile_name"),
        DateColumn("date_joined", label="Joined"),
        DateColumn("last_login", label="Last sign-in"),
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["email", "collector_profile__name"]
    form_fields = ["is_active"]
    inspect_view_enabled = True
    inspect_view_fields = ["email", "date_joined", "last_login", "is_active"]
    copy_view_enabled = False

    def get_queryset(self, request):
        return Collector.objects.select_related("collector_profile").order_by("-date_joined")


@hooks.register("register_admin_viewset")
def register_collectors():
    return CollectorViewSet("collectors_admin")


@hooks.register("artspot_checkout_address")
def default_address_for_checkout(request):
    """Checkout offers the collector's default saved address (shop.views.saved_address)."""
    address = request.user.saved_addresses.filter(is_default=True).first()
    if address is None:
        return None
    return {
        "country": str(address.country),
        "name": address.name,
        "line1": address.line1,
        "line2": address.line2,
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "phone": address.phone,
    }


@hooks.register("COLLECTOR_DATA_EXPORT")
def export_interests(user) -> tuple[str, dict[str, Any]]:
    """The collector's saved works, followed artists and artist-alert setting."""
    saves = SavedWork.objects.filter(user=user).select_related("artwork").order_by("saved_at", "pk")
    follows = (
        FollowedArtist.objects.filter(user=user)
        .select_related("artist")
        .order_by("followed_at", "pk")
    )
    alerts = ArtistAlerts.objects.filter(user=user).first()
    return (
        "interests",
        {
            "saved_works": [
                {
                    "artwork_id": save.artwork_id,
                    "title": save.artwork.title,
                    "saved_at": save.saved_at.isoformat(),
                }
                for save in saves
            ],
            "followed_artists": [
                {
                    "artist_id": follow.artist_id,
                    "name": follow.artist.title,
                    "followed_at": follow.followed_at.isoformat(),
                }
                for follow in follows
            ],
            "artist_alerts": {
                "daily_digest": alerts is None or alerts.is_active,
                "unsubscribed_at": (
                    alerts.unsubscribed_at.isoformat()
                    if alerts and alerts.unsubscribed_at
                    else None
                ),
            },
        },
    )
