"""One site search over artworks, artists, stories, collections and the other pages.

Each kind of result is a :class:`ResultType`: where its public objects come from, how to load a
page of them for display, and what a result shows. Searching goes through Wagtail's configured
backend (``wagtail.search.backends.database``: PostgreSQL full-text in production, SQLite FTS on
the embedded default), always on querysets that hold only what the public may see.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page as PaginatorPage
from django.core.paginator import Paginator
from django.db import connections, router
from django.db.models import Count, Model, OuterRef, Q, QuerySet, Subquery, Window
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from wagtail.fields import StreamField
from wagtail.images.models import Filter
from wagtail.models import Page
from wagtail.search import index
from wagtail.search.backends import get_search_backend

from .highlight import count_matches, excerpt, highlight, plain_text, term_pattern
from .query import SearchQuery

# The thumbnails templates/search/includes/hits.html shows: only these are read with the hits
# (an image has dozens of renditions; reading them all was most of a search's model instances).
HIT_IMAGE_SPECS = Filter.expand_spec(["format-{avif,webp,jpeg}", "{max-400x400,fill-400x300}"])
RESULTS_PER_PAGE = 12
AUTOCOMPLETE_LIMIT = 8
AUTOCOMPLETE_MIN_LENGTH = 2
# Every query word must match: "blue print" finds blue prints, not everything blue.
OPERATOR = "and"


@dataclass
class Hit:
    """One result as a template or the autocomplete shows it."""

    kind: str
    obj: Any
    title: str
    url: str
    subtitle: str = ""
    title_html: SafeString = field(default_factory=SafeString)
    subtitle_html: SafeString = field(default_factory=SafeString)
    snippet: SafeString = field(default_factory=SafeString)
    image: Any = None
    image_alt: str = ""


@dataclass
class Group:
    """The results of one type: how many in all, and the best few."""

    type: ResultType
    count: int
    hits: list[Hit]

    @property
    def has_more(self) -> bool:
        return self.count > len(self.hits)


class ResultType:
    """One kind of result. Subclasses say where the public objects come from and what they show."""

    key: str = ""  # in URLs: ?type=artworks
    label: str = ""  # the group heading: "Artworks"
    kind: str = ""  # in the autocomplete JSON: "artwork"
    group_size: int = 4  # results shown on the grouped page
    autocomplete_order: int | None = None  # place among the suggestions; None: never suggested
    model_label: str = ""  # "app_label.ModelName"; the type is skipped while it does not exist

    def get_model(self) -> type[Model] | None:
        try:
            return apps.get_model(self.model_label)
        except (LookupError, ValueError):
            return None

    @property
    def available(self) -> bool:
        return self.get_model() is not None

    def public_queryset(self, private_pages: Q | None = None) -> QuerySet:
        """Everything of this type the public may see, filtered only on indexed FilterFields.

        ``private_pages`` is ``Page.objects.private_q()``, worked out once per search.
        """
        raise NotImplementedError

    def autocomplete_queryset(self, private_pages: Q | None = None) -> QuerySet:
        """What suggestions come from: the public objects, with what the subtitle needs."""
        return self.public_queryset(private_pages)

    def search_queryset(self, private_pages: Q | None = None) -> QuerySet:
        """What results come from: the public objects, with what a result shows if it can be
        read in the same query."""
        return self.public_queryset(private_pages)

    def load(self, objects: Sequence[Model], request: HttpRequest | None) -> list[Model]:
        """The objects ready for display (related rows fetched), in the same order."""
        return list(objects)

    def url(self, obj: Any, request: HttpRequest | None) -> str:
        return obj.get_url(request=request) or ""

    def subtitle(self, obj: Any) -> str:
        return ""

    def image(self, obj: Any) -> tuple[Any, str]:
        """The thumbnail and its alt text ('' when the title beside it says enough)."""
        return None, ""

    def snippet_texts(self, obj: Any) -> list[str]:
        """Texts a snippet may come from, the fallback first: indexed fields but the title."""
        texts = (
            indexed_text(obj, search_field)
            for search_field in obj.get_search_fields()
            if isinstance(search_field, index.SearchField) and search_field.field_name != "title"
        )
        return [text for text in dict.fromkeys(texts) if text]

    def hit(self, obj: Any, pattern: re.Pattern[str] | None, request: HttpRequest | None) -> Hit:
        subtitle = self.subtitle(obj)
        image, image_alt = self.image(obj)
        return Hit(
            kind=self.kind,
            obj=obj,
            title=obj.title,
            url=self.url(obj, request),
            subtitle=subtitle,
            title_html=highlight(obj.title, pattern),
            subtitle_html=highlight(subtitle, pattern),
            snippet=best_snippet(self.snippet_texts(obj), pattern),
            image=image,
            image_alt=image_alt,
        )


class PageResultType(ResultType):
    """A page type: live pages outside private sections, with an optional thumbnail field."""

    image_field: str = ""  # a ForeignKey to an image, e.g. "hero_image"

    def _image_field(self, model: type[Model]) -> str:
        if not self.image_field:
            return ""
        try:
            model._meta.get_field(self.image_field)
        except FieldDoesNotExist:
            return ""
        return self.image_field

    def public_queryset(self, private_pages: Q | None = None) -> QuerySet:
        model = self.get_model()
        queryset = model.objects.live()
        queryset = queryset.public() if private_pages is None else queryset.exclude(private_pages)
        if image_field := self._image_field(model):
            queryset = queryset.select_related(image_field)
        return queryset

    def image(self, obj: Any) -> tuple[Any, str]:
        image_field = self._image_field(type(obj))
        return (getattr(obj, image_field), "") if image_field else (None, "")

    def subtitle(self, obj: Any) -> str:
        date = getattr(obj, "date", None)
        return date_format(date, "j F Y") if isinstance(date, datetime.date) else ""

    def snippet_texts(self, obj: Any) -> list[str]:
        texts = super().snippet_texts(obj)
        return [obj.search_description, *texts] if obj.search_description else texts


class ArtworkResults(ResultType):
    key, label, kind, model_label = "artworks", "Artworks", "artwork", "artworks.Artwork"
    group_size = 6
    autocomplete_order = 2

    def public_queryset(self, private_pages: Q | None = None) -> QuerySet:
        from artists.models import ArtistPage

        # Artwork.objects.public() (live works by live artists), spelled with the fields the
        # search index can filter on: the live flag and the artist id.
        model = self.get_model()
        return model.objects.filter(live=True, artist__in=ArtistPage.objects.live())

    def autocomplete_queryset(self, private_pages: Q | None = None) -> QuerySet:
        return self.public_queryset().select_related("artist")

    def search_queryset(self, private_pages: Q | None = None) -> QuerySet:
        # Card data (availability, artist, images, tags) with a page of results: no second read.
        return self._with_card_data(self.public_queryset())

    def _with_card_data(self, queryset: QuerySet) -> QuerySet:
        queryset = queryset.for_listing()
        if not ranks_titles_first():
            return queryset.prefetch_related("tags")
        from django.contrib.postgres.aggregates import StringAgg

        from artworks.models import ArtworkTag

        names = (
            ArtworkTag.objects.filter(content_object=OuterRef("pk"))
            .values("content_object")
            .annotate(names=StringAgg("tag__name", ", ", order_by="id"))
            .values("names")
        )
        return queryset.annotate(tag_names=Subquery(names))

    def load(self, objects: Sequence[Model], request: HttpRequest | None) -> list[Model]:
        if all(getattr(obj, "listing_ready", False) for obj in objects):
            return list(objects)
        model = self.get_model()
        loaded = self._with_card_data(model.objects.public()).in_bulk([obj.pk for obj in objects])
        return [loaded[obj.pk] for obj in objects if obj.pk in loaded]

    def url(self, obj: Any, request: HttpRequest | None) -> str:
        return obj.get_url(request)

    def subtitle(self, obj: Any) -> str:
        return f"{obj.artist.title}, {obj.year}" if obj.year else obj.artist.title

    def image(self, obj: Any) -> tuple[Any, str]:
        return obj.main_image, obj.main_image_alt

    def snippet_texts(self, obj: Any) -> list[str]:
        # The description first: it is the snippet when only the title or the artist matched.
        medium = " · ".join(part for part in (obj.medium_label, obj.materials) if part)
        tags = getattr(obj, "tag_names", None)  # read with the results on PostgreSQL
        if tags is None and "tag_names" not in obj.__dict__:
            tags = ", ".join(tag.name for tag in obj.tags.all())
        return [text for text in (plain_text(obj.description), medium, tags) if text]


class ArtistResults(PageResultType):
    key, label, kind, model_label = "artists", "Artists", "artist", "artists.ArtistPage"
    image_field = "portrait"
    autocomplete_order = 1

    def subtitle(self, obj: Any) -> str:
        return " · ".join(part for part in (obj.based_in, obj.life_dates) if part)


class StoryResults(PageResultType):
    key, label, kind, model_label = "stories", "Stories", "story", "stories.StoryPage"
    image_field = "hero_image"
    autocomplete_order = 3

    def subtitle(self, obj: Any) -> str:
        author = getattr(obj, "author", "")
        return " · ".join(part for part in (author, super().subtitle(obj)) if part)


class CollectionResults(PageResultType):
    key, label, kind = "collections", "Collections", "collection"
    model_label = "curations.ArtworkCollectionPage"
    image_field = "hero_image"
    autocomplete_order = 4

    def subtitle(self, obj: Any) -> str:
        curator = getattr(obj, "curator_name", "")
        return f"Selected by {curator}" if curator else ""


class OtherPageResults(PageResultType):
    """Every other live page (about, FAQ, the index pages…), whatever its type."""

    key, label, kind, model_label = "pages", "Pages", "page", "wagtailcore.Page"

    def public_queryset(self, private_pages: Q | None = None) -> QuerySet:
        shown_elsewhere = [
            t.get_model() for t in RESULT_TYPES if isinstance(t, PageResultType) and t is not self
        ]
        return (
            super()
            .public_queryset(private_pages)
            .filter(depth__gt=1)  # not the tree's root, which has no URL
            .not_type(*[model for model in shown_elsewhere if model is not None])
            .specific()
        )


RESULT_TYPES: list[ResultType] = [
    ArtworkResults(),
    ArtistResults(),
    StoryResults(),
    CollectionResults(),
    OtherPageResults(),
]


def available_types() -> list[ResultType]:
    """The result types whose models exist (stories and collections may not, yet)."""
    return [result_type for result_type in RESULT_TYPES if result_type.available]


def get_type(key: str | None) -> ResultType | None:
    return next((t for t in available_types() if t.key == key), None)


def best_snippet(texts: Iterable[str], pattern: re.Pattern[str] | None) -> SafeString:
    """An excerpt of the text that matches the most query words; else the first text, unmarked."""
    texts = [text for text in texts if text]
    if not texts:
        return SafeString()
    scores = [count_matches(text, pattern) for text in texts]
    best = max(range(len(texts)), key=lambda i: (scores[i], -i))
    return excerpt(texts[best], pattern if scores[best] else None)


def indexed_text(obj: Any, search_field: index.SearchField) -> str:
    """A field's indexed text as plain text, without database queries.

    StreamFields are read from their raw JSON: asking a chooser block for its searchable content
    would load each chosen artwork or image. Relations are skipped for the same reason.
    """
    try:
        model_field = obj._meta.get_field(search_field.field_name)
    except FieldDoesNotExist:
        model_field = None
    if isinstance(model_field, StreamField):
        return plain_text(list(_raw_strings(getattr(obj, model_field.attname).raw_data)))
    if model_field is not None and model_field.is_relation:
        return ""
    return plain_text(search_field.get_value(obj))


# Settings rather than prose in a block's raw data: choice values ("h2", "left"), URLs.
NOT_PROSE = re.compile(r"[a-z0-9_-]+|https?://\S+|/\S*")


def _raw_strings(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        if not NOT_PROSE.fullmatch(data):
            yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            if key not in {"type", "id"}:
                yield from _raw_strings(value)
    elif isinstance(data, Iterable):
        for item in data:
            yield from _raw_strings(item)


def _private_pages() -> Q:
    """Where the private sections are: one query, shared by every page type in a search."""
    return Page.objects.private_q()


class TitleMatchesFirst:
    """Results that match in the title, then the others, each in the backend's order.

    PostgreSQL ranks a title match above a body match itself (the title carries the highest
    weight). SQLite FTS5 scores every column alike with bm25, so a word in a short description
    could outrank it in a title; there the two tiers are put together here, from two searches,
    holding every match in memory, which suits the embedded default's small database.
    """

    def __init__(self, backend: Any, text: str, queryset: QuerySet) -> None:
        in_title = list(backend.search(text, queryset, fields=["title"], operator=OPERATOR))
        seen = {obj.pk for obj in in_title}
        everywhere = backend.search(text, queryset, operator=OPERATOR, order_by_relevance=True)
        self._objects = in_title + [obj for obj in everywhere if obj.pk not in seen]

    def count(self) -> int:
        return len(self._objects)

    def __len__(self) -> int:
        return len(self._objects)

    def __getitem__(self, key: int | slice) -> Any:
        return self._objects[key]


def ranks_titles_first() -> bool:
    """Whether the search backend ranks title matches first by itself (PostgreSQL does)."""
    return connections[router.db_for_read(Page)].vendor == "postgresql"


def _search(
    result_type: ResultType,
    query: SearchQuery,
    private_pages: Q | None = None,
    *,
    with_card_data: bool = True,
):
    backend = get_search_backend()
    if with_card_data:
        queryset = result_type.search_queryset(private_pages)
    else:
        queryset = result_type.public_queryset(private_pages)
    if not ranks_titles_first():
        return TitleMatchesFirst(backend, query.searchable, queryset)
    return backend.search(query.searchable, queryset, operator=OPERATOR, order_by_relevance=True)


def _hits(
    result_type: ResultType,
    objects: Sequence[Model],
    query: SearchQuery,
    request: HttpRequest | None,
) -> list[Hit]:
    return _hits_of([(result_type, result_type.load(objects, request))], query, request)[0]


def _hits_of(
    loaded: list[tuple[ResultType, list[Model]]], query: SearchQuery, request: HttpRequest | None
) -> list[list[Hit]]:
    """Hits for each type's loaded objects; every thumbnail's renditions read in one query."""
    from core import renditions

    images = [
        image
        for result_type, objects in loaded
        for image, _alt in map(result_type.image, objects)
        if image is not None
    ]
    renditions.prefetch(images, HIT_IMAGE_SPECS)
    pattern = term_pattern(query.terms)
    return [[t.hit(obj, pattern, request) for obj in objects] for t, objects in loaded]


def _count_and_top(
    result_type: ResultType, query: SearchQuery, private_pages: Q | None
) -> tuple[int, list[Model]]:
    """How many results a type has, and its best few (without their card data).

    On PostgreSQL in one query: the count is a window over every match, worked out before the
    ``LIMIT``. The card data is then read for the few alone (``load``): computed in the search
    itself it cost 10 ms at 10,000 works, the planner working it out for every match.
    """
    results = _search(result_type, query, private_pages, with_card_data=False)
    size = result_type.group_size
    if not ranks_titles_first():  # SQLite (TitleMatchesFirst holds every match already)
        count = results.count()
        return count, list(results[:size]) if count else []
    top = list(results[:size].get_queryset().annotate(matches_in_all=Window(Count("pk"))))
    return (top[0].matches_in_all if top else 0), top


def _page_groups(
    page_types: list[PageResultType], query: SearchQuery
) -> list[tuple[PageResultType, int, list[Model]]]:
    """Every page type's count and best pages from one search over the pages (PostgreSQL ranks
    each page alone, so each type's order is the order its own search would give), and one
    query per model shown for their fields."""
    from django.contrib.contenttypes.models import ContentType

    other = next((t for t in page_types if isinstance(t, OtherPageResults)), None)
    by_model = {t.get_model(): t for t in page_types if t is not other}
    type_of_content = {
        ContentType.objects.get_for_model(model, for_concrete_model=False).pk: result_type
        for model, result_type in by_model.items()
    }
    queryset = Page.objects.live().public().filter(depth__gt=1)
    if other is None:
        queryset = queryset.type(*by_model)
    results = get_search_backend().search(
        query.searchable, queryset, operator=OPERATOR, order_by_relevance=True
    )
    # Ids and types only, best first: a common word matches hundreds of pages (artists at
    # 10,000 works), which are counted here, not loaded (nor their matched documents sent).
    found: dict[PageResultType, list[tuple[int, int]]] = {t: [] for t in page_types}
    for pk, content_type_id in results.get_queryset().values_list("pk", "content_type_id"):
        found[type_of_content.get(content_type_id, other)].append((pk, content_type_id))
    groups = []
    for result_type in page_types:
        rows = found[result_type]
        if rows:
            top = rows[: result_type.group_size]
            groups.append((result_type, len(rows), _specific(result_type, top)))
    return groups


def _specific(result_type: PageResultType, rows: list[tuple[int, int]]) -> list[Model]:
    """The pages ``(id, content type id)`` as their own models, in order: one query per model."""
    from django.contrib.contenttypes.models import ContentType

    ids_by_model: dict[type[Model], list[int]] = {}
    for pk, content_type_id in rows:
        model = ContentType.objects.get_for_id(content_type_id).model_class() or Page
        ids_by_model.setdefault(model, []).append(pk)
    loaded: dict[int, Model] = {}
    for model, ids in ids_by_model.items():
        queryset = model.objects.filter(pk__in=ids)
        if image_field := result_type._image_field(model):
            queryset = queryset.select_related(image_field)
        loaded |= queryset.in_bulk()
    return [loaded[pk] for pk, _ in rows if pk in loaded]


def search_grouped(query: SearchQuery, request: HttpRequest | None = None) -> list[Group]:
    """Every type's count and best results, artists first as in the suggestions; types without
    results are left out."""
    if not query:
        return []
    found: list[tuple[ResultType, int, list[Model]]] = []
    types = available_types()
    page_types = [t for t in types if isinstance(t, PageResultType)]
    one_page_search = ranks_titles_first() and len(page_types) > 1
    private_pages = _private_pages()
    for result_type in types:
        if one_page_search and result_type in page_types:
            continue
        count, top = _count_and_top(result_type, query, private_pages)
        if count:
            found.append((result_type, count, result_type.load(top, request)))
    if one_page_search:
        found += _page_groups(page_types, query)
    hits = _hits_of([(t, objects) for t, _count, objects in found], query, request)
    groups = [
        Group(t, count, type_hits) for (t, count, _), type_hits in zip(found, hits, strict=True)
    ]
    # In the suggestions' order: a visitor typing a name sees the artist before their works.
    return sorted(groups, key=lambda group: _suggestion_place(group.type))


def _suggestion_place(result_type: ResultType) -> int:
    order = result_type.autocomplete_order
    return len(RESULT_TYPES) + 1 if order is None else order


def search_type(
    query: SearchQuery,
    result_type: ResultType,
    page_number: Any,
    request: HttpRequest | None = None,
    per_page: int = RESULTS_PER_PAGE,
) -> PaginatorPage:
    """One page of one type's results; a bad page number gives the first or the last page."""
    # Card data is read for the page shown (``load``), not worked out for every match.
    results = _search(result_type, query, with_card_data=False) if query else []
    paginator = Paginator(results, per_page)
    rows = None
    if query and ranks_titles_first():
        # The count from the page's own query (a window over every match): one query, not two.
        number = _page_number(page_number)
        bottom = (number - 1) * per_page
        window = results[bottom : bottom + per_page].get_queryset()
        rows = list(window.annotate(matches_in_all=Window(Count("pk"))))
        if rows:
            paginator.count = rows[0].matches_in_all
    page = paginator.get_page(page_number)
    objects = rows if rows and page.number == _page_number(page_number) else page.object_list
    page.object_list = _hits(result_type, list(objects), query, request)
    return page


def _page_number(value: Any) -> int:
    """A page number as asked for; 1 for anything else (``Paginator.get_page`` then decides)."""
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def autocomplete(query: SearchQuery, request: HttpRequest | None = None) -> list[Hit]:
    """Title suggestions as the visitor types (the last word may be a prefix).

    Artists come first, then artworks, stories and collections; each type gets a fair share of the
    ``AUTOCOMPLETE_LIMIT`` places, and a type with fewer matches leaves its places to the others.
    """
    if len(query.searchable) < AUTOCOMPLETE_MIN_LENGTH:
        return []
    backend = get_search_backend()
    suggested = [t for t in available_types() if t.autocomplete_order is not None]
    private_pages = _private_pages()
    per_type: list[tuple[ResultType, list[Model]]] = []
    for result_type in sorted(suggested, key=lambda t: t.autocomplete_order):
        queryset = result_type.autocomplete_queryset(private_pages)
        results = backend.autocomplete(query.searchable, queryset, operator=OPERATOR)
        per_type.append((result_type, list(results[:AUTOCOMPLETE_LIMIT])))

    # Hand out the places one per type in turn, until they are taken or the matches run out.
    taken = [0] * len(per_type)
    places = AUTOCOMPLETE_LIMIT
    while places and any(taken[i] < len(objs) for i, (_, objs) in enumerate(per_type)):
        for i, (_, objs) in enumerate(per_type):
            if places and taken[i] < len(objs):
                taken[i] += 1
                places -= 1
    return [
        Hit(
            kind=result_type.kind,
            obj=obj,
            title=obj.title,
            url=result_type.url(obj, request),
            subtitle=result_type.subtitle(obj),
        )
        for (result_type, objects), count in zip(per_type, taken, strict=True)
        for obj in objects[:count]
    ]
