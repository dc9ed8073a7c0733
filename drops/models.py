"""Drop pages: works that go on sale at ``starts_at`` (to the second) and stop at ``ends_at``.

The status (upcoming / live / ended) is derived from the clock on every request; nothing is
published or stored when a drop starts. The shop asks ``drops.sale`` whether a work may be sold.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page

from core.pages import PublicCacheMixin

# Requests in the first seconds of a drop are admitted in random order (see drops.entry).
DEFAULT_ENTRY_WINDOW_SECONDS = 10


class DropStatus(models.TextChoices):
    UPCOMING = "upcoming", "Coming soon"
    LIVE = "live", "Live now"
    ENDED = "ended", "Ended"


def status_between(moment: datetime, starts_at: datetime, ends_at: datetime | None) -> str:
    """A sale window's status at ``moment``: upcoming before the start, ended from the end."""
    if moment < starts_at:
        return DropStatus.UPCOMING
    if ends_at and moment >= ends_at:
        return DropStatus.ENDED
    return DropStatus.LIVE


class DropIndexPage(PublicCacheMixin, Page):
    introduction = models.TextField(blank=True, max_length=500)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["drops.DropPage"]
    max_count = 1

    class Meta:
        verbose_name = "drop index page"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        drops = list(DropPage.objects.child_of(self).live().public().order_by("-starts_at"))
        context["live_drops"] = [d for d in drops if d.status == DropStatus.LIVE]
        context["upcoming_drops"] = sorted(
            (d for d in drops if d.status == DropStatus.UPCOMING), key=lambda d: d.starts_at
        )
        context["past_drops"] = [d for d in drops if d.status == DropStatus.ENDED][:12]
        return context


class DropPage(PublicCacheMixin, Page):
    curator_text = RichTextField(
        "curator's text", blank=True, features=["bold", "italic", "link", "ol", "ul"]
    )
    hero_image = models.ForeignKey(
        "core.CustomImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    starts_at = models.DateTimeField(help_text="The second the works go on sale.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Optional end of the sale.")
    per_collector_limit = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Most units of each work one collector (account or email) may buy.",
    )
    show_prices_before_start = models.BooleanField(default=True)
    entry_window_seconds = models.PositiveSmallIntegerField(
        default=DEFAULT_ENTRY_WINDOW_SECONDS,
        validators=[MaxValueValidator(120)],
        help_text="Checkouts in these first seconds are admitted in random order. 0 turns it off.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("hero_image"),
        FieldPanel("curator_text"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("starts_at"), FieldPanel("ends_at")]),
                FieldRowPanel(
                    [FieldPanel("per_collector_limit"), FieldPanel("entry_window_seconds")]
                ),
                FieldPanel("show_prices_before_start"),
            ],
            heading="Sale window",
        ),
        InlinePanel("drop_artworks", label="Works in the drop", min_num=1),
    ]
    parent_page_types = ["drops.DropIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "drop page"

    def clean(self) -> None:
        super().clean()
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The end must be after the start."})

    # --- The clock decides -------------------------------------------------------------------

    def status_at(self, moment: datetime) -> str:
        return status_between(moment, self.starts_at, self.ends_at)

    @property
    def status(self) -> str:
        return self.status_at(timezone.now())

    @property
    def status_label(self) -> str:
        return DropStatus(self.status).label

    def in_entry_window(self, moment: datetime) -> bool:
        window = timedelta(seconds=self.entry_window_seconds)
        return self.starts_at <= moment < self.starts_at + window

    @cached_property
    def artworks(self) -> list:
        """The drop's live works in the curator's order (one query plus the listing prefetches)."""
        from artworks.models import Artwork

        order = {row.artwork_id: i for i, row in enumerate(self.drop_artworks.all())}
        works = Artwork.objects.public().for_listing().filter(pk__in=order)
        return sorted(works, key=lambda work: order[work.pk])

    @cached_property
    def artists(self) -> list:
        seen: dict[int, object] = {}
        for work in self.artworks:
            seen.setdefault(work.artist_id, work.artist)
        return list(seen.values())

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["works"] = self.artworks
        context["status"] = self.status
        # The page changes when the drop opens or closes; shared caches must not keep it longer.
        now = timezone.now()
        upcoming = [m for m in (self.starts_at, self.ends_at) if m and m > now]
        if upcoming:
            seconds = (min(upcoming) - now).total_seconds()
            current = getattr(request, "max_public_cache_seconds", None)
            request.max_public_cache_seconds = seconds if current is None else min(current, seconds)
        return context


class DropArtwork(Orderable):
    page = ParentalKey(DropPage, on_delete=models.CASCADE, related_name="drop_artworks")
    artwork = models.ForeignKey(
        "artworks.Artwork", on_delete=models.CASCADE, related_name="drop_entries"
    )

    panels = [FieldPanel("artwork")]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(fields=["page", "artwork"], name="artwork_once_per_drop")
        ]

    def __str__(self) -> str:
        return f"{self.artwork} in {self.page}"


# --- Notify me: subscriptions and the reminders sent to them (see drops.subscriptions, .tasks) --


def new_subscription_token() -> str:
    return secrets.token_urlsafe(24)


class DropSubscription(models.Model):
    """One address that asked to hear about one drop.

    It counts (gets reminders) once ``confirmed_at`` is set (double opt-in, or one click by a
    signed-in collector) and until ``unsubscribed_at`` is. Addresses are stored lower-cased and
    unique per drop regardless of case. ``token`` identifies the subscription in the signed
    confirm and unsubscribe links; it is random, so a link never reveals the address.
    """

    drop = models.ForeignKey(DropPage, on_delete=models.CASCADE, related_name="subscriptions")
    email = models.EmailField(max_length=254)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="drop_subscriptions",
    )
    token = models.CharField(max_length=64, unique=True, default=new_subscription_token)
    created_at = models.DateTimeField(default=timezone.now)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "drop", Lower("email"), name="drop_subscription_email_once_per_drop"
            )
        ]
        indexes = [models.Index(fields=["drop", "confirmed_at"], name="drop_sub_drop_confirmed")]

    def __str__(self) -> str:
        return f"{self.email} for {self.drop_id}"

    def save(self, *args, **kwargs) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.confirmed_at is not None and self.unsubscribed_at is None


class ReminderKind(models.TextChoices):
    DAY_BEFORE = "day_before", "24 hours to go"
    STARTED = "started", "Live now"


class DropReminder(models.Model):
    """A reminder sent: at most one row per subscription and kind, written with the send."""

    subscription = models.ForeignKey(
        DropSubscription, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "kind"], name="drop_reminder_once_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.subscription}"


class DropWindowPurge(models.Model):
    """The works of ``drop`` were purged from the frontend cache for its opening or closing at
    ``moment`` (``drops.tasks.purge_opened_and_closed_drops``); unique, so once per change."""

    drop = models.ForeignKey(DropPage, on_delete=models.CASCADE, related_name="window_purges")
    moment = models.DateTimeField()
    purged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drop", "moment"], name="drop_window_purged_once")
        ]

    def __str__(self) -> str:
        return f"{self.drop_id} at {self.moment:%Y-%m-%d %H:%M:%S}"
