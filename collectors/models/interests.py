"""What a collector keeps an eye on: saved works, followed artists, and the digest about them.

The database holds the digest's promises: one digest per collector and day (unique on user and
day), and each work or drop mentioned to a collector at most once ever (unique on user and work,
user and drop, in ``DigestItem``). ``collectors.digest`` explains how a digest is planned and
sent exactly when it should be.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SavedWork(models.Model):
    """A work a collector hearted. One row per collector and work."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_works"
    )
    artwork = models.ForeignKey(
        "artworks.Artwork", on_delete=models.CASCADE, related_name="saved_by"
    )
    saved_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-saved_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "artwork"], name="collectors_save_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saved artwork {self.artwork_id}"


class FollowedArtist(models.Model):
    """An artist a collector follows: their new works and drops go into the daily digest."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_artists"
    )
    artist = models.ForeignKey(
        "artists.ArtistPage", on_delete=models.CASCADE, related_name="followers"
    )
    followed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-followed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "artist"], name="collectors_follow_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} follows artist {self.artist_id}"


def new_alerts_token() -> str:
    return secrets.token_urlsafe(32)


class ArtistAlerts(models.Model):
    """A collector's digest setting, and the random token their unsubscribe links carry.

    Made on the first follow. Digests go out while ``unsubscribed_at`` is empty; the row is
    also what a planning run locks, so two runs never plan one collector's day at once.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artist_alerts"
    )
    token = models.CharField(max_length=64, unique=True, default=new_alerts_token)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "artist alerts"
        verbose_name_plural = "artist alerts"

    def __str__(self) -> str:
        return f"Artist alerts of {self.user_id}"

    @property
    def is_active(self) -> bool:
        return self.unsubscribed_at is None


class DigestOutcome(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Not sent (unsubscribed, undeliverable or nothing left to show)"
    # A send began and its worker died before recording how it ended: the email may have gone,
    # so it is never sent again (at most once; see collectors.digest).
    UNCERTAIN = "uncertain", "Interrupted mid-send; not retried"


class Digest(models.Model):
    """One collector's email for one day (site time zone)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests"
    )
    day = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)
    # Committed before the mail server is called; with no ``sent_at`` after it, the send died.
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=16, choices=DigestOutcome.choices, default=DigestOutcome.PENDING
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="collectors_one_digest_a_day")
        ]
        indexes = [models.Index(fields=["outcome", "created_at"], name="collectors_digest_waiting")]

    def __str__(self) -> str:
        return f"Digest for {self.user_id} on {self.day}"


class DigestItem(models.Model):
    """A work or a drop mentioned in a digest; each to each collector once ever."""

    digest = models.ForeignKey(Digest, on_delete=models.CASCADE, related_name="items")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    artwork = models.ForeignKey(
        "artworks.Artwork", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    drop = models.ForeignKey(
        "drops.DropPage", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "artwork"],
                condition=Q(artwork__isnull=False),
                name="collectors_work_mentioned_once",
            ),
            models.UniqueConstraint(
                fields=["user", "drop"],
                condition=Q(drop__isnull=False),
                name="collectors_drop_mentioned_once",
            ),
            models.CheckConstraint(
                condition=Q(artwork__isnull=False, drop__isnull=True)
                | Q(artwork__isnull=True, drop__isnull=False),
                name="collectors_item_is_a_work_or_a_drop",
            ),
        ]

    def __str__(self) -> str:
        what = f"artwork {self.artwork_id}" if self.artwork_id else f"drop {self.drop_id}"
        return f"{what} in digest {self.digest_id}"
