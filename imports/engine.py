"""The import itself, shared by the command and the admin: check (dry run) and apply.

``check()`` reads a file, rejects what the rules reject and says what applying would do,
writing nothing. ``apply()`` does it in one transaction: artists first (one page each, keyed by
source and artist id), then artworks in chunks with bulk writes (keyed by source and accession
number; an unchanged row writes nothing, a changed one gets a new revision), then the search
and reference indexes for every work written, in bulk. Any error rolls everything back and
names the row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import BytesIO

from django.contrib.contenttypes.models import ContentType
from django.core.files.images import ImageFile
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Prefetch
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.text import slugify
from wagtail.models import ReferenceIndex, Revision
from wagtail.signal_handlers import disable_reference_index_auto_update

from artists.models import ArtistIndexPage, ArtistPage, ArtistSourceRecord
from artworks.models import Artwork, ArtworkContributor, ArtworkImage, ArtworkUnit, Medium
from core.models import CustomImage
from core.search_index import bulk_index

from . import parsing
from .layouts import ArtistRow, ImportFileError, Parsed, WorkRow, read_file

CHUNK = 500
REASONS = (
    "missing_accession_number",
    "duplicate_accession_number_in_file",
    "missing_title",
    "missing_artist",
    "dimensions_unparseable",
)
# Values a new work gets when its layout does not give them.
CREATE_DEFAULTS = {
    "live": False,  # published below only with an image
    "medium": Medium.MIXED_MEDIA.value,
    "is_edition": False,
    "edition_size": 1,
    "for_sale": False,
    "price": None,
    "price_on_request": False,
    "framed": False,
}
Progress = Callable[[int, int], None]


class ImportFailed(RuntimeError):
    """The import stopped; nothing was written. The message names the row."""


@dataclass
class Report:
    layout: str
    source: str
    dry_run: bool
    counts: dict[str, int] = field(
        default_factory=lambda: {"create": 0, "update": 0, "unchanged": 0, "rejected": 0}
    )
    artists: dict[str, int] = field(
        default_factory=lambda: {"create": 0, "update": 0, "unchanged": 0}
    )
    rejected: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "layout": self.layout,
            "source": self.source,
            "dry_run": self.dry_run,
            "counts": self.counts,
            "artists": self.artists,
            "rejected": self.rejected,
            "warnings": self.warnings,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class Plan:
    parsed: Parsed
    accepted: list[WorkRow]
    report: Report
    artist_rows: dict[str, ArtistRow]

    @property
    def total(self) -> int:
        return len(self.parsed.works)


# --- reading and rejecting ----------------------------------------------------------------------
def rejection_reason(work: WorkRow, seen: set[str]) -> tuple[str, str] | None:
    if not work.accession_number:
        return "missing_accession_number", ""
    if work.accession_number in seen:
        return "duplicate_accession_number_in_file", ""
    if not work.title:
        return "missing_title", ""
    if not work.contributors:
        return "missing_artist", ""
    if work.dimensions_unparseable:
        return "dimensions_unparseable", work.dimensions_text
    return None


# Longest values the database keeps whole (text is never truncated: a longer one stops the file).
LIMITS = {"title": 1000, "accession number": 64, "date": 255, "thumbnail URL": 500}


def check_lengths(work: WorkRow) -> None:
    values = {
        "title": work.title,
        "accession number": work.accession_number,
        "date": work.date_text,
        "thumbnail URL": work.values.get("thumbnail_url", ""),
    }
    for label, value in values.items():
        if len(value or "") > LIMITS[label]:
            raise ImportFileError(
                f"Row {work.row}: the {label} is longer than {LIMITS[label]} characters; "
                "nothing was imported."
            )
    for person in work.contributors:
        if len(person.source_id) > 64:
            raise ImportFileError(f"Row {work.row}: an artist id is longer than 64 characters.")


def read(
    data: bytes,
    name: str,
    *,
    artists: tuple[bytes, str] | None = None,
    layout: str | None = None,
    source: str | None = None,
    dry_run: bool = True,
) -> Plan:
    """Read the file(s) and sort rows into accepted and rejected; nothing touches the database."""
    parsed = read_file(data, name, layout)
    if source:
        parsed.source = source
    artist_rows = {row.source_id: row for row in parsed.artists if row.source_id}
    if artists is not None:
        extra = read_file(*artists)
        if extra.works or extra.layout not in ("tate-artists", "moma-artists", "tate-json"):
            raise ImportFileError("The artists file is not an artists file.")
        artist_rows.update({row.source_id: row for row in extra.artists if row.source_id})
    if len(parsed.source) > 40:
        raise ImportFileError("The source name is longer than 40 characters.")
    for work in parsed.works:
        check_lengths(work)
    report = Report(parsed.layout, parsed.source, dry_run)
    accepted: list[WorkRow] = []
    seen: set[str] = set()
    for work in parsed.works:
        reason = rejection_reason(work, seen)
        if work.accession_number:
            seen.add(work.accession_number)
        if reason:
            report.rejected.append(
                {
                    "row": work.row,
                    "accession_number": work.accession_number,
                    "reason": reason[0],
                    "text": reason[1],
                }
            )
            continue
        accepted.append(work)
        report.warnings.extend(
            {"row": work.row, "accession_number": work.accession_number, "warning": text}
            for text in work.warnings
        )
    report.counts["rejected"] = len(report.rejected)
    return Plan(parsed, accepted, report, artist_rows)


@contextmanager
def page_signals_off():
    """Artist pages saved here are indexed in bulk afterwards, not one task per save.

    Disconnects the search index's save handler for artist pages (and the reference index's,
    thread-locally) for the duration; imports run in a command or a Celery worker process.
    """
    from modelsearch.signal_handlers import post_save_signal_handler

    off = post_save.disconnect(post_save_signal_handler, sender=ArtistPage)
    try:
        with disable_reference_index_auto_update():
            yield
    finally:
        if off:
            post_save.connect(post_save_signal_handler, sender=ArtistPage)


# --- artists ------------------------------------------------------------------------------------
def contributor_key(source_id: str, name: str) -> str:
    return source_id or f"name:{parsing.name_key(name)}"


class Artists:
    """Which artist page each (source, artist id) is, creating the missing ones on ``save``."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.source = plan.parsed.source
        self.rows: dict[str, ArtistRow] = dict(plan.artist_rows)
        supplied = bool(self.rows)
        made_from_rows: set[str] = set()
        for work in plan.accepted:
            for person in work.contributors:
                key = contributor_key(person.source_id, person.name)
                if key not in self.rows:
                    self.rows[key] = ArtistRow(key, person.name, born=person.born)
                    made_from_rows.add(key)
                if supplied and person.source_id and key in made_from_rows:
                    plan.report.warnings.append(
                        {
                            "row": work.row,
                            "accession_number": work.accession_number,
                            "warning": f"artist_id_unknown: {person.source_id} "
                            f"({person.name or 'no name'}) not in the artists file",
                        }
                    )
        records = ArtistSourceRecord.objects.filter(source=self.source, source_id__in=self.rows)
        self.pk: dict[str, int | None] = dict(records.values_list("source_id", "artist_id"))
        self.merged: dict[str, int] = {}
        self._match_other_sources()
        self.new = [key for key in self.rows if key not in self.pk]

    def _match_other_sources(self) -> None:
        """Tate and MoMA artists are one only with the same plain name and known birth year."""
        wanted = {
            (parsing.name_key(row.display), row.born): key
            for key, row in self.rows.items()
            if key not in self.pk and row.born
        }
        if not wanted:
            return
        births = {born for _, born in wanted}
        candidates = (
            ArtistPage.objects.filter(born__in=births)
            .exclude(source_records__source=self.source)
            .values_list("pk", "title", "born")
        )
        for pk, title, born in candidates:
            key = wanted.get((parsing.name_key(title), born))
            if key and key not in self.pk:
                self.pk[key] = pk
                self.merged[key] = pk

    def changes(self) -> tuple[list[tuple[ArtistPage, dict]], int]:
        """Known artists whose source row now says something else: (page, new values); unchanged."""
        known = {key: pk for key, pk in self.pk.items() if key in self.plan.artist_rows}
        pages = ArtistPage.objects.in_bulk(set(known.values()))
        changed, unchanged = [], 0
        for key, pk in known.items():
            row, page = self.rows[key], pages.get(pk)
            if page is None:
                continue
            wanted = {
                "title": row.display,
                "sort_name": row.name,
                "born": row.born,
                "died": row.died,
            }
            if key in self.merged:  # another source's artist: fill gaps only
                wanted = {k: v for k, v in wanted.items() if v and not getattr(page, k)}
            diff = {k: v for k, v in wanted.items() if getattr(page, k) != v}
            if diff:
                changed.append((page, diff))
            else:
                unchanged += 1
        return changed, unchanged

    def save(self, user) -> None:
        index = ArtistIndexPage.objects.first()
        if index is None and self.new:
            raise ImportFailed("There is no artists index page to put new artists under.")
        taken = set(index.get_children().values_list("slug", flat=True)) if index else set()
        written: list[ArtistPage] = []
        with page_signals_off():
            for key in self.new:
                written.append(self.create(index, key, taken, user))
            written += self.update(user)
        bulk_index(ArtistPage, written)
        for page in written:
            ReferenceIndex.create_or_update_for_object(page)

    def create(self, index, key: str, taken: set[str], user) -> ArtistPage:
        row = self.rows[key]
        base = slugify(row.display)[:200] or "artist"
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        page = ArtistPage(
            title=row.display[:255],
            slug=slug,
            sort_name=row.name[:255],
            born=row.born,
            died=row.died,
            nationality=row.nationality,
            live=False,
            has_unpublished_changes=True,
        )
        index.add_child(instance=page)
        page.save_revision(user=user, clean=False)
        self.pk[key] = page.pk
        return page

    def update(self, user) -> list[ArtistPage]:
        ArtistSourceRecord.objects.bulk_create(
            [
                ArtistSourceRecord(
                    artist_id=self.pk[key],
                    source=self.source,
                    source_id=key,
                    source_name=self.rows[key].name[:255],
                )
                for key in [*self.new, *self.merged]
            ]
        )
        changed, _ = self.changes()
        for page, diff in changed:
            for name, value in diff.items():
                setattr(page, name, value)
            page.save()
            revision = page.save_revision(user=user, clean=False)
            if page.live:
                revision.publish(user=user)
        return [page for page, _ in changed]


# --- artworks -----------------------------------------------------------------------------------
def wanted_contributors(work: WorkRow, artists: Artists) -> list[tuple[int | None, str]]:
    seen, result = set(), []
    for person in work.contributors:
        pair = (artists.pk.get(contributor_key(person.source_id, person.name)), person.role[:100])
        if pair not in seen:
            seen.add(pair)
            result.append(pair)
    return result


def field_values(work: WorkRow) -> dict:
    return {k: v for k, v in work.values.items() if not k.startswith("_")}


def differences(artwork: Artwork, work: WorkRow, contributors: list) -> dict:
    diff = {
        name: value for name, value in field_values(work).items() if getattr(artwork, name) != value
    }
    if work.title != artwork.title:
        diff["title"] = work.title
    current = [(c.artist_id, c.role) for c in artwork.contributors.all()]
    if current != contributors:
        diff["contributors"] = contributors
    if work.image and not artwork.gallery_images.all():
        diff["image"] = work.image[0]
    return diff


def existing_artworks(source: str, numbers: list[str], *, writing: bool) -> dict[str, Artwork]:
    """The source's works with these numbers, with what comparing (and writing) them needs."""
    found: dict[str, Artwork] = {}
    extra = ["tagged_items"] if writing else []
    for start in range(0, len(numbers), 2000):
        queryset = Artwork.objects.filter(
            source=source, accession_number__in=numbers[start : start + 2000]
        ).prefetch_related(
            Prefetch("contributors", queryset=ArtworkContributor.objects.order_by("sort_order")),
            "gallery_images",
            *extra,
        )
        found.update({artwork.accession_number: artwork for artwork in queryset})
    return found


def check(plan: Plan) -> Report:
    """What applying would do: counts per outcome (reads only)."""
    started = time.monotonic()
    artists = Artists(plan)
    changed, unchanged = artists.changes()
    plan.report.artists.update(create=len(artists.new), update=len(changed), unchanged=unchanged)
    numbers = [work.accession_number for work in plan.accepted]
    existing = existing_artworks(plan.parsed.source, numbers, writing=False)
    for work in plan.accepted:
        artwork = existing.get(work.accession_number)
        if artwork is None:
            plan.report.counts["create"] += 1
        elif differences(artwork, work, wanted_contributors(work, artists)):
            plan.report.counts["update"] += 1
        else:
            plan.report.counts["unchanged"] += 1
    plan.report.seconds = time.monotonic() - started
    return plan.report


class Writer:
    """Bulk writes for one import (inside the caller's transaction)."""

    def __init__(self, plan: Plan, artists: Artists, user) -> None:
        self.plan, self.artists, self.user = plan, artists, user
        self.source = plan.parsed.source
        self.now = timezone.now()
        self.content_type = ContentType.objects.get_for_model(Artwork)
        self.written: list[int] = []
        self.updated: list[int] = []
        self.taken_slugs: set[str] = set()

    # one row -> an unsaved Artwork with its in-memory children
    def build(self, work: WorkRow, artwork: Artwork | None) -> tuple[Artwork, list] | None:
        contributors = wanted_contributors(work, self.artists)
        if artwork is not None:
            diff = differences(artwork, work, contributors)
            if not diff:
                return None
        else:
            artwork = Artwork(
                source=self.source,
                accession_number=work.accession_number,
                **CREATE_DEFAULTS,
            )
        for name, value in field_values(work).items():
            setattr(artwork, name, value)
        artwork.title = work.title
        artwork.artist_id = contributors[0][0]
        artwork.orientation = artwork._orientation()
        artwork.size_category = artwork._size_category()
        rows = [
            ArtworkContributor(artist_id=pk, role=role, sort_order=i)
            for i, (pk, role) in enumerate(contributors)
        ]
        return artwork, rows

    def unique_slugs(self, artworks: list[Artwork]) -> None:
        names = dict(
            ArtistPage.objects.filter(pk__in={a.artist_id for a in artworks}).values_list(
                "pk", "title"
            )
        )
        bases = []
        for artwork in artworks:
            words = slugify(f"{artwork.title} {names.get(artwork.artist_id, '')}")[:200]
            number = slugify(artwork.accession_number)[:40]
            bases.append("-".join(p for p in (words, number) if p) or "artwork")
        self.taken_slugs |= set(
            Artwork.objects.filter(slug__in=set(bases)).values_list("slug", flat=True)
        )
        for artwork, base in zip(artworks, bases, strict=True):
            slug, n = base, 2
            while slug in self.taken_slugs or (
                slug != base and Artwork.objects.filter(slug=slug).exists()
            ):
                slug, n = f"{base}-{n}", n + 1
            self.taken_slugs.add(slug)
            artwork.slug = slug

    def write_chunk(self, works: list[WorkRow], existing: dict[str, Artwork]) -> None:
        creates: list[tuple[WorkRow, Artwork, list]] = []
        updates: list[tuple[WorkRow, Artwork, list]] = []
        for work in works:
            try:
                built = build_artwork(self, work, existing.get(work.accession_number))
            except ImportFailed:
                raise
            except Exception as error:
                raise ImportFailed(
                    f"Row {work.row} ({work.accession_number}): {type(error).__name__}: {error}"
                ) from error
            if built is None:
                self.plan.report.counts["unchanged"] += 1
                continue
            artwork, contributors = built
            (updates if artwork.pk else creates).append((work, artwork, contributors))
        new = [artwork for _, artwork, _ in creates]
        self.unique_slugs(new)
        Artwork.objects.bulk_create(new)
        if updates:
            update_pks = [artwork.pk for _, artwork, _ in updates]
            ArtworkContributor.objects.filter(artwork_id__in=update_pks).delete()
            fields = {"title", "artist", "orientation", "size_category", "updated_at"}
            for work, artwork, _ in updates:
                fields |= set(field_values(work))
                artwork.updated_at = self.now
            Artwork.objects.bulk_update([a for _, a, _ in updates], sorted(fields))
        all_rows = creates + updates
        contributor_rows = []
        for _, artwork, rows in all_rows:
            for row in rows:
                row.artwork = artwork
            contributor_rows.extend(rows)
            artwork.contributors = rows  # in memory, for the revision and the reference index
        ArtworkContributor.objects.bulk_create(contributor_rows)
        units = []
        for work, artwork, _ in creates:
            withheld = bool(work.values.get("_sold"))
            units += [
                ArtworkUnit(artwork=artwork, number=n, withheld=withheld)
                for n in range(1, artwork.unit_count + 1)
            ]
        ArtworkUnit.objects.bulk_create(units)
        for work, artwork, _ in updates:
            if "edition_size" in work.values:
                artwork.sync_units()
        for _, artwork, _ in creates:
            artwork.gallery_images = []
            artwork.tagged_items = []
        for work, artwork, _ in all_rows:
            if work.image and not list(artwork.gallery_images.all()):
                self.attach_image(artwork, *work.image)
        self.revise(all_rows)
        self.plan.report.counts["create"] += len(creates)
        self.plan.report.counts["update"] += len(updates)
        self.written += [artwork.pk for _, artwork, _ in all_rows]
        self.updated += [artwork.pk for _, artwork, _ in updates]

    def attach_image(self, artwork: Artwork, filename: str, content: bytes) -> None:
        image = CustomImage(title=f"{artwork.title[:200]} ({artwork.accession_number})")
        image.file = ImageFile(BytesIO(content), name=filename)
        image.save()
        link = ArtworkImage(artwork=artwork, image=image, sort_order=0)
        link.save()
        artwork.gallery_images = [link]

    def revise(self, rows: list[tuple[WorkRow, Artwork, list]]) -> None:
        """One revision per written work; works with an image are published, others drafts."""
        revisions = []
        for _, artwork, _ in rows:
            publish = bool(list(artwork.gallery_images.all())) or artwork.live
            artwork.live = publish
            artwork.has_unpublished_changes = not publish
            if publish:
                artwork.first_published_at = artwork.first_published_at or self.now
                artwork.last_published_at = self.now
            revisions.append(
                Revision(
                    content_type=self.content_type,
                    base_content_type=self.content_type,
                    object_id=str(artwork.pk),
                    created_at=self.now,
                    user=self.user,
                    content=artwork.serializable_data(),
                    object_str=f"{artwork.title} ({self.artist_title(artwork)})",
                )
            )
        Revision.objects.bulk_create(revisions)
        for (_, artwork, _), revision in zip(rows, revisions, strict=True):
            artwork.latest_revision = revision
            artwork.live_revision = revision if artwork.live else artwork.live_revision
        set_revisions([artwork for _, artwork, _ in rows])

    def artist_title(self, artwork: Artwork) -> str:
        if not hasattr(self, "_titles"):
            self._titles = dict(
                ArtistPage.objects.filter(pk__in=set(self.artists.pk.values())).values_list(
                    "pk", "title"
                )
            )
        return self._titles.get(artwork.artist_id, "")

    def index(self) -> None:
        """Search and reference indexes for every work written, in bulk."""
        if not self.written:
            return
        for start in range(0, len(self.written), 1000):
            pks = self.written[start : start + 1000]
            artworks = list(
                Artwork.objects.filter(pk__in=pks)
                .select_related("artist")
                .prefetch_related("tags", "contributors", "gallery_images", "tagged_items")
            )
            bulk_index(Artwork, artworks)
            refresh_references(artworks, self.content_type, replace=set(self.updated))


PUBLISHING_FIELDS = [
    "latest_revision",
    "live_revision",
    "live",
    "has_unpublished_changes",
    "first_published_at",
    "last_published_at",
]


def set_revisions(artworks: list[Artwork]) -> None:
    """The works' revision and publishing columns: one UPDATE … FROM (VALUES …) on PostgreSQL."""
    if connection.vendor != "postgresql":
        Artwork.objects.bulk_update(artworks, PUBLISHING_FIELDS, batch_size=500)
        return
    table = Artwork._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(artworks), 1000):
            part = artworks[start : start + 1000]
            rows = ", ".join(
                ["(%s::bigint, %s::bigint, %s::bigint, %s, %s, %s::timestamptz, %s::timestamptz)"]
                * len(part)
            )
            cursor.execute(
                f"UPDATE {table} AS a SET latest_revision_id = v.rev, "  # noqa: S608 (no user text)
                "live_revision_id = v.live_rev, live = v.live, "
                "has_unpublished_changes = v.unpublished, first_published_at = v.first, "
                "last_published_at = v.last "
                f"FROM (VALUES {rows}) AS v(id, rev, live_rev, live, unpublished, first, last) "
                "WHERE a.id = v.id",
                [
                    value
                    for artwork in part
                    for value in (
                        artwork.pk,
                        artwork.latest_revision_id,
                        artwork.live_revision_id,
                        artwork.live,
                        artwork.has_unpublished_changes,
                        artwork.first_published_at,
                        artwork.last_published_at,
                    )
                ],
            )


def build_artwork(writer: Writer, work: WorkRow, artwork: Artwork | None):
    """One row to an unsaved work (a seam for tests: an error here names the row)."""
    return writer.build(work, artwork)


def refresh_references(artworks: list[Artwork], content_type, replace: set[int]) -> None:
    if not ReferenceIndex.model_is_indexable(Artwork):
        return
    stale = [str(a.pk) for a in artworks if a.pk in replace]
    if stale:
        ReferenceIndex.objects.filter(base_content_type=content_type, object_id__in=stale).delete()
    rows = []
    for artwork in artworks:
        for to_ct, to_id, model_path, content_path in set(
            ReferenceIndex._extract_references_from_object(artwork)
        ):
            rows.append(
                ReferenceIndex(
                    content_type=content_type,
                    base_content_type=content_type,
                    object_id=str(artwork.pk),
                    to_content_type_id=to_ct,
                    to_object_id=to_id,
                    model_path=model_path,
                    content_path=content_path,
                    content_path_hash=ReferenceIndex._get_content_path_hash(content_path),
                )
            )
    ReferenceIndex.objects.bulk_create(rows, ignore_conflicts=True)


def apply(plan: Plan, *, user=None, progress: Progress | None = None) -> Report:
    """Write the plan in one transaction; on any error nothing is written (ImportFailed)."""
    started = time.monotonic()
    report = plan.report
    report.dry_run = False
    total = len(plan.parsed.works)
    try:
        with transaction.atomic():
            artists = Artists(plan)
            changed, unchanged = artists.changes()
            report.artists.update(create=len(artists.new), update=len(changed), unchanged=unchanged)
            artists.save(user)
            numbers = [work.accession_number for work in plan.accepted]
            existing = existing_artworks(plan.parsed.source, numbers, writing=True)
            writer = Writer(plan, artists, user)
            done = report.counts["rejected"]
            for start in range(0, len(plan.accepted), CHUNK):
                chunk = plan.accepted[start : start + CHUNK]
                writer.write_chunk(chunk, existing)
                done += len(chunk)
                if progress:
                    progress(done, total)
            writer.index()
    except ImportFailed:
        raise
    except (IntegrityError, DataError) as error:
        raise ImportFailed(f"The database refused the import: {error}") from error
    report.seconds = time.monotonic() - started
    return report


def run(
    data: bytes,
    name: str,
    *,
    artists: tuple[bytes, str] | None = None,
    layout: str | None = None,
    source: str | None = None,
    dry_run: bool = False,
    user=None,
    progress: Progress | None = None,
) -> Report:
    """Read, then check (dry run) or apply: the one entry point of both doors."""
    plan = read(data, name, artists=artists, layout=layout, source=source, dry_run=dry_run)
    if dry_run:
        return check(plan)
    return apply(plan, user=user, progress=progress)
