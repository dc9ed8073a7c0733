"""Demo stories: eight studio visits, interviews and collecting guides that shop live demo works."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import timedelta

from django.core.files.base import ContentFile
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.text import Truncator

from artists.models import ArtistPage
from artworks.models import Artwork, Medium
from core.artgen import compose
from core.factories import ImageFactory

from .factories import (
    artwork_block,
    artwork_grid,
    heading,
    image,
    paragraph,
    quote,
    story_index,
)
from .models import StoryIndexPage, StoryPage, StoryRelatedArtist

ORDER = 40  # after artists (10) and artworks (20); before the home page (90)

# The generated hero's style, with alt text that describes it.
HERO_STYLES = {
    "colour field": "Broad bands of colour laid across a pale ground",
    "geometric": "Circles, bars and triangles scattered across a plain ground",
    "stripes": "Vertical stripes of colour side by side",
    "horizon": "A low sun over a flat horizon under a graded sky",
}
AUTHORS = ["Isobel Crane", "Tomás Reyes", "Margot Ellery", "Kwame Asante"]


def story_index_page(rng: random.Random) -> None:
    index = story_index()
    if not index.introduction:
        index.introduction = (
            "Studio visits, conversations with artists and plain-spoken guides to collecting, "
            "from the ArtSpot editors."
        )
        index.save_revision().publish()


# --- Choosing artists and works -------------------------------------------------------------------


def _first(artist: ArtistPage) -> str:
    return artist.title.split()[0]


def _city(artist: ArtistPage) -> str:
    return artist.based_in.split(",")[0] if artist.based_in else "their city"


def _artist(practice: str, medium: str, exclude: list[ArtistPage]) -> ArtistPage:
    """An artist whose biography mentions ``practice``, else the one with most works in ``medium``."""
    artists = (
        ArtistPage.objects.live()
        .exclude(pk__in=[a.pk for a in exclude])
        .annotate(
            in_medium=Count(
                "artworks", filter=Q(artworks__live=True, artworks__medium=medium), distinct=True
            )
        )
        .order_by("-in_medium", "path")
    )
    return artists.filter(short_biography__icontains=practice).first() or artists.first()


def _public_works(**filters) -> list[Artwork]:
    return list(
        Artwork.objects.public()
        .with_availability()
        .select_related("artist")
        .filter(**filters)
        .order_by("pk")
    )


def _pick(rng: random.Random, works: list[Artwork], count: int) -> list[Artwork]:
    """Up to ``count`` works, by as many different artists as possible, mostly available."""
    works = list(works)
    rng.shuffle(works)
    works.sort(key=lambda work: work.availability_rank > 1)  # available and on hold first
    chosen, artists = [], set()
    for work in works:
        if len(chosen) < count and work.artist_id not in artists:
            chosen.append(work)
            artists.add(work.artist_id)
    for work in works:
        if len(chosen) < count and work not in chosen:
            chosen.append(work)
    return chosen


def _feature_and_grid(
    rng: random.Random, works: list[Artwork], count: int, medium: str | None = None
) -> tuple[Artwork, list[Artwork]]:
    """One work to show on its own (in ``medium`` if possible) and up to ``count`` others."""
    preferred = [work for work in works if work.medium == medium] or works
    featured = _pick(rng, preferred, 1)[0]
    return featured, _pick(rng, [work for work in works if work.pk != featured.pk], count)


def _artists_of(works: list[Artwork], limit: int = 4) -> list[ArtistPage]:
    seen: dict[int, ArtistPage] = {}
    for work in works:
        seen.setdefault(work.artist_id, work.artist)
    return list(seen.values())[:limit]


# --- The stories ----------------------------------------------------------------------------------
# Each builder returns the story's fields; ``stories`` below skips slugs that exist already.


def _studio_painter(rng: random.Random, used: list[ArtistPage]) -> dict:
    artist = _artist("fields of colour", Medium.PAINTING, used)
    first, city = _first(artist), _city(artist)
    featured, works = _feature_and_grid(rng, _public_works(artist=artist), 6, Medium.PAINTING)
    return {
        "slug": "a-morning-in-the-studio",
        "title": f"A morning in {artist.title}’s studio",
        "tags": ["studio visit", "painting", "colour"],
        "introduction": f"We spent a morning with {artist.title} in {city}, among stretched "
        "canvases, jars of pigment and a radio tuned permanently to the shipping forecast.",
        "artists": [artist],
        "body": [
            paragraph(
                f"<p>{first}’s studio is on the second floor of a former textile warehouse in "
                f"{city}. The windows face north, and that is the first thing {first} mentions "
                "when we arrive. “The light hardly moves. I can work all day on one colour "
                "without it changing under me.”</p>"
                f"<p>{first} is best known for large fields of colour, but the studio tells a "
                "wider story. Drawings are pinned along one wall, prints hang drying on a line "
                "by the window and small objects crowd the sills. “Everything feeds the colour,” "
                f"{first} says. “A print or a carving will teach me something a canvas won’t.”</p>"
            ),
            heading("Slow layers"),
            paragraph(
                "<p>Nothing here is quick. A work may gather twenty or thirty layers over several "
                "months, or be set aside for a season and taken up again. Some are scraped back "
                "and begun from scratch. What you see is the last of many decisions, and you can "
                "feel the earlier ones underneath it when you stand close.</p>"
            ),
            artwork_block(
                featured,
                caption=f"Finished the week before our visit: the first work {first} turned round "
                "to show us.",
            ),
            quote("I stop when a work starts telling me what to do.", artist.title),
            paragraph(
                f"<p>Between sessions {first} walks. The route rarely changes – along the canal, "
                "over the railway bridge, back past the market – and the colours in the "
                "studio often come from it: a rusted shutter, a wet pavement, a lorry’s "
                "tarpaulin against a grey sky.</p>"
            ),
            *(
                [image(artist.portrait, caption=f"The studio wall in {city}.")]
                if artist.portrait
                else []
            ),
            artwork_grid("Works from the studio", works),
        ],
    }


def _editions_guide(rng: random.Random, used: list[ArtistPage]) -> dict:
    editions = _public_works(is_edition=True, price_on_request=False, price__lte=1500)
    featured, works = _feature_and_grid(rng, editions, 6, Medium.PHOTOGRAPHY)
    return {
        "slug": "collecting-editions-a-beginners-guide",
        "title": "A beginner’s guide to collecting editions",
        "tags": ["collecting guide", "editions", "prints", "photography"],
        "introduction": "Prints and photographs are where many collections begin. Here is what "
        "the numbers in the corner mean, and what to ask before you buy.",
        "artists": _artists_of([featured, *works]),
        "body": [
            paragraph(
                "<p>An edition is a set of identical works made from the same matrix: a plate, a "
                "block, a screen or a negative. The artist decides how many will ever be made, "
                "signs and numbers each one, and then the matrix is retired. That fixed number is "
                "what separates an edition from a poster.</p>"
            ),
            heading("Reading the numbers"),
            paragraph(
                "<p>A print marked <em>7/25</em> is the seventh of twenty-five. The number is "
                "about record-keeping, not quality: in a well-printed edition the first and the "
                "last are the same. You may also see <em>AP</em> (artist’s proof), a small number "
                "of impressions kept outside the edition, traditionally by the artist.</p>"
                "<ul><li><strong>Edition size</strong>: smaller editions are rarer, and usually "
                "cost more.</li><li><strong>Signature</strong>: in pencil, below the image, on "
                "almost every fine-art print.</li><li><strong>Certificate</strong>: every edition "
                "on ArtSpot comes with one, listing the edition number and the paper.</li></ul>"
            ),
            artwork_block(
                featured,
                caption=f"{featured.edition_label}, "
                + ("signed and numbered by the artist." if featured.signed else "numbered."),
            ),
            heading("What to ask before you buy"),
            paragraph(
                "<p>Ask what paper was used, whether the work will arrive framed or flat, and how "
                "many of the edition remain. Many artists raise the price as an edition sells, "
                "so the last few numbers often cost more than the first.</p>"
            ),
            quote(
                "Buy the print you still think about a week later. That is the whole secret.",
                "Margot Ellery, ArtSpot curator",
            ),
            artwork_grid("Editions to start with", works),
        ],
    }


def _interview(rng: random.Random, used: list[ArtistPage]) -> dict:
    artist = _artist("torn paper", Medium.MIXED_MEDIA, used)
    first, city = _first(artist), _city(artist)
    featured, works = _feature_and_grid(rng, _public_works(artist=artist), 4)
    return {
        "slug": "interview-colour-patience-and-knowing-when-to-stop",
        "title": f"{artist.title} on colour, patience and knowing when to stop",
        "tags": ["interview", "mixed media", "colour"],
        "introduction": f"{artist.title} talks to us about working from {city}, the discipline "
        "of throwing things away, and why the best days in the studio are often the quiet ones.",
        "artists": [artist],
        "body": [
            paragraph(
                f"<p>We met {first} the week after a new body of work left the studio. What "
                "follows has been edited for length.</p>"
            ),
            heading("How does a new work begin?", "h3"),
            paragraph(
                "<p>“Usually with something I’ve kept. A scrap of paper, a colour card, a "
                "photograph of a wall. I pin things up and live with them for a while. If I "
                "still want to look at them after a month, they earn a place in a work.”</p>"
            ),
            heading("You destroy a lot of work. Why?", "h3"),
            paragraph(
                "<p>“Because most of it isn’t good enough, and I’d rather decide that than let a "
                "collector find out. I keep maybe one piece in four. The rest gets torn up and "
                "some of it comes back as material for the next thing.”</p>"
            ),
            artwork_block(
                featured, caption=f"{first} calls this one “the piece that nearly didn’t survive”."
            ),
            heading("What do you hope people feel in front of your work?", "h3"),
            paragraph(
                "<p>“That they’ve slowed down. Everything else in a room is asking for "
                "attention. I’d like the work on the wall to be the thing that lets you stop "
                "for a minute.”</p>"
            ),
            quote(
                "Colour is the last thing I decide and the first thing people notice.", artist.title
            ),
            artwork_grid(f"More by {artist.title}", works),
        ],
    }


def _salon_wall(rng: random.Random, used: list[ArtistPage]) -> dict:
    small = _public_works(size_category="small")
    works = _pick(rng, small, 8)
    return {
        "slug": "how-to-hang-a-salon-wall",
        "title": "How to hang a salon wall",
        "tags": ["collecting guide", "hanging", "small works"],
        "introduction": "A wall of small works, hung close together, can be the most personal "
        "thing in a home. Our art handlers share how they plan one.",
        "artists": _artists_of(works, limit=6),
        "body": [
            paragraph(
                "<p>The salon hang takes its name from the Paris Salon, where paintings were "
                "stacked from the skirting to the ceiling. At home it works best on a smaller "
                "scale: eight to fifteen works of different sizes, gathered around a strong "
                "centre.</p>"
            ),
            heading("Plan on the floor first"),
            paragraph(
                "<p>Lay the works out on the floor and move them until the group feels balanced. "
                "Then cut a sheet of brown paper for each, mark where the hook goes, and tape the "
                "sheets to the wall. You can live with the layout for a day before you put a "
                "single nail in the plaster.</p>"
                "<ul><li>Keep the gaps between frames even: 5 to 8 cm is a good start.</li>"
                "<li>Hang the centre of the group at about 150 cm from the floor.</li>"
                "<li>Mix frames and unframed works, but repeat a colour or a material so the "
                "wall holds together.</li></ul>"
            ),
            quote(
                "Start with the piece you love most and build outwards. The wall will tell you "
                "when it is finished.",
                "Tomás Reyes, ArtSpot art handler",
            ),
            paragraph(
                "<p>Small works are also the easiest way to begin a collection: they cost less, "
                "they ship quickly, and they move with you from one home to the next.</p>"
            ),
            artwork_grid("Eight small works for a salon wall", works),
        ],
    }


def _drawing(rng: random.Random, used: list[ArtistPage]) -> dict:
    drawings = _public_works(medium=Medium.DRAWING)
    artist = _artist("graphite and ink", Medium.DRAWING, used)
    featured, _ = _feature_and_grid(rng, _public_works(artist=artist), 0, Medium.DRAWING)
    works = _pick(rng, [work for work in drawings if work.pk != featured.pk], 6)
    return {
        "slug": "works-on-paper-why-drawing-still-matters",
        "title": "Works on paper: why drawing still matters",
        "tags": ["works on paper", "drawing"],
        "introduction": "Drawing is the most direct record of an artist’s hand. It is also one of "
        "the most rewarding, and affordable, places to collect.",
        "artists": [artist, *[a for a in _artists_of(works) if a.pk != artist.pk]][:4],
        "body": [
            paragraph(
                "<p>For centuries drawing was treated as preparation, the thinking done before "
                "the real work. Many artists now see it the other way round. A drawing keeps "
                "every hesitation and correction; nothing is hidden under another layer.</p>"
            ),
            heading("Looking closely"),
            paragraph(
                "<p>Look at the edges of a line: where the pressure changes, where the graphite "
                "skips over the tooth of the paper, where an ink line has been allowed to "
                "bleed. These are the moments a reproduction cannot carry.</p>"
            ),
            artwork_block(
                featured,
                caption=f"{featured.artist.title} works at a table by the window, on paper "
                "made by hand in small batches.",
            ),
            heading("Caring for works on paper"),
            paragraph(
                "<p>Frame drawings behind UV-filtering glass with an acid-free mount, and hang "
                "them away from direct sun and radiators. Treated like this, a drawing will "
                "outlast all of us.</p>"
            ),
            artwork_grid("Drawings on ArtSpot now", works),
        ],
    }


def _sculpture_at_home(rng: random.Random, used: list[ArtistPage]) -> dict:
    objects = _public_works(medium__in=[Medium.SCULPTURE, Medium.CERAMICS])
    featured, works = _feature_and_grid(rng, objects, 6)
    return {
        "slug": "living-with-sculpture-and-ceramics",
        "title": "Living with sculpture and ceramics",
        "tags": ["collecting guide", "sculpture", "ceramics"],
        "introduction": "Objects change as you walk around them. Where to put a sculpture, how "
        "to light it, and why a vessel on a windowsill can hold a whole room.",
        "artists": _artists_of([featured, *works]),
        "body": [
            paragraph(
                "<p>A painting asks you to stand in front of it. A sculpture lets you move: its "
                "outline shifts with every step, and the light across its surface changes "
                "through the day. That is the pleasure of living with one, and the reason "
                "placement matters.</p>"
            ),
            heading("Give it room"),
            paragraph(
                "<p>Place a work where you can see it from at least two sides. A shelf in an "
                "alcove, a low table, the end of a hallway where you approach it head-on: each "
                "gives the work a different character.</p>"
                "<ul><li>Side light from a window shows texture best.</li><li>Heavy pieces "
                "belong on a plinth or a solid table, never a floating shelf.</li><li>Glazed "
                "ceramics are happy in kitchens and bathrooms; bare bronze prefers a dry "
                "room.</li></ul>"
            ),
            artwork_block(
                featured, caption="Photographed in daylight, as it will look on a shelf at home."
            ),
            quote(
                "The best place for a small sculpture is wherever your hand reaches for it.",
                "Kwame Asante, ArtSpot editor",
            ),
            artwork_grid("Sculpture and ceramics to live with", works),
        ],
    }


def _photographer(rng: random.Random, used: list[ArtistPage]) -> dict:
    artist = _artist("coastlines", Medium.PHOTOGRAPHY, used)
    first, city = _first(artist), _city(artist)
    featured, works = _feature_and_grid(rng, _public_works(artist=artist), 6, Medium.PHOTOGRAPHY)
    return {
        "slug": "edges-of-the-day-on-the-coast",
        "title": f"Edges of the day: on the coast with {artist.title}",
        "tags": ["studio visit", "photography", "landscape"],
        "introduction": f"{artist.title} works in the half hour before sunrise and the half "
        "hour after sunset. We went along, with a flask of coffee and very cold hands.",
        "artists": [artist],
        "body": [
            paragraph(
                f"<p>We meet {first} in the dark, an hour’s drive from {city}, beside a car park "
                "that is empty apart from a fishing van. The tripod is already up. “If you "
                "arrive when the light starts,” {first} says, “you’ve missed it.”</p>"
            ),
            heading("Waiting for nothing to happen"),
            paragraph(
                "<p>Most of the morning is waiting. The sea goes from black to slate to a pale, "
                "milky grey, and the horizon appears and disappears. Exposures are long – "
                "thirty seconds, sometimes several minutes – so the water smooths into a flat "
                "plane and anything that moves vanishes.</p>"
            ),
            artwork_block(
                featured, caption="Made over a winter on the stretch of coast we visited."
            ),
            quote(
                "I’m not photographing the sea. I’m photographing the time it takes.", artist.title
            ),
            paragraph(
                "<p>Back in the studio, the photographs are printed in small editions on cotton "
                f"rag paper. {first} proofs each one against the last, adjusting by fractions "
                "until the greys sit exactly right. The same notes feed the paintings and "
                "drawings made over the winter, which share the photographs’ palette of slate, "
                "salt and pale light.</p>"
            ),
            artwork_grid(f"Works by {artist.title}", works),
        ],
    }


def _first_painting(rng: random.Random, used: list[ArtistPage]) -> dict:
    paintings = _public_works(medium=Medium.PAINTING, price_on_request=False, price__lte=3000)
    featured, works = _feature_and_grid(rng, paintings, 6)
    return {
        "slug": "buying-your-first-original-painting",
        "title": "Buying your first original painting",
        "tags": ["collecting guide", "painting"],
        "introduction": "You don’t need to be an expert, or rich, to own an original painting. "
        "Five things we tell every first-time collector.",
        "artists": _artists_of([featured, *works]),
        "body": [
            heading("1. Start with what stops you"),
            paragraph(
                "<p>Ignore what you think you ought to like. Scroll, visit, look – and notice "
                "which work you come back to. That pull is the most reliable guide there is.</p>"
            ),
            heading("2. Measure the wall, then measure it again"),
            paragraph(
                "<p>Note the width of the wall and of any furniture beneath it. A painting "
                "usually looks best at around two-thirds of the width of a sofa or sideboard. "
                "Every work on ArtSpot has a ‘view in a room’ drawing to help.</p>"
            ),
            artwork_block(
                featured, caption="A good size for above a sideboard or a narrow hallway wall."
            ),
            heading("3. Set a budget, and keep a little back"),
            paragraph(
                "<p>Original paintings on ArtSpot start at a few hundred pounds. Keep something "
                "back for framing if the work is on paper, and for a good picture light if "
                "you’ll mostly see it in the evening.</p>"
            ),
            heading("4. Ask questions"),
            paragraph(
                "<p>Use the enquiry form on any work. Our team can send more photographs, a "
                "video in daylight or notes from the artist, and will reply within one working "
                "day.</p>"
            ),
            heading("5. Live with it"),
            paragraph(
                "<p>If the painting isn’t right once it is on your wall, you can return it within "
                "14 days. Most people find it is right.</p>"
            ),
            artwork_grid("Original paintings under £3,000", works),
        ],
    }


BUILDERS: list[tuple[int, Callable[[random.Random, list[ArtistPage]], dict]]] = [
    # (days ago, builder): the newest story first.
    (3, _studio_painter),
    (10, _editions_guide),
    (18, _interview),
    (27, _salon_wall),
    (39, _drawing),
    (52, _sculpture_at_home),
    (66, _photographer),
    (81, _first_painting),
]


def stories(rng: random.Random) -> None:
    """Eight stories with hero images, tags, related artists and works to shop, each published."""
    index = StoryIndexPage.objects.get()
    existing = set(StoryPage.objects.values_list("slug", flat=True))
    today = timezone.localdate()
    used: list[ArtistPage] = []  # one artist per studio visit or interview
    for position, (days_ago, builder) in enumerate(BUILDERS):
        spec = builder(rng, used)
        used.extend(spec["artists"][:1])
        if spec["slug"] in existing:
            continue
        style, alt = rng.choice(list(HERO_STYLES.items()))
        seed = 7000 + position
        hero = ImageFactory(
            title=f"Story: {spec['title']}",
            description=alt,
            file=ContentFile(compose(seed, 1600, 900, style=style), name=f"story-{seed}.jpg"),
        )
        page = StoryPage(
            title=spec["title"],
            slug=spec["slug"],
            author=AUTHORS[position % len(AUTHORS)],
            date=today - timedelta(days=days_ago),
            hero_image=hero,
            introduction=spec["introduction"],
            search_description=Truncator(spec["introduction"]).chars(160),
            body=json.dumps(spec["body"]),
        )
        page.tags.add(*spec["tags"])
        page.related_artists = [
            StoryRelatedArtist(artist=artist, sort_order=order)
            for order, artist in enumerate(spec["artists"])
        ]
        index.add_child(instance=page)
        page.save_revision().publish()


STEPS = [story_index_page, stories]
