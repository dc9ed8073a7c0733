"""File layouts: detect one from the header and read its rows into plain records.

Each reader turns one source row into a :class:`WorkRow` (or an :class:`ArtistRow`) with the
parsing rules applied; nothing here touches the database. Which rows are rejected, and what is
created or updated, is :mod:`imports.engine`'s business.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

from artworks.models import Currency, Medium

from . import parsing
from .parsing import Dimensions, Unparseable

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
MAX_FILE_BYTES = 200 * 1024 * 1024


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong layout, missing column, not UTF-8…)."""


@dataclass
class Contributor:
    source_id: str
    name: str  # as the source writes it ("Blake, William")
    role: str = "artist"
    born: int | None = None


@dataclass
class ArtistRow:
    source_id: str
    name: str  # as the source writes it: the sort form for Tate
    born: int | None = None
    died: int | None = None
    nationality: str = ""
    display: str = ""  # shown name; from the name by the rule when empty

    def __post_init__(self) -> None:
        self.name = self.name.strip()
        if not self.display:
            self.display = parsing.display_name(self.name)


@dataclass
class WorkRow:
    row: int
    accession_number: str
    title: str
    contributors: list[Contributor]
    date_text: str = ""
    values: dict = field(default_factory=dict)  # model field -> value, only what the layout gives
    dimensions_text: str = ""
    dimensions_unparseable: bool = False
    image: tuple[str, bytes] | None = None  # (file name, content) from a .zip
    warnings: list[str] = field(default_factory=list)


@dataclass
class Parsed:
    layout: str
    source: str
    works: list[WorkRow] = field(default_factory=list)
    artists: list[ArtistRow] = field(default_factory=list)


# --- small helpers ------------------------------------------------------------------------------
def clean_text(value: str | None) -> str:
    """Outer whitespace trimmed; line breaks inside kept (as \\n); nothing else touched."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def to_int(value) -> int | None:
    try:
        number = int(str(value).strip().strip("()"))
    except (TypeError, ValueError):
        return None
    return number or None  # MoMA writes 0 for "not known"


def set_dates(work: WorkRow, text: str) -> None:
    work.date_text = clean_text(text)
    year, year_end = parsing.parse_years(work.date_text)
    work.values.update(date_text=work.date_text, year=year, year_end=year_end)
    if work.date_text and year is None:
        work.warnings.append(f"date_unparseable: {work.date_text!r}")


def set_dimensions(work: WorkRow, text: str, reader) -> None:
    """The work's dimensions, or ``dimensions_unparseable`` when it has no usable height x width.

    The rule for every layout: a row whose dimensions (text or columns) give no height and width,
    empty ones included, is rejected; the raw text ("" when empty) is what the report shows.
    """
    work.dimensions_text = text or ""
    try:
        dims: Dimensions = reader()
    except Unparseable:
        dims = Dimensions()
    if dims.size is None:
        work.dimensions_unparseable = True
        return
    size, framed = dims.size, dims.framed
    work.values.update(
        height_cm=size.height,
        width_cm=size.width,
        depth_cm=size.depth,
        framed=framed is not None,
        framed_height_cm=framed.height if framed else None,
        framed_width_cm=framed.width if framed else None,
        framed_depth_cm=framed.depth if framed else None,
    )


def set_medium(work: WorkRow, classification: str, medium_text: str) -> None:
    medium = parsing.choose_medium(classification, medium_text)
    is_edition = medium == Medium.PRINT
    work.values.update(
        materials=clean_text(medium_text),
        medium=medium.value,
        is_edition=is_edition,
        edition_size=None if is_edition else 1,  # never an invented edition size
    )


def museum_defaults(work: WorkRow, thumbnail_url: str, credit_line: str) -> None:
    """Museum works are shown, never sold; the image stays a link."""
    url = clean_text(thumbnail_url)
    work.values.update(
        for_sale=False,
        price=None,
        price_on_request=False,
        thumbnail_url=url if url.startswith(("http://", "https://")) else "",
        provenance=clean_text(credit_line),
    )


# --- CSV ----------------------------------------------------------------------------------------
def decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError("The file is larger than 200 MB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFileError(
            f"The file is not UTF-8 text (byte {error.start}); save it as CSV UTF-8."
        ) from None


def read_csv(data: bytes) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """The header and (row number, row) pairs; the header is row 1, as in a spreadsheet."""
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    except csv.Error as error:
        raise ImportFileError(f"The file is not readable CSV: {error}.") from None

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        number = 1
        try:
            for values in reader:
                number += 1
                if not any(v.strip() for v in values):
                    continue
                yield number, dict(zip(header, values, strict=False))
        except csv.Error as error:
            raise ImportFileError(f"Row {number + 1} is not readable CSV: {error}.") from None

    return header, rows()


@dataclass(frozen=True)
class Layout:
    name: str
    required: frozenset[str]
    signature: frozenset[str]  # columns that tell this layout from the others
    kind: str = "works"  # or "artists"


LAYOUTS = [
    Layout(
        "tate",
        frozenset({"accession_number", "artist", "artistId", "title", "dateText", "dimensions",
                   "units", "medium"}),
        frozenset({"accession_number", "artistRole", "medium", "thumbnailCopyright"}),
    ),
    Layout(
        "tate2013",
        frozenset({"accession_number", "artist", "artistId", "title", "dateText", "dimensions",
                   "units"}),
        frozenset({"accession_number", "artistId", "dateText"}),
    ),
    Layout(
        "moma",
        frozenset({"Title", "Artist", "ConstituentID", "Date", "Medium", "Dimensions",
                   "AccessionNumber"}),
        frozenset({"AccessionNumber", "ConstituentID"}),
    ),
    Layout(
        "artspot",
        frozenset({"accession_number", "title", "artist"}),
        frozenset({"accession_number", "title", "artist", "availability"}),
    ),
    Layout(
        "tate-artists",
        frozenset({"id", "name", "yearOfBirth", "yearOfDeath"}),
        frozenset({"id", "name", "yearOfBirth"}),
        "artists",
    ),
    Layout(
        "moma-artists",
        frozenset({"ConstituentID", "DisplayName", "BeginDate", "EndDate"}),
        frozenset({"ConstituentID", "DisplayName"}),
        "artists",
    ),
]  # fmt: skip
LAYOUT_BY_NAME = {layout.name: layout for layout in LAYOUTS}
WORK_LAYOUTS = ("tate", "tate2013", "moma", "artspot", "tate-json")
SOURCE_OF_LAYOUT = {
    "tate": "tate",
    "tate2013": "tate",
    "tate-json": "tate",
    "tate-artists": "tate",
    "moma": "moma",
    "moma-artists": "moma",
    "artspot": "artspot",
}


def detect_layout(header: Iterable[str]) -> Layout:
    """The first layout whose signature columns are all in the header (most specific first)."""
    columns = set(header)
    for layout in LAYOUTS:
        if layout.signature <= columns:
            return layout
    raise ImportFileError(
        "The header matches no known layout (Tate artwork_data.csv or its 2013 file, "
        "artist_data.csv, MoMA Artworks.csv / Artists.csv, or the ArtSpot template)."
    )


def check_columns(layout: Layout, header: Iterable[str]) -> None:
    missing = sorted(layout.required - set(header))
    if missing:
        names = ", ".join(repr(name) for name in missing)
        raise ImportFileError(
            f"The file lacks the required column{'s' if len(missing) > 1 else ''} {names} "
            f"of the {layout.name} layout; nothing was imported."
        )


# --- Tate ---------------------------------------------------------------------------------------
def tate_work(number: int, row: dict[str, str], *, has_medium: bool) -> WorkRow:
    name = clean_text(row.get("artist"))
    artist_id = clean_text(row.get("artistId"))
    role = clean_text(row.get("artistRole")) or "artist"
    work = WorkRow(
        row=number,
        accession_number=clean_text(row.get("accession_number")),
        title=clean_text(row.get("title")),
        contributors=[Contributor(artist_id, name, role)] if (name or artist_id) else [],
    )
    set_dates(work, row.get("dateText", ""))
    text, units = row.get("dimensions", ""), row.get("units", "")
    set_dimensions(work, text, lambda: parsing.parse_tate_dimensions(text, units))
    if has_medium:
        set_medium(work, "", row.get("medium", ""))
    museum_defaults(work, row.get("thumbnailUrl", ""), row.get("creditLine", ""))
    return work


def tate_artist(row: dict[str, str]) -> ArtistRow:
    return ArtistRow(
        source_id=clean_text(row.get("id")),
        name=clean_text(row.get("name")),
        born=to_int(row.get("yearOfBirth")),
        died=to_int(row.get("yearOfDeath")),
    )


def tate_json_work(number: int, data: dict) -> WorkRow:
    contributors = sorted(data.get("contributors") or [], key=lambda c: c.get("displayOrder") or 0)
    work = WorkRow(
        row=number,
        accession_number=clean_text(str(data.get("acno") or "")),
        title=clean_text(data.get("title")),
        contributors=[
            Contributor(
                str(c.get("id") or ""),
                clean_text(c.get("mda") or c.get("fc")),
                clean_text(c.get("role")) or "artist",
                to_int(c.get("birthYear")),
            )
            for c in contributors
            if c.get("id") or c.get("mda") or c.get("fc")
        ],
    )
    set_dates(work, data.get("dateText") or "")
    text, units = data.get("dimensions") or "", data.get("units") or ""
    set_dimensions(work, text, lambda: parsing.parse_tate_dimensions(text, units))
    set_medium(work, data.get("classification") or "", data.get("medium") or "")
    museum_defaults(work, data.get("thumbnailUrl") or "", data.get("creditLine") or "")
    return work


def tate_json_artist(data: dict) -> ArtistRow:
    death = ((data.get("death") or {}).get("time") or {}).get("startYear")
    return ArtistRow(
        source_id=str(data.get("id") or ""),
        name=clean_text(data.get("mda") or data.get("fc")),
        born=to_int(data.get("birthYear")),
        died=to_int(death),
    )


def read_tate_json(data: bytes, name: str) -> Parsed:
    """One artwork JSON file, or a .zip of artwork/artist JSON files and images."""
    parsed = Parsed("tate-json", "tate")
    images: dict[str, tuple[str, bytes]] = {}
    documents: list[tuple[str, bytes]] = []
    if name.lower().endswith(".zip") or data[:2] == b"PK":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise ImportFileError("The .zip file is damaged or not a zip.") from None
        with archive:
            total = 0
            for info in archive.infolist():
                path = PurePosixPath(info.filename)
                total += info.file_size
                if total > MAX_FILE_BYTES:
                    raise ImportFileError("The .zip unpacks to more than 200 MB.")
                if info.is_dir() or path.name.startswith("."):
                    continue
                if path.suffix.lower() == ".json":
                    documents.append((info.filename, archive.read(info)))
                elif path.suffix.lower() in IMAGE_SUFFIXES:
                    images[path.stem.upper()] = (path.name, archive.read(info))
        documents.sort()
    else:
        documents = [(name, data)]
    for number, (filename, content) in enumerate(documents, start=1):
        try:
            document = json.loads(decode(content))
        except json.JSONDecodeError as error:
            raise ImportFileError(f"{filename} is not valid JSON: {error.msg}.") from None
        if not isinstance(document, dict):
            raise ImportFileError(f"{filename} is not a Tate artwork or artist record.")
        if "acno" in document:
            work = tate_json_work(number, document)
            work.image = images.get(work.accession_number.upper())
            parsed.works.append(work)
        elif "mda" in document or "fc" in document:
            parsed.artists.append(tate_json_artist(document))
        else:
            raise ImportFileError(f"{filename} is not a Tate artwork or artist record.")
    if not parsed.works and not parsed.artists:
        raise ImportFileError("The file holds no Tate artwork or artist record.")
    return parsed


# --- MoMA ---------------------------------------------------------------------------------------
PAREN_RE = re.compile(r"\(([^)]*)\)")


def moma_work(number: int, row: dict[str, str]) -> WorkRow:
    ids = [i.strip() for i in (row.get("ConstituentID") or "").split(",") if i.strip()]
    names = [n.strip() for n in (row.get("Artist") or "").split(",") if n.strip()]
    births = [to_int(b) for b in PAREN_RE.findall(row.get("BeginDate") or "")]
    if len(names) != len(ids):
        names = [clean_text(row.get("Artist"))] * len(ids) if ids else names[:1]
    contributors = [
        Contributor(
            ids[i] if i < len(ids) else "",
            names[i] if i < len(names) else "",
            "artist",
            births[i] if i < len(births) else None,
        )
        for i in range(max(len(ids), len(names)))
    ]
    work = WorkRow(
        row=number,
        accession_number=clean_text(row.get("AccessionNumber")),
        title=clean_text(row.get("Title")),
        contributors=contributors,
    )
    set_dates(work, row.get("Date", ""))
    text = row.get("Dimensions", "")
    set_dimensions(
        work,
        text,
        lambda: parsing.parse_moma_dimensions(
            text, row.get("Height (cm)", ""), row.get("Width (cm)", ""), row.get("Depth (cm)", "")
        ),
    )
    set_medium(work, row.get("Classification", ""), row.get("Medium", ""))
    museum_defaults(work, row.get("ImageURL", ""), row.get("CreditLine", ""))
    return work


def moma_artist(row: dict[str, str]) -> ArtistRow:
    display = clean_text(row.get("DisplayName"))
    parts = display.rsplit(" ", 1)
    return ArtistRow(
        source_id=clean_text(row.get("ConstituentID")),
        name=f"{parts[1]}, {parts[0]}" if len(parts) == 2 else display,
        born=to_int(row.get("BeginDate")),
        died=to_int(row.get("EndDate")),
        nationality=clean_text(row.get("Nationality"))[:100],
        display=display,
    )


# --- the ArtSpot template -----------------------------------------------------------------------
TEMPLATE_COLUMNS = [
    "accession_number", "title", "artist", "artist_id", "artist_birth_year", "date", "medium",
    "materials", "height_cm", "width_cm", "depth_cm", "framed_height_cm", "framed_width_cm",
    "framed_depth_cm", "edition_size", "price", "currency", "availability", "description",
]  # fmt: skip
TEMPLATE_EXAMPLE = [
    "GAL-0001", "Estuary at Dusk", "Hepworth, Barbara", "", "1903", "2019", "painting",
    "Oil on linen", "80", "100", "3.5", "", "", "", "", "1800.00", "GBP", "available", "",
]  # fmt: skip
AVAILABILITY_VALUES = ("available", "sold", "not-for-sale")


def template_csv() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([TEMPLATE_COLUMNS, TEMPLATE_EXAMPLE])
    return out.getvalue()


def _money(text: str) -> Decimal | None:
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None
    return value.quantize(Decimal("0.01")) if value.is_finite() and value > 0 else None


def artspot_work(number: int, row: dict[str, str]) -> WorkRow:
    name = clean_text(row.get("artist"))
    artist_id = clean_text(row.get("artist_id")) or parsing.name_key(name)
    work = WorkRow(
        row=number,
        accession_number=clean_text(row.get("accession_number")),
        title=clean_text(row.get("title")),
        contributors=[Contributor(artist_id, name, "artist", to_int(row.get("artist_birth_year")))]
        if name
        else [],
    )
    set_dates(work, row.get("date", ""))
    cells = [row.get(c, "") for c in ("height_cm", "width_cm", "depth_cm")]
    framed_cells = [
        row.get(c, "") for c in ("framed_height_cm", "framed_width_cm", "framed_depth_cm")
    ]

    def read() -> Dimensions:
        framed = parsing.parse_cm_columns(*framed_cells)
        return Dimensions(size=parsing.parse_cm_columns(*cells), framed=framed)

    set_dimensions(work, " x ".join(c for c in cells if c), read)
    medium_word = clean_text(row.get("medium")).lower()
    materials = clean_text(row.get("materials"))
    if medium_word in Medium.values:
        medium = medium_word
    else:
        medium = parsing.choose_medium("", medium_word or materials).value
    edition_size = to_int(row.get("edition_size"))
    is_edition = bool(edition_size and edition_size > 1)
    availability = clean_text(row.get("availability")).lower() or "available"
    if availability not in AVAILABILITY_VALUES:
        work.warnings.append(f"availability_unknown: {availability!r} read as not-for-sale")
        availability = "not-for-sale"
    price = _money(row.get("price") or "")
    if (row.get("price") or "").strip() and price is None:
        work.warnings.append(f"price_unreadable: {row.get('price')!r} read as price on request")
    currency = clean_text(row.get("currency")).upper() or Currency.GBP.value
    if currency not in Currency.values:
        work.warnings.append(f"currency_unknown: {currency!r} read as GBP")
        currency = Currency.GBP.value
    for_sale = availability != "not-for-sale"
    work.values.update(
        medium=medium,
        materials=materials,
        is_edition=is_edition,
        edition_size=edition_size if is_edition else 1,
        for_sale=for_sale,
        price=price,
        currency=currency,
        price_on_request=for_sale and price is None,
        description=clean_text(row.get("description")),
    )
    work.values["_sold"] = availability == "sold"
    return work


# --- entry point --------------------------------------------------------------------------------
def read_file(data: bytes, name: str, layout: str | None = None) -> Parsed:
    """Read a whole file (works or artists) in the given layout or the one its header names."""
    lowered = name.lower()
    if layout == "tate-json" or (layout in (None, "tate") and lowered.endswith((".json", ".zip"))):
        return read_tate_json(data, name)
    header, rows = read_csv(data)
    if layout:
        if layout not in LAYOUT_BY_NAME:
            raise ImportFileError(f"Unknown layout {layout!r}.")
        chosen = LAYOUT_BY_NAME[layout]
        if chosen.name == "tate" and "artistRole" not in header and "medium" not in header:
            chosen = LAYOUT_BY_NAME["tate2013"]  # the older Tate file, asked for as "tate"
    else:
        chosen = detect_layout(header)
    check_columns(chosen, header)
    parsed = Parsed(chosen.name, SOURCE_OF_LAYOUT[chosen.name])
    for number, row in rows:
        if chosen.name == "tate":
            parsed.works.append(tate_work(number, row, has_medium=True))
        elif chosen.name == "tate2013":
            parsed.works.append(tate_work(number, row, has_medium=False))
        elif chosen.name == "moma":
            parsed.works.append(moma_work(number, row))
        elif chosen.name == "artspot":
            parsed.works.append(artspot_work(number, row))
        elif chosen.name == "tate-artists":
            parsed.artists.append(tate_artist(row))
        else:
            parsed.artists.append(moma_artist(row))
    return parsed
