"""The rules for reading what people typed: names, dates, dimensions, media.

Pure functions, no database: each rule is the issue's rule, written once (see docs/imports.md).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from artworks.models import Medium

TENTH = Decimal("0.1")


# A comma outside brackets: "The Leach Pottery (St. Ives, UK)" has none.
TOP_LEVEL_COMMA_RE = re.compile(r",(?![^()]*\))")


# --- names --------------------------------------------------------------------------------------
def display_name(source_name: str) -> str:
    """ "Blake, William" -> "William Blake"; "Moore, Henry, OM, CH" -> "Henry Moore, OM, CH".

    A name without a comma (a single name, a collective, a school) is shown as written.
    """
    parts = [part.strip() for part in TOP_LEVEL_COMMA_RE.split(source_name.strip())]
    if len(parts) < 2 or not parts[0] or not parts[1]:
        return source_name.strip()
    return ", ".join([f"{parts[1]} {parts[0]}", *[p for p in parts[2:] if p]])


def name_key(name: str) -> str:
    """Accent-free, case-folded, single-spaced: how artists of two sources are compared."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


# --- dates --------------------------------------------------------------------------------------
# The first four-digit year; then a decade "s", or an end year after an en dash or hyphen.
YEAR_RE = re.compile(r"(?<!\d)(\d{4})(?!\d)(?:(s)\b|\s*[–-]\s*(\d{1,4})(?!\d))?")


def parse_years(text: str) -> tuple[int | None, int | None]:
    """(year, end year) from a date as written; (None, None) when it names no year.

    "c.1785" -> (1785, None); "1880-5" -> (1880, 1885); "c.1796-97" -> (1796, 1797);
    "1960s" -> (1960, 1969); "published 1812" -> (1812, None); "date not known" -> (None, None).
    """
    match = YEAR_RE.search(text or "")
    if not match:
        return None, None
    start = int(match[1])
    if match[2]:
        return start, start + 9
    if match[3]:
        digits = match[3]
        end = int(match[1][: 4 - len(digits)] + digits)
        if end < start and len(digits) < 4:  # "1899-05": the next century
            end += 10 ** len(digits)
        return start, (end if end > start else None)
    return start, None


# --- dimensions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Size:
    height: Decimal
    width: Decimal
    depth: Decimal | None = None


@dataclass(frozen=True)
class Dimensions:
    size: Size | None = None
    framed: Size | None = None


class Unparseable(ValueError):
    """The text has dimensions but none in a form the rules read."""


# Best first: a line with an earlier label wins; "frame" only when nothing else is there.
LABEL_RANK = {
    "support": 0,
    "image": 1,
    "object": 2,
    "displayed": 3,
    None: 4,
    "unconfirmed": 5,
    "other": 6,
    "frame": 7,
}
NUMBER = r"(\d+(?:\.\d+)?)"
MEASURE_RE = re.compile(
    rf"(?<![\d.]){NUMBER}\s*[x×]\s*{NUMBER}(?:\s*[x×]\s*{NUMBER})?\s*(mm|cm)?(?![a-z])",
    re.IGNORECASE,
)
LABEL_WORD_RE = re.compile(r"[a-z]+")
MOMA_CM_RE = re.compile(rf"\(\s*{NUMBER}\s*[x×]\s*{NUMBER}(?:\s*[x×]\s*{NUMBER})?\s*cm\s*\)")


def to_cm(value: str | Decimal, unit: str) -> Decimal:
    """A measurement in cm, rounded half-up to 0.1 (mm ÷ 10)."""
    number = Decimal(value)
    if unit.lower() == "mm":
        number = number / 10
    return number.quantize(TENTH, rounding=ROUND_HALF_UP)


def _label(before: str) -> str | None:
    """The label of a line from the text before its measurement: "support, circular:" -> support."""
    if ":" not in before:
        return None
    word = LABEL_WORD_RE.match(before.split(":", 1)[0].strip().lower())
    if word is None:
        return "other"
    return word[0] if word[0] in LABEL_RANK else "other"


def parse_tate_dimensions(text: str, units: str = "") -> Dimensions:
    """Tate's ``dimensions`` text: one "label: A x B [x C] mm|cm" per line (height, width, depth).

    The unit is the line's own, else the ``units`` column. The best label gives the size; the
    first frame line the framed size. Empty text gives no dimensions; text without any readable
    line raises :class:`Unparseable`.
    """
    if not (text or "").strip():
        return Dimensions()
    fallback_unit = (units or "").strip().lower()
    found: list[tuple[int, int, Size, str | None]] = []
    for position, line in enumerate(re.split(r"\r\n|\r|\n", text)):
        match = MEASURE_RE.search(line)
        if not match:
            continue
        unit = (match[4] or fallback_unit).lower()
        if unit not in ("mm", "cm"):
            continue
        depth = to_cm(match[3], unit) if match[3] else None
        size = Size(to_cm(match[1], unit), to_cm(match[2], unit), depth)
        label = _label(line[: match.start()])
        found.append((LABEL_RANK[label], position, size, label))
    if not found:
        raise Unparseable(text)
    best = min(found, key=lambda item: (item[0], item[1]))
    frames = [item for item in found if item[3] == "frame"]
    return Dimensions(size=best[2], framed=frames[0][2] if frames else None)


def _decimal(value: str) -> Decimal | None:
    try:
        number = Decimal((value or "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() and number > 0 else None


def parse_cm_columns(height: str, width: str, depth: str = "") -> Size | None:
    """Height/width/depth columns already in cm (MoMA, the ArtSpot template)."""
    h, w, d = _decimal(height), _decimal(width), _decimal(depth)
    if h is None or w is None:
        return None
    return Size(to_cm(h, "cm"), to_cm(w, "cm"), to_cm(d, "cm") if d is not None else None)


def parse_moma_dimensions(text: str, height: str, width: str, depth: str) -> Dimensions:
    """MoMA: the (cm) columns, else the first "(A x B [x C] cm)" of the Dimensions text."""
    size = parse_cm_columns(height, width, depth)
    if size is not None:
        return Dimensions(size=size)
    if not (text or "").strip():
        return Dimensions()
    match = MOMA_CM_RE.search(text)
    if not match:
        raise Unparseable(text)
    return Dimensions(
        size=Size(
            to_cm(match[1], "cm"),
            to_cm(match[2], "cm"),
            to_cm(match[3], "cm") if match[3] else None,
        )
    )


# --- medium -------------------------------------------------------------------------------------
CLASSIFICATIONS = {
    # Tate JSON classification
    "on paper, print": Medium.PRINT,
    "on paper, unique": Medium.DRAWING,
    "painting": Medium.PAINTING,
    "sculpture": Medium.SCULPTURE,
    "photograph": Medium.PHOTOGRAPHY,
    # MoMA Classification
    "print": Medium.PRINT,
    "drawing": Medium.DRAWING,
    "photography": Medium.PHOTOGRAPHY,
    "textile": Medium.TEXTILE,
}
# First matching group of words wins (a "lithograph on paper" is a print, not a drawing).
MEDIUM_WORDS: list[tuple[Medium, tuple[str, ...]]] = [
    (
        Medium.PRINT,
        (
            "lithograph",
            "etching",
            "engraving",
            "screenprint",
            "woodcut",
            "aquatint",
            "mezzotint",
            "linocut",
            "drypoint",
            "intaglio",
            "relief print",
            "print on paper",
            "wood engraving",
            "serigraph",
            "letterpress",
        ),
    ),
    (Medium.PHOTOGRAPHY, ("photograph", "gelatin", "gelatine", "chromogenic", "c-print")),
    (Medium.PAINTING, ("oil paint", "oil on", "acrylic", "tempera", "paint")),
    (Medium.CERAMICS, ("ceramic", "porcelain", "earthenware", "stoneware", "terracotta")),
    (Medium.TEXTILE, ("textile", "tapestry", "wool", "embroider", "silk", "linen thread")),
    (
        Medium.SCULPTURE,
        ("bronze", "marble", "stone", "steel", "iron", "carved", "plaster", "wood", "resin"),
    ),
    (
        Medium.DRAWING,
        (
            "graphite",
            "ink",
            "watercolour",
            "watercolor",
            "chalk",
            "charcoal",
            "pastel",
            "pencil",
            "gouache",
            "crayon",
        ),
    ),
]


def choose_medium(classification: str, medium_text: str) -> Medium:
    """The medium from the classification, else from the words of the medium text."""
    by_class = CLASSIFICATIONS.get((classification or "").strip().lower())
    if by_class is not None:
        return by_class
    words = (medium_text or "").lower()
    for medium, markers in MEDIUM_WORDS:
        if any(marker in words for marker in markers):
            return medium
    return Medium.MIXED_MEDIA
