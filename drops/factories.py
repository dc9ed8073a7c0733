"""Factories for drops, shared by the demo content, the tests and the benchmarks."""

from __future__ import annotations

from datetime import timedelta

import factory
import wagtail_factories
from django.utils import timezone
from django.utils.text import slugify

from home.models import HomePage

from .models import DropArtwork, DropIndexPage, DropPage, DropSubscription


def drop_index() -> DropIndexPage:
    """The site's /drops/ page, created under the home page (and in the menu) when missing."""
    index = DropIndexPage.objects.first()
    if index is None:
        index = DropIndexPage(title="Drops", slug="drops", show_in_menus=True)
        HomePage.objects.get(depth=2).add_child(instance=index)
    return index


class DropPageFactory(wagtail_factories.PageFactory):
    """A live drop starting in a day, without an end, limit 1 and no entry window by default.

    ``works=[a, b]`` puts those artworks in the drop, in that order.
    """

    class Meta:
        model = DropPage
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Drop no. {n}")
    slug = factory.LazyAttributeSequence(lambda o, n: f"{slugify(o.title)}-{n}")
    parent = factory.LazyFunction(drop_index)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    ends_at = None
    per_collector_limit = 1
    entry_window_seconds = 0
    curator_text = factory.LazyAttribute(
        lambda o: f"<p>{o.title}: new works, released at once.</p>"
    )
    live = True

    @factory.post_generation
    def works(self, create, extracted, **kwargs):
        if not create or not extracted:
            return
        DropArtwork.objects.bulk_create(
            DropArtwork(page=self, artwork=artwork, sort_order=position)
            for position, artwork in enumerate(extracted)
        )


class DropSubscriptionFactory(factory.django.DjangoModelFactory):
    """A confirmed subscription (``confirmed_at=None`` for one awaiting its confirmation)."""

    class Meta:
        model = DropSubscription

    drop = factory.SubFactory(DropPageFactory)
    email = factory.Sequence(lambda n: f"collector{n}@example.com")
    confirmed_at = factory.LazyFunction(timezone.now)
