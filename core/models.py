"""Site-wide models: the custom image model (set on day one) and editable site settings."""

import posixpath
import secrets

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.images.models import AbstractImage, AbstractRendition, Filter, Image

from . import renditions
from .blocks import SocialLinkBlock
from .lookups import CachedSiteSetting


class CustomImage(AbstractImage):
    """Wagtail image with a credit line; ``description`` is the alt text."""

    credit = models.CharField(
        max_length=255,
        blank=True,
        help_text="Photographer or rights holder, shown under the image.",
    )

    admin_form_fields = (*Image.admin_form_fields, "credit")

    def get_upload_to(self, filename: str) -> str:
        return _unique_name(super().get_upload_to(filename))

    # Renditions are made ahead and only looked up in a visitor's request (core.renditions).

    def get_renditions(self, *filters: Filter | str) -> dict:
        return super().get_renditions(*(renditions.shared_filter(f) for f in filters))

    def get_rendition(self, filter: Filter | str):
        if not renditions.lookup_only():
            return super().get_rendition(filter)
        return next(iter(self.get_renditions(filter).values()))

    def find_existing_renditions(self, *filters: Filter) -> dict:
        """Wagtail's lookup (prefetched, else the cache, else the database), except that what
        the cache answered is marked as such and so never written back to it."""
        Rendition = self.get_rendition_model()
        if self._get_prefetched_renditions() is not None:
            found = super().find_existing_renditions(*filters)
            if any(getattr(rendition, "fallback", False) for rendition in found.values()):
                renditions.shows_fallback()  # a stand-in prefetched from the cache
            missing = [f for f in filters if f not in found]
            if missing and renditions.lookup_only():
                # Stand-ins remembered for a visitor's page (core.renditions), not in the list.
                keys = {
                    Rendition.construct_cache_key(self, f.get_cache_key(self), f.spec): f
                    for f in missing
                }
                for key, rendition in Rendition.cache_backend.get_many(list(keys)).items():
                    if getattr(rendition, "fallback", False):
                        rendition.image = self
                        rendition._from_cache = True
                        found[keys[key]] = rendition
                        renditions.shows_fallback()
            return found
        by_spec = {f.spec: f for f in filters}
        keys = [
            Rendition.construct_cache_key(self, f.get_cache_key(self), spec)
            for spec, f in by_spec.items()
        ]
        found = {}
        # A stand-in for a missing rendition (core.renditions) answers visitors only.
        stand_ins = renditions.lookup_only()
        for rendition in Rendition.cache_backend.get_many(keys).values():
            wanted = by_spec.get(rendition.filter_spec)
            if wanted is not None and (stand_ins or not getattr(rendition, "fallback", False)):
                rendition.image = self
                rendition._from_cache = True
                found[wanted] = rendition
                if getattr(rendition, "fallback", False):
                    renditions.shows_fallback()
        missing = [f for f in filters if f not in found]
        if missing:
            lookup = Q()
            for f in missing:
                lookup |= Q(filter_spec=f.spec, focal_point_key=f.get_cache_key(self))
            for rendition in self.renditions.filter(lookup):
                found[by_spec[rendition.filter_spec]] = rendition
        return found

    def create_renditions(self, *filters: Filter) -> dict:
        if filters and renditions.lookup_only():
            return renditions.stand_in_for_missing(self, list(filters))
        with renditions.making():
            return super().create_renditions(*filters)

    def create_rendition(self, filter: Filter):
        if renditions.lookup_only():
            return renditions.stand_in_for_missing(self, [filter])[filter]
        return super().create_rendition(filter)


class CustomRendition(AbstractRendition):
    image = models.ForeignKey(CustomImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)

    def get_upload_to(self, filename: str) -> str:
        return _unique_name(super().get_upload_to(filename))


def _unique_name(path: str, max_length: int = 100) -> str:
    """``folder/<random>/name``: a stored file's name is never used again, even after a
    deletion, so media may be cached as immutable (artspot.settings.media)."""
    folder, name = posixpath.split(path)
    token = secrets.token_hex(4)
    stem, extension = posixpath.splitext(name)
    room = max_length - 1 - len(folder) - len(token) - 2 - len(extension)
    return posixpath.join(folder, token, stem[: max(room, 1)] + extension)


@register_setting(icon="site")
class SiteSettings(CachedSiteSetting, BaseSiteSetting):
    """Contact details, social links, footer text and analytics, edited under Settings."""

    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True, help_text="Gallery or office address, one line per row.")
    opening_hours = models.CharField(max_length=255, blank=True)
    footer_text = RichTextField(
        blank=True, features=["bold", "italic", "link"], help_text="Short text in the site footer."
    )
    social_links = StreamField([("link", SocialLinkBlock())], blank=True)
    analytics_id = models.CharField(
        "Google Analytics 4 measurement id",
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^G-[A-Z0-9]{4,16}$", "Use the form G-XXXXXXXXXX.")],
        help_text="Leave empty to load no analytics at all.",
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("contact_email"),
                FieldPanel("contact_phone"),
                FieldPanel("address"),
                FieldPanel("opening_hours"),
            ],
            heading="Contact",
        ),
        FieldPanel("social_links"),
        FieldPanel("footer_text"),
        FieldPanel("analytics_id"),
    ]

    class Meta:
        verbose_name = "site settings"

    def __str__(self) -> str:
        return "Site settings"

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.address.splitlines() if line.strip()]


class OutboxMessage(models.Model):
    """A Celery task to send once the transaction that wrote it commits (``core.outbox``)."""

    task = models.CharField(max_length=200, help_text="The Celery task's registered name.")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True, help_text="apply_async options (eta…).")
    created_at = models.DateTimeField(auto_now_add=True)
    relayed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["id"],
                name="outbox_waiting",
                condition=models.Q(relayed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"


class PendingPurge(models.Model):
    """Something changed that a shared cache may still show (``core.frontend_cache``).

    ``key`` is ``artwork:<id>``, ``page:<id>`` or ``url:<absolute URL>``; unique, so a change
    repeated before the next flush adds nothing.
    """

    key = models.CharField(max_length=2048, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.key


class UndeliverableAddress(models.Model):
    """An address SES reported as permanently bouncing or complaining: nothing more is sent to it.

    Written by ``core.email`` from the SES bounce webhook; a later delivery does not remove it.
    Deleting the row (Settings → Undeliverable addresses) lifts it.
    """

    class Reason(models.TextChoices):
        BOUNCE = "bounce", "Permanent bounce"
        COMPLAINT = "complaint", "Complaint (marked as spam)"

    email = models.EmailField(max_length=254)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    reported_at = models.DateTimeField(default=timezone.now, help_text="When SES reported it.")
    ses_message_id = models.CharField("SES message id", max_length=255, blank=True)
    diagnostic = models.TextField(blank=True, help_text="What the receiving server answered.")
    skipped_count = models.PositiveIntegerField(
        default=0, help_text="Emails not sent to this address since it was marked."
    )
    last_skipped_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-reported_at"]
        verbose_name = "undeliverable address"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="undeliverable_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display().lower()})"
