"""Demo artworks: 300 works by the demo artists, unique works and editions, some sold or on request."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

from artists.catalogue import SLUG_PREFIX
from artists.demo import practice_of
from artists.models import ArtistPage
from core.artgen import STYLES
from core.factories import ImageFactory

from .factories import artwork_index
from .models import Artwork, ArtworkImage, ArtworkUnit, Medium

ORDER = 20
ARTWORK_COUNT = 300

ADJECTIVES = [
    "Quiet",
    "Blue",
    "Late",
    "Salt",
    "Northern",
    "Folded",
    "Open",
    "Low",
    "Burnt",
    "Soft",
    "Still",
    "Distant",
    "Red",
    "Pale",
    "Winter",
    "Summer",
    "Iron",
    "Paper",
]
NOUNS = [
    "Field",
    "Horizon",
    "Window",
    "Harbour",
    "Garden",
    "Room",
    "Tide",
    "Wall",
    "Orchard",
    "Meridian",
    "Study",
    "Vessel",
    "Interior",
    "Weather",
    "Shore",
    "Figure",
    "Grid",
    "Bloom",
]
TAGS = [
    "abstract",
    "landscape",
    "colour",
    "minimal",
    "geometric",
    "nature",
    "city",
    "coastal",
    "monochrome",
    "texture",
    "light",
    "botanical",
]
# medium: (materials, edition?, height range cm, price range GBP)
MEDIA = {
    Medium.PAINTING: (
        ["Oil on linen", "Acrylic on canvas", "Oil on board", "Gouache on paper"],
        False,
        (25, 180),
        (600, 18000),
    ),
    Medium.PHOTOGRAPHY: (
        ["Archival pigment print", "C-type print", "Gelatin silver print"],
        True,
        (30, 120),
        (350, 4500),
    ),
    Medium.PRINT: (
        ["Screenprint", "Etching", "Lithograph", "Woodcut"],
        True,
        (30, 90),
        (180, 2200),
    ),
    Medium.SCULPTURE: (
        ["Bronze", "Carved limestone", "Oak and steel"],
        False,
        (15, 120),
        (1500, 24000),
    ),
    Medium.DRAWING: (
        ["Graphite on paper", "Charcoal on paper", "Ink on handmade paper"],
        False,
        (20, 100),
        (300, 5200),
    ),
    Medium.MIXED_MEDIA: (
        ["Collage and acrylic on panel", "Paper, pigment and wax"],
        False,
        (30, 140),
        (700, 9000),
    ),
    Medium.TEXTILE: (
        ["Hand-woven wool and linen", "Plant-dyed cotton"],
        False,
        (40, 200),
        (900, 12000),
    ),
    Medium.CERAMICS: (["Glazed stoneware", "Porcelain"], False, (12, 60), (250, 4000)),
}
MEDIUM_WEIGHTS = [34, 14, 14, 8, 10, 8, 6, 6]


def _medium(rng: random.Random, artist: ArtistPage) -> str:
    """A medium the artist's biography says they work in (any, weighted, for another artist)."""
    practice = practice_of(artist)
    if practice is not None:
        return rng.choice(practice.media)
    return rng.choices(list(MEDIA), weights=MEDIUM_WEIGHTS)[0]


def _spec(rng: random.Random, number: int, artists: list[ArtistPage]) -> dict:
    artist = artists[number % len(artists)]
    medium = _medium(rng, artist)
    materials, edition, (low, high), (p_low, p_high) = MEDIA[medium]
    height = Decimal(rng.randint(low, high))
    shape = rng.choice(["portrait", "landscape", "square"])
    ratio = {"portrait": rng.uniform(0.6, 0.85), "landscape": rng.uniform(1.2, 1.7), "square": 1.0}[
        shape
    ]
    width = Decimal(round(float(height) * ratio))
    title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)}"
    if rng.random() < 0.35:
        title += f" {rng.choice(['I', 'II', 'III', 'IV', 'no. 3', 'no. 7', '(after rain)'])}"
    price = Decimal(round(rng.randint(p_low, p_high), -1))
    return {
        "title": title,
        "slug": slugify(f"{title} {artist.title}")[:200] + f"-{number + 1}",
        "artist": artist,
        "year": rng.randint(2015, 2026),
        "medium": medium,
        "materials": rng.choice(materials),
        "height_cm": height,
        "width_cm": width,
        "depth_cm": Decimal(rng.randint(2, 40))
        if medium in (Medium.SCULPTURE, Medium.CERAMICS)
        else Decimal(rng.choice([2, 3, 4]))
        if medium == Medium.PAINTING
        else None,
        "framed": medium in (Medium.PHOTOGRAPHY, Medium.PRINT, Medium.DRAWING)
        and rng.random() < 0.6,
        "is_edition": edition,
        "edition_size": rng.choice([5, 8, 10, 15, 25]) if edition else 1,
        "signed": rng.random() < 0.85,
        "price_on_request": rng.random() < 0.07,
        "for_sale": rng.random() > 0.03,
        "price": price,
        "tags": rng.sample(TAGS, rng.randint(1, 3)),
        "images": rng.choices([1, 2, 3], weights=[60, 30, 10])[0],
        "sold": rng.random() < 0.18,
        "sold_numbers": rng.randint(0, 4),
        "style": rng.choice(list(STYLES)),
        "seed": 10_000 + number,
        "age_days": rng.randint(0, 400),
    }


def artwork_index_page(rng: random.Random) -> None:
    index = artwork_index()
    if not index.introduction:
        index.introduction = (
            "Original works and signed editions, all available to buy or enquire about."
        )
        index.save_revision().publish()


def artworks(rng: random.Random) -> None:
    """300 artworks with generated images, published with a revision each, as an editor would."""
    # The demo's own artists only: a catalogue grown with --artists must not move its works.
    artists = list(ArtistPage.objects.exclude(slug__startswith=SLUG_PREFIX).order_by("path"))
    existing = set(Artwork.objects.values_list("slug", flat=True))
    now = timezone.now()
    for number in range(ARTWORK_COUNT):
        spec = _spec(rng, number, artists)
        if spec["slug"] in existing:
            continue
        long_side = 1000
        ratio = float(spec["width_cm"] / spec["height_cm"])
        width, height = (
            (long_side, round(long_side / ratio))
            if ratio >= 1
            else (round(long_side * ratio), long_side)
        )
        artwork = Artwork(
            **{
                key: spec[key]
                for key in (
                    "title",
                    "slug",
                    "artist",
                    "year",
                    "medium",
                    "materials",
                    "height_cm",
                    "width_cm",
                    "depth_cm",
                    "framed",
                    "is_edition",
                    "edition_size",
                    "signed",
                    "price_on_request",
                    "for_sale",
                )
            },
            price=None if spec["price_on_request"] else spec["price"],
            framed_height_cm=spec["height_cm"] + 10 if spec["framed"] else None,
            framed_width_cm=spec["width_cm"] + 10 if spec["framed"] else None,
            description=(
                f"<p><em>{spec['title']}</em> by {spec['artist'].title}, {spec['year']}: "
                f"{spec['materials'].lower()}, from the artist's studio.</p>"
            ),
            provenance=f"Acquired directly from the artist's studio, {spec['year']}.",
            live=False,
        )
        artwork.save()
        artwork.tags.add(*spec["tags"])
        for position in range(spec["images"]):
            image = ImageFactory(
                title=f"{spec['title']} ({spec['artist'].title}){' detail' if position else ''}",
                description=f"{spec['title']}: {spec['style']} in {spec['medium'].label.lower()}"
                + (", detail" if position else ""),
                seed=spec["seed"] * 10 + position,
                width=width if not position else 800,
                height=height if not position else 800,
            )
            ArtworkImage.objects.create(
                artwork=artwork,
                image=image,
                sort_order=position,
                caption="Detail" if position else "",
            )
        artwork.save_revision().publish()
        Artwork.objects.filter(pk=artwork.pk).update(
            first_published_at=now - timedelta(days=spec["age_days"])
        )
        if spec["sold"]:
            sold = (
                spec["edition_size"]
                if not spec["is_edition"]
                else min(spec["sold_numbers"] + 1, spec["edition_size"])
            )
            if spec["is_edition"] and number % 11 == 0:
                sold = spec["edition_size"]  # a few editions sold out
            ArtworkUnit.objects.filter(artwork=artwork, number__lte=sold).update(
                sold_at=now - timedelta(days=spec["age_days"] // 2)
            )


STEPS = [artwork_index_page, artworks]
