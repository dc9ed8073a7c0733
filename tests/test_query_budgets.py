"""Every public page an anonymous visitor can reach costs at most 12 queries, at N and at 5N works.

Issue 12's acceptance line: "every public page ≤ 12 queries cold (renditions already made)
whatever the number of works". Cold means the origin's page cache misses (it is off in the test
settings); the renditions each page shows are made first (``core.renditions.make``, as the task
does), then each page is asked for once to warm the per-process and Redis caches that any
visitor's first request fills, and counted on its second view.

:data:`PAGES` lists the page kinds. Tests below fail when a page model, a route of a routable
page or a top-level URL appears that is neither listed there nor in :data:`NOT_PAGES` with the
reason it is not a public page, so a new page kind cannot slip past its budget.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.models import Page, get_page_models

from artists.models import ArtistIndexPage, ArtistPage
from artworks.catalogue import ensure_catalogue
from artworks.models import Artwork, ArtworkIndexPage
from core import renditions
from curations.models import ArtworkCollectionPage, CollectionIndexPage
from drops.models import DropIndexPage, DropPage
from home.models import HomePage, StandardPage
from stories.models import StoryIndexPage, StoryPage

BUDGET = 12
GROWTH = 5


def _first_live(model: type[Page]) -> Page:
    page = model.objects.live().public().order_by("path").first()
    assert page is not None, f"the demo content has no live {model.__name__}"
    return page


def _work() -> Artwork:
    return Artwork.objects.public().order_by("pk").first()


def _artist_with_works() -> ArtistPage:
    return ArtistPage.objects.live().filter(artworks__live=True).order_by("path").distinct().first()


def _story_with_artworks() -> StoryPage:
    for story in StoryPage.objects.live().public().order_by("path"):
        if any(block.block_type == "artwork" for block in story.body):
            return story
    raise AssertionError("the demo content has no live story with an artwork block")


# page kind: (the page model or route it shows, how to find its URL)
PAGES: dict[str, tuple[str, Callable[[], str]]] = {
    "home": ("home.HomePage", lambda: _first_live(HomePage).url),
    "standard page": ("home.StandardPage", lambda: _first_live(StandardPage).url),
    "browse": ("artworks.ArtworkIndexPage", lambda: _first_live(ArtworkIndexPage).url),
    "browse, filtered and sorted": (
        "artworks.ArtworkIndexPage:browse",
        lambda: (
            _first_live(ArtworkIndexPage).url + "?medium=painting&availability=available&sort=price"
        ),
    ),
    "browse, by theme": (
        "artworks.ArtworkIndexPage:browse",
        lambda: _first_live(ArtworkIndexPage).url + "?tag=coastal",
    ),
    "browse, page 2": (
        "artworks.ArtworkIndexPage:browse",
        lambda: _first_live(ArtworkIndexPage).url + "?page=2",
    ),
    "artwork": ("artworks.ArtworkIndexPage:artwork_detail", lambda: _work().get_url()),
    "artist index": ("artists.ArtistIndexPage", lambda: _first_live(ArtistIndexPage).url),
    "artist": ("artists.ArtistPage", lambda: _artist_with_works().url),
    "collection index": (
        "curations.CollectionIndexPage",
        lambda: _first_live(CollectionIndexPage).url,
    ),
    "collection": (
        "curations.ArtworkCollectionPage",
        lambda: _first_live(ArtworkCollectionPage).url,
    ),
    "story index": ("stories.StoryIndexPage", lambda: _first_live(StoryIndexPage).url),
    "story with artworks": ("stories.StoryPage", lambda: _story_with_artworks().url),
    "stories RSS feed": (
        "stories.StoryIndexPage:rss_feed",
        lambda: _first_live(StoryIndexPage).url + "feed/rss/",
    ),
    "stories Atom feed": (
        "stories.StoryIndexPage:atom_feed",
        lambda: _first_live(StoryIndexPage).url + "feed/atom/",
    ),
    "drop index": ("drops.DropIndexPage", lambda: _first_live(DropIndexPage).url),
    "drop": ("drops.DropPage", lambda: _first_live(DropPage).url),
    "search: works, artists and stories": ("url:search", lambda: "/search/?query=painting"),
    "search: no results": ("url:search", lambda: "/search/?query=zzzyxnothing"),
    "search: empty form": ("url:search", lambda: "/search/"),
    "sitemap index": ("url:sitemap", lambda: "/sitemap.xml"),
    "sitemap of pages": ("url:sitemap_section", lambda: "/sitemap-pages.xml"),
    "sitemap of works": ("url:sitemap_section", lambda: "/sitemap-artworks.xml"),
    "robots.txt": ("url:robots_txt", lambda: "/robots.txt"),
}

# Top-level URLs and page routes that are not public pages, and why.
NOT_PAGES = {
    "artworks.ArtworkIndexPage:artwork_inquiry": "an enquiry sent (POST only)",
    "url:healthz": "health check for the load balancer",
    "url:readyz": "readiness check",
    "url:csrf_token": "a visitor's own CSRF token (never cached)",
    "url:ses_events": "SNS webhook (POST)",
    "url:csp_report": "CSP violation reports (POST)",
    "url:search_autocomplete": "JSON for the search box, not a page",
    "admin/": "the editors' admin",
    "documents/": "document downloads (served files)",
    "shop/": "the visitor's own cart and checkout (never cached)",
    "accounts/": "collectors' accounts (signed in, never cached)",
    "drop-alerts/": "a visitor's own drop sign-up forms (never cached)",
    "account/": "a signed-in collector's saved works and alerts",
    "drop-queue/": "a visitor's own place in a drop's queue (never cached)",
    "": "Wagtail's page tree: every page model is listed in PAGES",
}


def _key(model: type) -> str:
    return f"{model._meta.app_label}.{model.__name__}"


def _top_level_urls() -> set[str]:
    found = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLPattern):
            if entry.name:
                found.add(f"url:{entry.name}")
        elif isinstance(entry, URLResolver):
            found.add(str(entry.pattern))
    return found


def test_every_page_model_and_route_is_listed():
    covered = {kind for kind, _ in PAGES.values()} | set(NOT_PAGES)
    wanted = set()
    for model in get_page_models():
        if model is Page or model._meta.abstract or model.__module__.startswith("wagtail."):
            continue
        if issubclass(model, RoutablePageMixin):
            # (Wagtail's own "" route, index_route, serves the page itself.)
            names = {pattern.callback.__name__ for pattern in model.get_subpage_urls()}
            wanted |= {
                _key(model) if name == "index_route" else f"{_key(model)}:{name}" for name in names
            }
        else:
            wanted.add(_key(model))
    assert wanted - covered == set(), "page kinds without a query budget"


def test_every_top_level_url_is_listed_or_excused():
    listed = {kind for kind, _ in PAGES.values()} | set(NOT_PAGES)
    listed = {kind for kind in listed if kind.startswith("url:") or "." not in kind}
    assert _top_level_urls() - listed == set(), "URLs neither budgeted nor excused"
    assert listed - _top_level_urls() == set(), "listed URLs that no longer exist"


# --- The catalogue at N and at 5N -----------------------------------------------------------------


def _urls() -> dict[str, str]:
    return {name: find() for name, (_, find) in PAGES.items()}


def _make_renditions(urls: dict[str, str]) -> None:
    """View every page; make the renditions they asked for, as the task would."""
    client = Client()
    renditions.queued.clear()
    for url in urls.values():
        client.get(url)
    for image_pk, specs in list(renditions.queued):
        renditions.make([image_pk], list(specs))
    renditions.queued.clear()


def _count(client: Client, url: str, django_assert_max_num_queries) -> int:
    response = client.get(url)  # warms the caches any first visitor fills
    assert response.status_code == 200, (url, response.status_code)
    with django_assert_max_num_queries(BUDGET) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    assert "X-Page-Cache" not in response or response["X-Page-Cache"] != "hit"
    return len(captured.captured_queries)


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker):
    """The demo catalogue, its pages' renditions made; grown to 5N by ``grown``. Rolled back."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            state = {"urls": _urls(), "works": Artwork.objects.count(), "counts": {}}
            _make_renditions(state["urls"])
            yield state
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(scope="module")
def grown(catalogue, django_db_blocker):
    with django_db_blocker.unblock():
        works = catalogue["works"]
        ensure_catalogue(GROWTH * works, GROWTH * ArtistPage.objects.count())
        assert Artwork.objects.count() >= GROWTH * works
        # The artist page, browse and the rest show new works: their renditions too.
        catalogue["urls"] = _urls()
        _make_renditions(catalogue["urls"])
        yield catalogue


@pytest.mark.parametrize("page", PAGES)
def test_page_within_budget_at_n_works(catalogue, db, client, page, django_assert_max_num_queries):
    url = catalogue["urls"][page]
    catalogue["counts"][page] = _count(client, url, django_assert_max_num_queries)


@pytest.mark.parametrize("page", PAGES)
def test_page_within_budget_at_5n_works(grown, db, client, page, django_assert_max_num_queries):
    count = _count(client, grown["urls"][page], django_assert_max_num_queries)
    if page in grown["counts"]:
        assert count <= grown["counts"][page], "more works must not mean more queries"
