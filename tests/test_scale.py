"""The catalogue at scale: browse's queries use indexes at 10,000 works, and pages cost the same
number of queries at N and 5N works.

The 10,000 works come from the same bulk generator as ``load_demo --artworks`` and the
benchmarks (``artworks.catalogue``), inside one transaction that is rolled back after the module.
Plans are read with ``EXPLAIN`` after ``ANALYZE``, for the SQL each browse URL actually runs.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.search.models import IndexEntry

from artists.models import ArtistPage
from artworks.catalogue import GROWN_TABLES, ensure_catalogue
from artworks.models import Artwork, ArtworkIndexPage

WORKS = 10_000
ARTISTS = 1_000
# Tables that grow with the catalogue: a page must never read one of them from end to end.
BIG_TABLES = (
    "artworks_artwork",
    "artworks_artworkunit",
    "artworks_artworktag",
    "artworks_artworkimage",
    "artworks_artworkcontributor",
)
# What the bulk load grew (artworks.catalogue), and the images the cards join.
ANALYZED = (*GROWN_TABLES, "core_customimage")
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")

# Every browse filter and sort (artworks.filters), and deep pages.
BROWSE = {
    "newest": "",
    "price, low to high": "sort=price",
    "price, high to low": "sort=-price",
    "medium": "medium=ceramics",
    "size": "size=large",
    "orientation": "orientation=square",
    "price range": "price_min=1000&price_max=2000",
    "min price, high to low": "price_min=5000&sort=-price",
    "available": "availability=available",
    "sold": "availability=sold",
    "not for sale": "availability=not-for-sale",
    "theme": "tag=coastal",
    "artist": "artist={artist}",
    "everything at once": "medium=painting&size=medium&orientation=landscape&availability=available"
    "&price_max=9000&sort=price",
    "page 2": "page=2",
}


def page_queries(client, urls: dict[str, str]) -> dict[str, int]:
    """Queries per page on its second view (its renditions made and cached by the first)."""
    counts = {}
    for name, url in urls.items():
        assert client.get(url).status_code == 200, url
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, url
        counts[name] = len(captured)
    return counts


def test_load_demo_grows_the_catalogue_in_bulk_with_progress_and_twice_changes_nothing(db):
    from io import StringIO

    from django.core.management import call_command

    works, artists = Artwork.objects.count(), ArtistPage.objects.count()
    if works > 2_000:
        pytest.skip("runs on the demo catalogue, before the 10,000-work fixture")
    out = StringIO()
    call_command("load_demo", artworks=works + 1_200, artists=artists + 30, stdout=out)
    text = out.getvalue()
    # Not a terminal: plain lines, the last one at 100%.
    assert "Catalogue: 1,200 of 1,200 works (100%)" in text, text
    assert "1,200 catalogue works added" in text
    assert Artwork.objects.count() == works + 1_200
    assert ArtistPage.objects.live().count() == artists + 30
    new = Artwork.objects.filter(slug__regex=r"-c[0-9]+$").order_by("-pk").first()
    assert new.is_public and new.units.exists() and new.gallery_images.exists()
    assert new.contributors.get().artist_id == new.artist_id
    added = Artwork.objects.filter(slug__regex=r"-c[0-9]+$").values_list("pk", flat=True)
    indexed = IndexEntry.objects.filter(
        content_type__model="artwork", object_id__in=[str(pk) for pk in added]
    )
    assert indexed.count() == len(added) == 1_200  # the search index, written in bulk

    again = StringIO()
    call_command("load_demo", artworks=works + 1_200, artists=artists + 30, stdout=again)
    assert "catalogue works added" not in again.getvalue()
    assert Artwork.objects.count() == works + 1_200


def test_pages_cost_the_same_queries_at_n_and_5n_works(db, client):
    """Browse, filters, a deep page, a work, an artist, a story, search and the sitemaps."""
    from stories.models import StoryPage

    n = Artwork.objects.count()
    if n > 2_000:
        pytest.skip("runs on the demo catalogue, before the 10,000-work fixture")
    artist = ArtistPage.objects.live().order_by("path").first()
    work = Artwork.objects.public().filter(artist=artist).order_by("pk").first()
    story = StoryPage.objects.live().order_by("path").first()
    urls = {
        "browse": "/artworks/",
        "browse, filtered and sorted": "/artworks/?medium=painting&availability=sold&sort=price",
        "browse, last page": "/artworks/?page=9999",
        "artwork": work.get_url(),
        "artist": artist.url,
        "story": story.url,
        "search": "/search/?query=painting",
        "sitemap index": "/sitemap.xml",
        "sitemap of works": "/sitemap-artworks.xml",
    }
    at_n = page_queries(client, urls)
    ensure_catalogue(5 * n, 5 * ArtistPage.objects.count())
    analyze()
    assert Artwork.objects.count() == 5 * n
    assert at_n == page_queries(client, urls)


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    """10,000 works by 1,000 artists (the demo's included), analysed; rolled back afterwards."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            ensure_catalogue(WORKS, ARTISTS)
            analyze()
            yield
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def analyze() -> None:
    """Statistics for the tables the catalogue grew (never the whole database: ANALYZE inside
    this long transaction would hold its locks on the shared catalogues until the end)."""
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(ANALYZED)}")


def plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def browse_queries(query: str) -> list[str]:
    """The SQL browse runs for ``/artworks/?query`` (its listing, count and cards), unrendered."""
    index = ArtworkIndexPage.objects.live().get()
    request = RequestFactory().get(f"/artworks/?{query}")
    with CaptureQueriesContext(connection) as captured:
        _, problems, page = index.browse_listing(request)
        assert page.paginator.count and list(page)
    assert not problems, problems
    return [q["sql"] for q in captured.captured_queries if "artworks_artwork" in q["sql"]]


def test_the_catalogue_has_ten_thousand_public_works(catalogue, db):
    assert Artwork.objects.public().count() >= WORKS - 50  # the demo's few drafts aside
    assert ArtistPage.objects.live().count() >= ARTISTS - 5


@pytest.mark.parametrize("name", BROWSE)
def test_browse_reads_the_big_tables_through_indexes(catalogue, db, name):
    """The page's listing and card queries: index scans, never a whole big table.

    The count ("10,000 works") reads every matching row by nature; it is left to the planner
    (a sequential scan of one narrow table is the cheap way to count most of it) but never
    aggregates the inventory: stock is worked out for the page's 24 cards only.
    """
    artist = ArtistPage.objects.live().filter(artworks__live=True).order_by("path").last()
    queries = browse_queries(BROWSE[name].format(artist=artist.slug))
    listing = [sql for sql in queries if not sql.startswith("SELECT COUNT(*)")]
    counts = [sql for sql in queries if sql.startswith("SELECT COUNT(*)")]
    assert listing and len(counts) == 1
    for sql in listing:
        explained = plan(sql)
        scanned = set(SEQ_SCAN.findall(explained)) & set(BIG_TABLES)
        assert not scanned, f"{name}: sequential scan of {scanned}\n{sql}\n{explained}"
        assert "Index" in explained, f"{name}: no index used\n{explained}"
    # No aggregate over the inventory (an availability filter asks EXISTS, row by row).
    assert "GROUP BY" not in counts[0]
    assert 'COUNT("artworks_artworkunit' not in counts[0]


def test_each_sort_walks_its_own_index(catalogue, db):
    """The first page of each sort reads 24 rows off an index in the sort's order: no sort."""
    for query, index in (
        ("", "artwork_live_newest"),
        ("sort=price", "artwork_live_price"),
        ("sort=-price", "artwork_live_price_desc"),
    ):
        ids = next(sql for sql in browse_queries(query) if '"id" AS "pk"' in sql)
        explained = plan(ids)
        assert f"Index Scan using {index} " in explained, explained
        assert "Sort" not in explained.split(index)[0], explained


def test_a_deep_page_costs_what_a_narrow_index_walk_costs(catalogue, db):
    """Page 400: the skipped rows are ids only; the cards' data is read for 24 rows."""
    queries = browse_queries("page=400")
    ids = next(sql for sql in queries if '"id" AS "pk"' in sql)
    cards = next(sql for sql in queries if '"artworks_artwork"."id" IN (' in sql)
    assert "OFFSET 9576" in ids
    assert "artworks_artworkunit" not in ids  # no stock work for skipped rows
    assert "OFFSET" not in cards
    assert "Index" in plan(cards)


@pytest.mark.parametrize("query", ["", "availability=sold&page=40"])
def test_browse_costs_the_same_queries_at_10000_works(catalogue, db, client, query):
    client.get(f"/artworks/?{query}")  # renditions are made on the first view
    with CaptureQueriesContext(connection) as captured:
        client.get(f"/artworks/?{query}")
    assert len(captured) <= 12, [q["sql"][:120] for q in captured.captured_queries]


@pytest.mark.parametrize("url", ["/search/?query=harbour", "/search/?query=harbour&type=artworks"])
def test_search_finds_works_through_the_document_index(catalogue, db, client, url):
    """Wagtail's PostgreSQL backend matches ``title || body``: a word a few hundred of 10,000
    works hold is found through the GIN index on that expression (search/migrations/0001), never
    by reading every work's entry. (A word most works hold may be read either way: the planner's
    call. Artists, stories and pages are a few hundred entries.)"""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    matching = [
        q["sql"]
        for q in captured.captured_queries
        if "@@" in q["sql"] and 'FROM "artworks_artwork"' in q["sql"]
    ]
    # Grouped and one type alike: one ranked query whose window counts every match.
    assert len(matching) == 1, matching
    for sql in matching:
        explained = plan(sql)
        assert "search_indexentry_document" in explained, f"{sql}\n{explained}"
        assert "Seq Scan on wagtailsearch_indexentry" not in explained, explained
