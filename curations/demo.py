"""Demo collections: the /collections/ index and six curated sets of demo artworks."""

import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone
from wagtail.images import get_image_model

from artworks.models import Artwork, Medium, SizeCategory
from core.factories import ImageFactory

from .factories import collection_index
from .models import ArtworkCollectionPage, CollectionArtwork

ORDER = 30  # after the artists (10) and artworks (20) it draws on
MIN_WORKS = 8
MAX_WORKS = 16


def _new_this_month(works: QuerySet) -> QuerySet:
    return works.filter(first_published_at__gte=timezone.now() - timedelta(days=30))


def _under_1000(works: QuerySet) -> QuerySet:
    return works.filter(
        for_sale=True, price_on_request=False, currency="GBP", price__lt=Decimal(1000)
    )


def _works_on_paper(works: QuerySet) -> QuerySet:
    return works.filter(
        Q(medium__in=[Medium.DRAWING, Medium.PRINT]) | Q(materials__icontains="paper")
    )


def _coastal_light(works: QuerySet) -> QuerySet:
    return works.filter(
        tags__name__in=["coastal", "light"], medium__in=[Medium.PAINTING, Medium.PHOTOGRAPHY]
    ).distinct()


def _large_statement(works: QuerySet) -> QuerySet:
    return works.filter(
        size_category=SizeCategory.LARGE,
        medium__in=[Medium.PAINTING, Medium.TEXTILE, Medium.MIXED_MEDIA],
    )


def _first_editions(works: QuerySet) -> QuerySet:
    return works.filter(
        is_edition=True, signed=True, price_on_request=False, price__lt=Decimal(1500)
    )


@dataclass(frozen=True)
class CollectionSpec:
    slug: str
    title: str
    introduction: str
    curator: str
    select: Callable[[QuerySet], QuerySet]
    hero_seed: int
    hero_alt: str
    body: tuple[str, ...]
    quote: tuple[str, str] | None = None


COLLECTIONS = [
    CollectionSpec(
        slug="new-this-month",
        title="New this month",
        introduction="The works that arrived from the studios in the last few weeks, hung together before they find homes.",
        curator="Ines Moreau",
        select=_new_this_month,
        hero_seed=3001,
        hero_alt="Fresh bands of ochre, teal and cream",
        body=(
            "<p>Every month our curators visit a handful of studios and come back with more than we can show. These are the works we could not stop talking about: new paintings, a first edition or two, and pieces from artists joining ArtSpot for the first time.</p>",
        ),
    ),
    CollectionSpec(
        slug="under-1000",
        title="Under £1,000",
        introduction="Original works and signed editions for less than a thousand pounds, delivered insured and ready to hang.",
        curator="Dara Okafor",
        select=_under_1000,
        hero_seed=3002,
        hero_alt="Small blocks of red, blue and yellow on a pale ground",
        body=(
            "<p>Buying original art does not have to start with a large budget. Every work here is priced below £1,000 and comes with the same certificate of authenticity, insured delivery and 14-day returns as everything else we sell.</p>",
            "<p>Small works reward a close look: hang two or three together, or give one a wall of its own.</p>",
        ),
        quote=(
            "Buy what you love, and live with it a while before you buy the next.",
            "Dara Okafor",
        ),
    ),
    CollectionSpec(
        slug="works-on-paper",
        title="Works on paper",
        introduction="Drawings, prints and gouaches: the most direct record of an artist’s hand, and the easiest place to begin.",
        curator="Maren Lindqvist",
        select=_works_on_paper,
        hero_seed=3003,
        hero_alt="Soft vertical stripes of muted colour on paper",
        body=(
            "<p>Paper holds every hesitation and every confident line. In this selection you will find graphite studies, etchings and screenprints, and gouaches made quickly in the studio between larger works.</p>",
            "<p>We recommend framing works on paper behind UV-filtering glass and hanging them away from direct sunlight; our team can advise on framers near you.</p>",
        ),
    ),
    CollectionSpec(
        slug="coastal-light",
        title="Coastal light",
        introduction="Paintings and photographs made at the edge of the sea, where the light changes by the minute.",
        curator="Tove Eriksen",
        select=_coastal_light,
        hero_seed=3004,
        hero_alt="A low sun over a flat horizon in soft blues and pinks",
        body=(
            "<p>From the north coast of Scotland to the harbours of Marseille, the artists in this collection return again and again to the same stretch of shore. What changes is the light: a grey morning, a bright noon, the last minutes before dusk.</p>",
        ),
        quote=("The sea is never the same twice.", "Tove Eriksen"),
    ),
    CollectionSpec(
        slug="large-statement-pieces",
        title="Large statement pieces",
        introduction="Works over a metre on their longest side, for a wall that deserves a single, confident gesture.",
        curator="Ines Moreau",
        select=_large_statement,
        hero_seed=3005,
        hero_alt="Broad fields of deep red and charcoal across a wide canvas",
        body=(
            "<p>A large work changes a room: it sets the colour, the mood and the scale of everything around it. Each piece here is over 100 cm on its longest side.</p>",
            "<p>Large works ship crated by our art handlers, and we can arrange hanging in London and the South East. Send us a photograph of your wall and we will show you the work in place.</p>",
        ),
    ),
    CollectionSpec(
        slug="editions-to-start-a-collection",
        title="Editions to start a collection",
        introduction="Signed, numbered editions under £1,500: prints and photographs by artists whose unique works sell out.",
        curator="Dara Okafor",
        select=_first_editions,
        hero_seed=3006,
        hero_alt="Overlapping circles and lines in red, black and cream",
        body=(
            "<p>An edition is an original work made in a small, numbered run, signed by the artist. It is often the best way to own a piece by an artist whose paintings are out of reach, and many of our collectors began with one.</p>",
        ),
    ),
]


def _hero_image(spec: CollectionSpec):
    title = f"Demo: Collection, {spec.title}"
    image = get_image_model().objects.filter(title=title).first()
    if image is None:
        image = ImageFactory(
            title=title, description=spec.hero_alt, seed=spec.hero_seed, width=1600, height=800
        )
    return image


def _body(spec: CollectionSpec) -> str:
    blocks = [{"type": "paragraph", "value": html} for html in spec.body]
    if spec.quote:
        quote, attribution = spec.quote
        blocks.append({"type": "quote", "value": {"quote": quote, "attribution": attribution}})
    return json.dumps(blocks)


def collection_index_page(rng: random.Random) -> None:
    index = collection_index()
    if not index.introduction:
        index.introduction = "Themed selections from our curators: a way into the work, whatever your wall or budget."
        index.save_revision().publish()


def collections(rng: random.Random) -> None:
    """Six collections, each of 8 to 16 live works that fit its theme, published by an editor."""
    index = collection_index()
    existing = set(ArtworkCollectionPage.objects.child_of(index).values_list("slug", flat=True))
    public = Artwork.objects.public().order_by("slug")
    for spec in COLLECTIONS:
        if spec.slug in existing:
            continue
        candidates = list(spec.select(public).values_list("pk", flat=True))
        if len(candidates) < MIN_WORKS:
            # Too few matches (a smaller demo): fill up from the rest rather than show a stub.
            rest = [pk for pk in public.values_list("pk", flat=True) if pk not in candidates]
            candidates += rng.sample(rest, min(len(rest), MIN_WORKS - len(candidates)))
        chosen = rng.sample(candidates, min(len(candidates), rng.randint(10, MAX_WORKS)))
        page = ArtworkCollectionPage(
            title=spec.title,
            slug=spec.slug,
            introduction=spec.introduction,
            search_description=spec.introduction[:160],
            curator_name=spec.curator,
            hero_image=_hero_image(spec),
            body=_body(spec),
        )
        page.collection_artworks = [
            CollectionArtwork(artwork_id=pk, sort_order=position)
            for position, pk in enumerate(chosen)
        ]
        index.add_child(instance=page)
        page.save_revision().publish()


STEPS = [collection_index_page, collections]
