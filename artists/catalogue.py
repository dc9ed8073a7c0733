"""Artists in bulk for a large seeded catalogue (``load_demo --artists N``, benchmarks, tests)."""

from __future__ import annotations

import random

from django.utils.text import slugify

from core.bulk_pages import add_children
from core.search_index import bulk_index

from .demo import FIRST_NAMES, LAST_NAMES, PLACES, PRACTICES
from .factories import artist_index
from .models import ArtistPage

SLUG_PREFIX = "catalogue-artist-"


def catalogue_artist(number: int) -> ArtistPage:
    """The catalogue's artist ``number`` (from 1): the same name and facts on every run."""
    rng = random.Random(f"catalogue-artist:{number}")  # noqa: S311 - demo content
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    initial = chr(ord("A") + rng.randrange(26))
    name = f"{first} {initial}. {last}"
    nationality, based_in = rng.choice(PLACES)
    return ArtistPage(
        title=name,
        slug=f"{SLUG_PREFIX}{number}-{slugify(name)}",
        sort_name=f"{last}, {first} {initial}.",
        born=rng.randint(1940, 2000),
        nationality=nationality,
        based_in=based_in,
        short_biography=f"{name} {rng.choice(PRACTICES)}.",
    )


def ensure_artists(total: int) -> int:
    """Make sure at least ``total`` artist pages exist, adding catalogue artists; returns added.

    Idempotent: catalogue artists are numbered by slug, so a second run adds nothing.
    """
    missing = total - ArtistPage.objects.count()
    if missing <= 0:
        return 0
    existing = set(
        ArtistPage.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True)
    )
    wanted: list[ArtistPage] = []
    number = 0
    while len(wanted) < missing:
        number += 1
        page = catalogue_artist(number)
        if page.slug not in existing:
            wanted.append(page)
    pages = add_children(artist_index(), wanted)
    bulk_index(ArtistPage, pages)
    return len(pages)
