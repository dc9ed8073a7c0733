"""Demo drops: the /drops/ index, one drop on sale now, one opening in a day, one in minutes.

So that a newcomer always sees every state, and a drop opening, every run of the loader (each
``make run``) moves the dates again when the clock has overtaken them: the live drop is kept live
(it started a day ago and ends a week from now), the upcoming drop, once its start has passed, is
moved to a day from now, and the drop "opening soon" to a few minutes from now (``SOON_LEAD``: the
time it takes to start the server and look around). Each run that moves a drop publishes a new
revision, as an editor would; a run that finds the dates still right changes nothing.

Each drop gets its own new works (so the demo catalogue's other works stay on sale as they are),
by artists whose practice is the drop's medium: unique paintings in the upcoming drop, drawings in
the one opening soon, a release of edition prints in the live one.
The home page embeds the upcoming drop at the top of its body; that is why this step runs after
the home page's own demo step (``ORDER`` 95, after 90), which writes the body from scratch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify
from wagtail.images import get_image_model

from artists.demo import practice_of
from artists.models import ArtistPage
from artworks.models import Artwork, ArtworkImage, Medium
from core.factories import ImageFactory
from home.models import HomePage

from .factories import drop_index
from .models import DropArtwork, DropPage, DropStatus

ORDER = 95  # after artists (10) and artworks (20), and after the home page (90) it embeds into
UPCOMING_LEAD = timedelta(days=1)
SOON_LEAD = timedelta(minutes=4)


@dataclass(frozen=True)
class DropSpec:
    slug: str
    title: str
    curator_text: str
    hero_seed: int
    hero_alt: str
    titles: tuple[str, ...]
    medium: str
    materials: tuple[str, ...]
    price_range: tuple[int, int]
    edition_sizes: tuple[int, ...] = ()
    per_collector_limit: int = 1


LIVE = DropSpec(
    slug="paper-weather",
    title="Paper Weather: new editions",
    curator_text=(
        "<p>Eight printmakers spent the spring in the studio with the same question: how do you hold a change in the weather on a sheet of paper? The answers are screenprints, etchings and woodcuts in small, signed editions, released together for one week.</p>"
        "<p>Each collector may buy two of each edition. — <i>Maren Lindqvist, curator</i></p>"
    ),
    hero_seed=5101,
    hero_alt="Layered bands of grey, blue and ochre like a sky before rain",
    titles=(
        "Front Moving In",
        "Squall Line",
        "After the Rain, Harbour",
        "Barometer",
        "Sea Fret",
        "Cloud Study no. 4",
        "Low Pressure",
        "Clearing",
    ),
    medium=Medium.PRINT,
    materials=("Screenprint", "Etching", "Woodcut", "Lithograph"),
    price_range=(180, 850),
    edition_sizes=(10, 15, 20, 25),
    per_collector_limit=2,
)

UPCOMING = DropSpec(
    slug="night-studio",
    title="Night Studio: paintings after dark",
    curator_text=(
        "<p>Some painters work best when the building is empty. These unique works were all made between dusk and the small hours: lamp-lit interiors, windows onto dark streets, the studio itself as a subject.</p>"
        "<p>One of each, one per collector, released at the same second for everyone. — <i>Ines Moreau, curator</i></p>"
    ),
    hero_seed=5201,
    hero_alt="Deep indigo and amber shapes, like a lit window at night",
    titles=(
        "Lamp and Easel",
        "Blue Hour Interior",
        "Window, 2 a.m.",
        "Turpentine Moon",
        "The Studio Sleeps",
        "Night Shift",
        "Street Light on Linen",
    ),
    medium=Medium.PAINTING,
    materials=("Oil on linen", "Acrylic on canvas", "Oil on board"),
    price_range=(900, 6500),
)

SOON = DropSpec(
    slug="first-light-drawings",
    title="First Light: drawings before breakfast",
    curator_text=(
        "<p>Five artists who draw every morning before the day starts sent us what they made in one week of early starts: graphite, charcoal and ink on paper, each one unique.</p>"
        "<p>One of each, one per collector, released at the same second for everyone. — <i>Maren Lindqvist, curator</i></p>"
    ),
    hero_seed=5301,
    hero_alt="Fine grey lines on warm white paper, like a field at dawn",
    titles=(
        "Kettle, 6 a.m.",
        "Frost on the Sill",
        "First Bus",
        "Sleeping Cat",
        "Garden in Fog",
        "Ink Sunrise",
    ),
    medium=Medium.DRAWING,
    materials=("Graphite on paper", "Charcoal on paper", "Ink on handmade paper"),
    price_range=(300, 2400),
)
# Most to least advanced: the live drop, the one opening in minutes, the one opening in a day.
SPECS = (LIVE, SOON, UPCOMING)


def _hero(spec: DropSpec):
    title = f"Demo: Drop, {spec.title}"
    image = get_image_model().objects.filter(title=title).first()
    if image is None:
        image = ImageFactory(
            title=title, description=spec.hero_alt, seed=spec.hero_seed, width=1600, height=900
        )
    return image


def _works(spec: DropSpec, rng: random.Random) -> list[Artwork]:
    """The drop's own works, published, none sold (found again by slug on later runs)."""
    artists = list(ArtistPage.objects.live().order_by("path"))
    # Artists who make this medium, as their biographies say (all artists when none does).
    makers = [a for a in artists if (p := practice_of(a)) and spec.medium in p.media] or artists
    chosen_artists = rng.sample(makers, min(3, len(makers)))
    works = []
    for number, title in enumerate(spec.titles, start=1):
        artist = chosen_artists[number % len(chosen_artists)]
        slug = slugify(f"{spec.slug} {number} {title}")
        existing = Artwork.objects.filter(slug=slug).first()
        if existing is not None:
            works.append(existing)
            continue
        height = Decimal(rng.randint(30, 90))
        width = Decimal(round(float(height) * rng.choice([0.75, 1.0, 1.33])))
        low, high = spec.price_range
        is_edition = bool(spec.edition_sizes)
        artwork = Artwork(
            title=title,
            slug=slug,
            artist=artist,
            year=timezone.now().year,
            medium=spec.medium,
            materials=rng.choice(spec.materials),
            height_cm=height,
            width_cm=width,
            depth_cm=Decimal(3) if spec.medium == Medium.PAINTING else None,
            is_edition=is_edition,
            edition_size=rng.choice(spec.edition_sizes) if is_edition else 1,
            signed=True,
            price=Decimal(round(rng.randint(low, high), -1)),
            description=(
                f"<p>{title} is a {spec.medium.label.lower()} by {artist.title}, "
                f"released in the drop “{spec.title}”.</p>"
            ),
            provenance="From the artist's studio, released through ArtSpot.",
            live=False,
        )
        artwork.save()
        long_side = 800
        ratio = float(width / height)
        size = (
            (long_side, round(long_side / ratio))
            if ratio >= 1
            else (round(long_side * ratio), long_side)
        )
        image = ImageFactory(
            title=f"{title} ({artist.title})",
            description=f"{title}: {spec.hero_alt.lower()}",
            seed=spec.hero_seed * 10 + number,
            width=size[0],
            height=size[1],
        )
        ArtworkImage.objects.create(artwork=artwork, image=image, sort_order=0)
        artwork.save_revision().publish()
        works.append(artwork)
    return works


def _dates(spec: DropSpec, now) -> tuple:
    if spec is LIVE:
        return now - timedelta(days=1), now + timedelta(days=7)
    starts_at = (now + (SOON_LEAD if spec is SOON else UPCOMING_LEAD)).replace(microsecond=0)
    return starts_at, starts_at + timedelta(days=14)


def _wanted_status(spec: DropSpec) -> str:
    return DropStatus.LIVE if spec is LIVE else DropStatus.UPCOMING


def drop_index_page(rng: random.Random) -> None:
    index = drop_index()
    if not index.introduction:
        index.introduction = (
            "Timed releases: new works that go on sale at the same second for everyone. "
            "Ask for a reminder and we will email you before each one opens."
        )
        index.save_revision().publish()


def drops(rng: random.Random) -> None:
    """A live drop of prints, drawings opening in minutes, paintings in a day; dates kept current."""
    index = drop_index()
    now = timezone.now()
    for spec in SPECS:
        page = DropPage.objects.child_of(index).filter(slug=spec.slug).first()
        if page is None:
            works = _works(spec, rng)
            starts_at, ends_at = _dates(spec, now)
            page = DropPage(
                title=spec.title,
                slug=spec.slug,
                curator_text=spec.curator_text,
                hero_image=_hero(spec),
                starts_at=starts_at,
                ends_at=ends_at,
                per_collector_limit=spec.per_collector_limit,
                show_prices_before_start=spec is LIVE,
                search_description=spec.curator_text.split("</p>")[0][3:160],
            )
            page.drop_artworks = [
                DropArtwork(artwork=work, sort_order=position)
                for position, work in enumerate(works)
            ]
            index.add_child(instance=page)
            page.save_revision().publish()
        elif page.status_at(now) != _wanted_status(spec):
            page.starts_at, page.ends_at = _dates(spec, now)
            page.save_revision().publish()


def home_page_embed(rng: random.Random) -> None:
    """Put the upcoming drop, with its countdown, at the top of the home page (once)."""
    home = HomePage.objects.get(depth=2)
    if any(block.block_type == "upcoming_drop" for block in home.body):
        return
    upcoming = DropPage.objects.filter(slug=UPCOMING.slug).first()
    if upcoming is None:
        return
    home.body.insert(0, ("upcoming_drop", {"drop": upcoming, "heading": "The next drop"}))
    home.save_revision().publish()


STEPS = [drop_index_page, drops, home_page_embed]
