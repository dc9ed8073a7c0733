"""A large seeded catalogue in bulk: ``load_demo --artworks 10000 --artists 1000`` in seconds.

The demo's 300 works are made one by one as an editor would (revisions, generated images);
beyond them, :func:`ensure_catalogue` adds works with the same spread of media, sizes, prices,
editions and sales, written with ``bulk_create`` a thousand at a time: works, inventory units,
contributors, tags and gallery links, then the search index in bulk. The works share a pool of
the demo's images (so a big catalogue adds no image files, and the renditions made for the pool
serve every work). Seeded per work number, so a second run adds nothing and the benchmarks and
scale tests get the same catalogue as ``load_demo``.

Skipped, by design: revisions and log entries (no editor made these works; the admin makes a
work's first revision when it is edited) and the reference index (the pool's images are
referenced by the demo's own works already).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from taggit.models import Tag

from artists.catalogue import ensure_artists
from artists.models import ArtistPage
from core.factories import ImageFactory
from core.search_index import bulk_index

from .demo import _spec
from .factories import artwork_index
from .models import Artwork, ArtworkContributor, ArtworkImage, ArtworkTag, ArtworkUnit

CHUNK = 1000
IMAGE_POOL = 300
SLUG_MARK = "-c"  # catalogue slugs end in "-c<number>"

Progress = Callable[[int, int], None]


def catalogue_slug(title: str, number: int) -> str:
    return f"{slugify(title)[:200]}{SLUG_MARK}{number}"


def _image_pool() -> list[int]:
    """Ids of the demo works' first images; a few generated ones when there are none."""
    pool = list(
        ArtworkImage.objects.filter(sort_order=0)
        .order_by("image_id")
        .values_list("image_id", flat=True)
        .distinct()[:IMAGE_POOL]
    )
    if not pool:
        pool = [
            ImageFactory(title=f"Catalogue image {n}", seed=90_000 + n, width=800, height=600).pk
            for n in range(12)
        ]
    return pool


def ensure_catalogue(artworks: int, artists: int, *, progress: Progress | None = None) -> int:
    """At least ``artists`` artist pages and ``artworks`` works, all live; returns works added."""
    ensure_artists(artists)
    missing = artworks - Artwork.objects.count()
    if missing <= 0:
        return 0
    artwork_index()  # the page that serves them
    artist_list = list(ArtistPage.objects.live().order_by("path"))
    if not artist_list:
        raise ValueError("The catalogue needs at least one artist.")
    taken = set(Artwork.objects.values_list("slug", flat=True))
    pool = _image_pool()
    added, number = 0, 0
    while added < missing:
        specs = []
        while len(specs) < min(CHUNK, missing - added):
            number += 1
            rng = random.Random(f"catalogue-artwork:{number}")  # noqa: S311 - demo content
            spec = _spec(rng, number, artist_list)
            spec["slug"] = catalogue_slug(spec["title"], number)
            if spec["slug"] not in taken:
                specs.append((number, spec))
        with transaction.atomic():
            _write_chunk(specs, pool)
        added += len(specs)
        if progress:
            progress(added, missing)
    analyze()
    return added


GROWN_TABLES = (
    "artworks_artwork",
    "artworks_artworkunit",
    "artworks_artworktag",
    "artworks_artworkimage",
    "artworks_artworkcontributor",
    "wagtailcore_page",
    "artists_artistpage",
    "taggit_tag",
    "wagtailsearch_indexentry",
)


def analyze() -> None:
    """Fresh planner statistics for the tables a bulk load grew (PostgreSQL).

    Autovacuum gets there in a minute or so; until then the planner takes 10,000 works for a
    few dozen and picks plans that read the whole inventory (a browse page's cards: 13 ms of
    SQL instead of 2).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(GROWN_TABLES)}")


def _write_chunk(specs: list[tuple[int, dict]], pool: list[int]) -> None:
    now = timezone.now()
    works = []
    for _, spec in specs:
        published = now - timedelta(days=spec["age_days"], minutes=spec["seed"] % 1440)
        work = Artwork(
            title=spec["title"],
            slug=spec["slug"],
            artist=spec["artist"],
            year=spec["year"],
            medium=spec["medium"],
            materials=spec["materials"],
            height_cm=spec["height_cm"],
            width_cm=spec["width_cm"],
            depth_cm=spec["depth_cm"],
            framed=spec["framed"],
            framed_height_cm=spec["height_cm"] + 10 if spec["framed"] else None,
            framed_width_cm=spec["width_cm"] + 10 if spec["framed"] else None,
            is_edition=spec["is_edition"],
            edition_size=spec["edition_size"],
            signed=spec["signed"],
            price_on_request=spec["price_on_request"],
            for_sale=spec["for_sale"],
            price=None if spec["price_on_request"] else spec["price"],
            description=(
                f"<p><em>{spec['title']}</em> by {spec['artist'].title}, {spec['year']}: "
                f"{spec['materials'].lower()}, from the artist's studio.</p>"
            ),
            provenance=f"Acquired directly from the artist's studio, {spec['year']}.",
            live=True,
            has_unpublished_changes=False,
            first_published_at=published,
            last_published_at=published,
        )
        work.orientation = work._orientation()
        work.size_category = work._size_category()
        works.append(work)
    Artwork.objects.bulk_create(works)

    tags = {tag.name: tag for tag in Tag.objects.filter(name__in=_tag_names(specs))}
    for name in _tag_names(specs) - set(tags):
        tags[name] = Tag.objects.create(name=name, slug=slugify(name))
    units, images, tag_rows, contributors = [], [], [], []
    for (number, spec), work in zip(specs, works, strict=True):
        sold = 0
        if spec["sold"]:
            sold = (
                min(spec["sold_numbers"] + 1, spec["edition_size"])
                if spec["is_edition"]
                else spec["edition_size"]
            )
            if spec["is_edition"] and number % 11 == 0:
                sold = spec["edition_size"]
        sold_at = now - timedelta(days=spec["age_days"] // 2)
        units += [
            ArtworkUnit(artwork=work, number=n, sold_at=sold_at if n <= sold else None)
            for n in range(1, work.unit_count + 1)
        ]
        images.append(ArtworkImage(artwork=work, image_id=pool[number % len(pool)], sort_order=0))
        tag_rows += [ArtworkTag(content_object=work, tag=tags[name]) for name in spec["tags"]]
        contributors.append(
            ArtworkContributor(artwork=work, artist=spec["artist"], role="artist", sort_order=0)
        )
    ArtworkUnit.objects.bulk_create(units)
    ArtworkImage.objects.bulk_create(images)
    ArtworkTag.objects.bulk_create(tag_rows)
    ArtworkContributor.objects.bulk_create(contributors)
    indexed = list(
        Artwork.objects.filter(pk__in=[w.pk for w in works])
        .select_related("artist")
        .prefetch_related("tags")
    )
    bulk_index(Artwork, indexed)


def _tag_names(specs: list[tuple[int, dict]]) -> set[str]:
    return {name for _, spec in specs for name in spec["tags"]}
