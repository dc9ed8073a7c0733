"""Collectors in the admin and in the account's data export.

``COLLECTOR_DATA_EXPORT`` hooks each take a user and return ``(key, JSON-serialisable data)``;
"download my data" gathers every registered one.
"""

from __future__ import annotations

from typing import Any

from wagtail import hooks

from .models import ArtistAlerts, FollowedArtist, SavedWork


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
