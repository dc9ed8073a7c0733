"""Factories for stories, shared by the demo content and the tests.

The ``*_block`` helpers build the raw StreamField data of one body block, so a story body can be
written as a list: ``StoryPageFactory(body=[paragraph("<p>…</p>"), artwork_grid("Shop", works)])``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

import factory
import wagtail_factories
from django.utils import timezone
from django.utils.text import slugify

from core.factories import ImageFactory

from .models import StoryIndexPage, StoryPage, StoryRelatedArtist


def story_index() -> StoryIndexPage:
    """The site's /stories/ page, created under the home page when missing."""
    from home.models import HomePage

    index = StoryIndexPage.objects.first()
    if index is None:
        index = StoryIndexPage(title="Stories", slug="stories", show_in_menus=True)
        HomePage.objects.get(depth=2).add_child(instance=index)
    return index


# --- Raw body blocks ------------------------------------------------------------------------------


def _block(block_type: str, value, block_id: str | None = None) -> dict:
    return {"type": block_type, "value": value, "id": block_id or str(uuid.uuid4())}


def paragraph(html: str) -> dict:
    return _block("paragraph", html)


def heading(text: str, level: str = "h2") -> dict:
    return _block("heading", {"text": text, "level": level})


def quote(text: str, attribution: str = "") -> dict:
    return _block("quote", {"quote": text, "attribution": attribution})


def image(image, caption: str = "", alt_text: str = "") -> dict:
    return _block("image", {"image": image.pk, "caption": caption, "alt_text": alt_text})


def artwork_block(artwork, caption: str = "") -> dict:
    return _block("artwork", {"artwork": artwork.pk, "caption": caption})


def artwork_grid(heading_text: str, artworks: Iterable) -> dict:
    items = [{"type": "item", "value": work.pk, "id": str(uuid.uuid4())} for work in artworks]
    return _block("artwork_grid", {"heading": heading_text, "artworks": items})


# --- Pages ----------------------------------------------------------------------------------------


class StoryPageFactory(wagtail_factories.PageFactory):
    """A live story under /stories/ with a small hero image.

    ``body=[...]`` takes raw blocks from the helpers above; ``tags=["interview"]`` and
    ``related_artists=[artist, ...]`` fill the tags and the related artists.
    """

    class Meta:
        model = StoryPage
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Story no. {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.title)}-{n}")
    parent = factory.LazyFunction(story_index)
    author = factory.Faker("name")
    date = factory.LazyFunction(timezone.localdate)
    introduction = "A visit to the studio, and the works that came out of it."
    hero_image = factory.SubFactory(ImageFactory, width=320, height=180)
    body = factory.LazyFunction(list)
    live = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if not isinstance(kwargs.get("body"), str):
            kwargs["body"] = json.dumps(kwargs.get("body") or [])
        return super()._create(model_class, *args, **kwargs)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.add(*extracted)
            self.save()

    @factory.post_generation
    def related_artists(self, create, extracted, **kwargs):
        if create and extracted:
            StoryRelatedArtist.objects.bulk_create(
                StoryRelatedArtist(page=self, artist=artist, sort_order=position)
                for position, artist in enumerate(extracted)
            )
