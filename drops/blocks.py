"""StreamField blocks for drops: embed an upcoming (or live) drop, with its countdown."""

from __future__ import annotations

import copy

from django.utils import timezone
from wagtail import blocks

from .listings import drops_by_pk


class DropChooserBlock(blocks.PageChooserBlock):
    """Chooses a drop page; reads the chosen drops through the short-lived cache.

    The home page renders within a fixed query budget, so a warm page must not query for its
    embedded drops (see ``drops.listings``). The admin gets the same instances (up to a minute
    old), and uses only the chosen page's id and title from them.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("page_type", "drops.DropPage")
        super().__init__(**kwargs)

    def bulk_to_python(self, values):
        found = drops_by_pk([value for value in values if value is not None])
        result, seen = [], set()
        for value in values:
            drop = found.get(value)
            if drop is not None and value in seen:
                drop = copy.copy(drop)
            result.append(drop)
            seen.add(value)
        return result


class UpcomingDropBlock(blocks.StructBlock):
    """A drop with its hero image, release time in the visitor's time zone and a live countdown.

    Shows nothing once the drop has ended or if it is unpublished, so a forgotten embed does not
    advertise a past sale.
    """

    drop = DropChooserBlock(help_text="An upcoming or live drop.")
    heading = blocks.CharBlock(
        required=False,
        max_length=120,
        help_text="Shown until the drop opens (default “Coming soon”); then it reads “Live now”.",
    )

    class Meta:
        icon = "date"
        template = "drops/blocks/upcoming_drop_block.html"
        label = "Upcoming drop"
        description = "An upcoming or live drop with its release time and a live countdown."
        preview_value = {"heading": "The next drop"}

    def get_preview_value(self):
        from .models import DropPage

        drop = (
            DropPage.objects.live()
            .filter(starts_at__gt=timezone.now())
            .order_by("starts_at")
            .first()
        ) or DropPage.objects.live().order_by("-starts_at").first()
        return self.to_python({"drop": drop.pk if drop else None, "heading": ""})

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        drop = value.get("drop")
        status = drop.status if drop is not None and drop.live else None
        context["drop"] = drop
        context["status"] = status if status in ("upcoming", "live") else None
        return context
