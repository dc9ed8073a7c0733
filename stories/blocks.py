"""StreamField blocks for stories, including the "shop the story" artwork blocks.

The artwork blocks store the chosen works as snippet references, but render only what collectors
may see: live works by live artists, re-read from the database with their live price and
availability. A work chosen while it was live that is later unpublished (or whose artist is)
silently drops out of the public page; editors see a note about it in preview.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest
from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images import get_image_model
from wagtail.snippets.blocks import SnippetChooserBlock

from core.blocks import CaptionedImageBlock, HeadingBlock, QuoteBlock

GRID_MAX_WORKS = 12
ARTWORK_HELP = "Only live works by live artists are shown; a draft stays hidden until published."


def public_artworks(chosen: list, request: HttpRequest | None = None) -> tuple[list, list]:
    """The public works among ``chosen`` (artworks or ids), in the editor's order, in one query.

    Returns ``(shown, hidden)``: ``shown`` are listing-ready artworks, each with a ``shop_url``;
    ``hidden`` are the chosen works collectors cannot see (drafts, or by an unpublished artist).
    """
    from artworks.models import Artwork, ArtworkIndexPage

    ids = list(dict.fromkeys(getattr(item, "pk", item) for item in chosen if item is not None))
    if not ids:
        return [], []
    loaded = [item for item in chosen if isinstance(item, Artwork) and item.listing_ready]
    if len(loaded) == len([item for item in chosen if item is not None]):
        # Read by the chooser block with card data already: no second query for the same works.
        found = {artwork.pk: artwork for artwork in loaded if artwork.is_public}
    else:
        found = {
            artwork.pk: artwork
            for artwork in Artwork.objects.public().for_listing().filter(pk__in=ids)
        }
    shown = [found[pk] for pk in ids if pk in found]
    for artwork in shown:
        # With a request the index URL is looked up once per request, not once per work.
        artwork.shop_url = ArtworkIndexPage.artwork_url(artwork.slug, request)
    hidden = [
        item for item in chosen if item is not None and getattr(item, "pk", item) not in found
    ]
    return shown, hidden


def _request(parent_context: dict | None) -> HttpRequest | None:
    return (parent_context or {}).get("request")


def _is_preview(request: HttpRequest | None) -> bool:
    return bool(getattr(request, "is_preview", False))


def _latest_public_artworks(count: int) -> list:
    from artworks.models import Artwork

    return list(Artwork.objects.public().order_by("-first_published_at")[:count])


# Works read once for a whole story body (:func:`read_artworks_once`), by id.
_read: ContextVar[dict[int, Any] | None] = ContextVar("stories_artworks_read", default=None)


def _artwork_ids(raw: Any) -> Iterator[int]:
    """The chosen works' ids in a body's raw data (single works, grids' items)."""
    if isinstance(raw, dict):
        if raw.get("type") in {"artwork", "artwork_grid"} and isinstance(raw.get("value"), dict):
            value = raw["value"]
            for item in [value.get("artwork"), *(value.get("artworks") or [])]:
                item = item.get("value") if isinstance(item, dict) else item
                if str(item).isdigit():
                    yield int(item)
    elif isinstance(raw, list):
        for item in raw:
            yield from _artwork_ids(item)


@contextmanager
def read_artworks_once(body: Any) -> Iterator[None]:
    """Inside the block, the body's artwork and grid blocks share one query for their works
    (each block type would read its own otherwise)."""
    from artworks.models import Artwork

    ids = sorted(set(_artwork_ids(list(getattr(body, "raw_data", []) or []))))
    token = _read.set(Artwork.objects.for_listing().in_bulk(ids) if ids else {})
    try:
        yield
    finally:
        _read.reset(token)


class ArtworkChooserBlock(SnippetChooserBlock):
    """Chooses a work; the page reads the chosen works once, with what a card shows."""

    def __init__(self, **kwargs):
        super().__init__("artworks.Artwork", **kwargs)

    def bulk_to_python(self, values):
        from artworks.models import Artwork

        wanted = [int(v) for v in values if v is not None and str(v).isdigit()]
        objects = dict(_read.get() or {})
        missing = [pk for pk in wanted if pk not in objects]
        if missing:
            objects |= Artwork.objects.for_listing().in_bulk(missing)
        result, seen = [], set()
        for value in values:
            obj = objects.get(int(value)) if str(value).isdigit() else None
            if obj is not None and obj.pk in seen:
                obj = copy.copy(obj)
            if obj is not None:
                seen.add(obj.pk)
            result.append(obj)
        return result

    def deconstruct(self):
        _path, _args, kwargs = super().deconstruct()
        return "stories.blocks.ArtworkChooserBlock", (), kwargs


class StoryImageBlock(CaptionedImageBlock):
    """The shared captioned image, previewed in the block picker with an image from the library."""

    def get_preview_value(self):
        image = get_image_model().objects.order_by("pk").first()
        return self.normalize({"image": image, "caption": "The studio in the late afternoon."})


class ArtworkBlock(blocks.StructBlock):
    """One work, shown large with its price, availability and a link to buy or enquire."""

    artwork = ArtworkChooserBlock(help_text=ARTWORK_HELP)
    caption = blocks.CharBlock(
        required=False, max_length=255, help_text="Why this work belongs in the story."
    )

    class Meta:
        icon = "image"
        template = "stories/blocks/artwork_block.html"
        description = (
            "Shop the story: one work with its live price and availability, and a link to buy "
            "or enquire."
        )

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        request = _request(parent_context)
        shown, hidden = public_artworks([value.get("artwork")], request)
        context["artwork"] = shown[0] if shown else None
        context["hidden_artworks"] = hidden if _is_preview(request) else []
        return context

    def get_preview_value(self):
        latest = _latest_public_artworks(1)
        return self.normalize(
            {
                "artwork": latest[0] if latest else None,
                "caption": "Painted over one winter, in the light of a north-facing window.",
            }
        )


class ArtworkGridBlock(blocks.StructBlock):
    """Several works in a grid, each with its price, availability and a link to buy or enquire."""

    heading = blocks.CharBlock(max_length=120, help_text="e.g. 'Shop the story'.")
    artworks = blocks.ListBlock(
        ArtworkChooserBlock(help_text=ARTWORK_HELP),
        min_num=1,
        max_num=GRID_MAX_WORKS,
        collapsed=True,
    )

    class Meta:
        icon = "grip"
        template = "stories/blocks/artwork_grid_block.html"
        description = (
            f"Shop the story: a heading and up to {GRID_MAX_WORKS} works, each with its live "
            "price, availability and a link to buy or enquire."
        )

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        request = _request(parent_context)
        shown, hidden = public_artworks(list(value.get("artworks") or []), request)
        context["artworks"] = shown
        context["hidden_artworks"] = hidden if _is_preview(request) else []
        return context

    def get_preview_value(self):
        return self.normalize({"heading": "Shop the story", "artworks": _latest_public_artworks(4)})


class StoryBodyBlock(blocks.StreamBlock):
    paragraph = blocks.RichTextBlock(
        icon="pilcrow",
        features=["bold", "italic", "link", "ol", "ul", "h3", "h4", "document-link"],
        template="stories/blocks/paragraph_block.html",
        description="Body text.",
        preview_value=(
            "<p>The studio sits at the top of a converted print works, its windows facing north "
            "over the rooftops.</p>"
        ),
    )
    heading = HeadingBlock()
    image = StoryImageBlock()
    quote = QuoteBlock()
    embed = EmbedBlock(
        label="Video",
        icon="media",
        max_width=1280,
        template="stories/blocks/embed_block.html",
        description="A video from YouTube or Vimeo: paste the address of the video's page.",
        help_text="e.g. https://vimeo.com/… or https://www.youtube.com/watch?v=…",
    )
    artwork = ArtworkBlock()
    artwork_grid = ArtworkGridBlock()
