"""Demo artists: 24 seeded artists with portraits, biographies and CVs."""

import json
import random
from dataclasses import dataclass

from django.utils.text import slugify

from artworks.models import Medium
from core.factories import ImageFactory

from .factories import artist_index
from .models import ArtistIndexPage, ArtistPage

ORDER = 10
ARTIST_COUNT = 24

FIRST_NAMES = [
    "Ada",
    "Bruno",
    "Camille",
    "Dara",
    "Elif",
    "Felix",
    "Greta",
    "Hiro",
    "Ines",
    "Jonah",
    "Kasia",
    "Lior",
    "Maren",
    "Nadia",
    "Oskar",
    "Priya",
    "Quentin",
    "Rosa",
    "Sami",
    "Tove",
    "Uma",
    "Viktor",
    "Wren",
    "Yusuf",
    "Zofia",
    "Amara",
    "Leon",
    "Noor",
]
LAST_NAMES = [
    "Achterberg",
    "Bellamy",
    "Castellano",
    "Dufresne",
    "Eriksen",
    "Fontaine",
    "Galloway",
    "Hartmann",
    "Ishikawa",
    "Jovanović",
    "Kowalczyk",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinlan",
    "Rasmussen",
    "Sato",
    "Thornbury",
    "Ulloa",
    "Varga",
    "Whitlock",
    "Yilmaz",
    "Zeller",
]
PLACES = [
    ("British", "London, United Kingdom"),
    ("Irish", "Dublin, Ireland"),
    ("French", "Marseille, France"),
    ("German", "Leipzig, Germany"),
    ("Japanese", "Kyoto, Japan"),
    ("Nigerian", "Lagos, Nigeria"),
    ("Danish", "Copenhagen, Denmark"),
    ("Polish", "Kraków, Poland"),
    ("Spanish", "Valencia, Spain"),
    ("American", "Brooklyn, United States"),
    ("Scottish", "Glasgow, United Kingdom"),
    ("Dutch", "Rotterdam, Netherlands"),
]


@dataclass(frozen=True)
class Practice:
    """What an artist makes, as the biography says it, and the media of the works they sell."""

    text: str
    media: tuple[str, ...]


PAINTING = Practice(
    "paints large fields of colour that shift with the light of the room", (Medium.PAINTING,)
)
COLLAGE = Practice(
    "builds geometric compositions from torn paper and pigment", (Medium.MIXED_MEDIA,)
)
PHOTOGRAPHY = Practice("photographs coastlines at the edges of the day", (Medium.PHOTOGRAPHY,))
PRINTMAKING = Practice("makes prints that layer architecture and memory", (Medium.PRINT,))
SCULPTURE = Practice("carves stone and casts bronze in small, tactile forms", (Medium.SCULPTURE,))
DRAWING = Practice("draws with graphite and ink on handmade paper", (Medium.DRAWING,))
TEXTILE = Practice("weaves textiles dyed with plants from the studio garden", (Medium.TEXTILE,))
CERAMICS = Practice(
    "throws and glazes vessels that sit between sculpture and use", (Medium.CERAMICS,)
)
PAINTING_AND_DRAWING = Practice(
    "paints and draws lamp-lit interiors and the streets outside them",
    (Medium.PAINTING, Medium.DRAWING),
)
# The n-th demo artist's practice is PRACTICES[n % len(PRACTICES)]: painters are the most common,
# as paintings are in the catalogue, and every medium has an artist.
PRACTICES = [
    PAINTING,
    PHOTOGRAPHY,
    PRINTMAKING,
    PAINTING_AND_DRAWING,
    SCULPTURE,
    COLLAGE,
    PAINTING,
    DRAWING,
    PRINTMAKING,
    TEXTILE,
    PAINTING_AND_DRAWING,
    CERAMICS,
]


def practice_of(artist: ArtistPage) -> Practice | None:
    """The demo practice an artist's short biography describes (None for a non-demo artist)."""
    return next((p for p in PRACTICES if p.text in (artist.short_biography or "")), None)


VENUES = [
    "Whitechapel Gallery, London",
    "Kunsthalle Basel",
    "Fondation Cartier, Paris",
    "Hepworth Wakefield",
    "Kettle's Yard, Cambridge",
    "MoMA PS1, New York",
    "Louisiana Museum, Humlebæk",
    "Centre Pompidou, Paris",
    "Tate St Ives",
    "Irish Museum of Modern Art, Dublin",
    "Zachęta, Warsaw",
    "Mori Art Museum, Tokyo",
]
AWARDS = [
    "Jerwood Drawing Prize",
    "BP Portrait Award (shortlist)",
    "Paul Hamlyn Award",
    "Gasworks residency",
    "Villa Arson residency",
    "Arts Council England grant",
]
COLLECTIONS = [
    "Arts Council Collection",
    "Government Art Collection",
    "Victoria and Albert Museum",
    "Deutsche Bank Collection",
    "UBS Art Collection",
    "Private collections in Europe and Asia",
]


def artist_names(rng: random.Random) -> list[str]:
    pairs = [(f, last) for f in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(pairs)
    return [f"{first} {last}" for first, last in pairs[:ARTIST_COUNT]]


def artist_index_page(rng: random.Random) -> None:
    index = artist_index()
    if not index.introduction:
        index.introduction = (
            "Painters, photographers, printmakers and sculptors we have met in their studios."
        )
        index.save_revision().publish()


def artists(rng: random.Random) -> None:
    """24 artists, each with a portrait, biography, CV and links."""
    index = ArtistIndexPage.objects.get()
    existing = set(ArtistPage.objects.values_list("slug", flat=True))
    for position, name in enumerate(artist_names(rng)):
        nationality, based_in = rng.choice(PLACES)
        practice = PRACTICES[position % len(PRACTICES)].text
        born = rng.randint(1948, 1998)
        cv = []
        for _ in range(rng.randint(3, 6)):
            cv.append(
                {
                    "type": "exhibition",
                    "value": {
                        "year": rng.randint(max(born + 22, 1990), 2026),
                        "title": rng.choice(
                            [
                                "Quiet Rooms",
                                "Field Notes",
                                "After Light",
                                "Salt and Stone",
                                "Interiors",
                                "Weather Systems",
                            ]
                        )
                        + rng.choice([" (solo)", " (group)"]),
                        "place": rng.choice(VENUES),
                    },
                }
            )
        cv.append(
            {
                "type": "award",
                "value": {
                    "year": rng.randint(2010, 2025),
                    "title": rng.choice(AWARDS),
                    "place": "",
                },
            }
        )
        cv.append(
            {
                "type": "collection",
                "value": {
                    "year": rng.randint(2012, 2025),
                    "title": rng.choice(COLLECTIONS),
                    "place": "",
                },
            }
        )
        cv.sort(key=lambda entry: -entry["value"]["year"])
        slug = slugify(name)
        if slug in existing:
            continue
        portrait = ImageFactory(
            title=f"Portrait: {name}",
            description=f"Studio view of {name}'s work in progress",
            seed=5000 + position,
            width=800,
            height=1000,
        )
        page = ArtistPage(
            title=name,
            slug=slug,
            portrait=portrait,
            born=born,
            nationality=nationality,
            based_in=based_in,
            short_biography=f"{name} {practice}.",
            biography=(
                f"<p>{name} was born in {born} and lives and works in {based_in}. "
                f"{name.split()[0]} {practice}, returning again and again to a few motifs "
                "until they give up something new.</p>"
                "<p>Their work has been shown across Europe and is held in public and private "
                "collections.</p>"
            ),
            cv=json.dumps(cv),
            links=json.dumps(
                [
                    {
                        "type": "link",
                        "value": {"label": "Studio website", "url": f"https://{slug}.example.com"},
                    }
                ]
            ),
        )
        index.add_child(instance=page)
        page.save_revision().publish()


STEPS = [artist_index_page, artists]
