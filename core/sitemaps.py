"""sitemap.xml and robots.txt: every live public page plus one URL per public artwork.

``/sitemap.xml`` is a sitemap index (Django's ``index`` view) naming one document per section and
page: ``/sitemap-pages.xml``, ``/sitemap-artworks.xml?p=2`` …, each at most ``limit`` URLs, so
no request builds a document for the whole catalogue. Artworks are snippets served by the
artwork index's routes, so Wagtail's page sitemap cannot see them; ``ArtworkSitemap`` adds them.
Every URL is built on the request's scheme and host.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.sitemaps import Sitemap as DjangoSitemap
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from wagtail.contrib.sitemaps import Sitemap

from core.pages import apply_public_cache_headers


class PageSitemap(Sitemap):
    """Live public pages of the request's site, on the request's host.

    Wagtail's own sitemap loads every page as its specific type (a query per page type) and
    asks each for its URL; this reads the path, dates and tree columns only and writes each
    URL from ``url_path`` under the site's root (no page type here overrides
    ``get_sitemap_urls``). ``limit``: pages per document, as for the artworks.
    """

    limit = 1000

    def items(self):
        root = self.get_wagtail_site().root_page
        self.root_path = root.url_path
        return (
            root.get_descendants(inclusive=True)
            .live()
            .public()
            .order_by("path")
            .only("url_path", "last_published_at", "latest_revision_created_at")
        )

    def location(self, obj) -> str:
        return "/" + obj.url_path[len(self.root_path) :]

    def get_latest_lastmod(self):
        """For the index: one aggregate, not every page loaded to read its date."""
        return self.items().order_by().aggregate(latest=Max("last_published_at"))["latest"]

    def _urls(self, page, protocol, domain):
        return DjangoSitemap._urls(self, page, protocol, domain)


class ArtworkSitemap(Sitemap):
    """Live works by live artists at /artworks/<slug>/; drafts and unpublished works never."""

    limit = 1000  # URLs per document: a page of the index is a short query by primary key

    def items(self):
        from artworks.models import Artwork, ArtworkIndexPage

        if not ArtworkIndexPage.artwork_url("", self.request):
            return Artwork.objects.none()  # no live /artworks/ page serves them
        return Artwork.objects.public().only("slug", "last_published_at").order_by("pk")

    def location(self, obj) -> str:
        return obj.get_url(self.request)  # a path; the view adds scheme and host

    def get_latest_lastmod(self):
        return self.items().order_by().aggregate(latest=Max("last_published_at"))["latest"]

    def lastmod(self, obj):
        return obj.last_published_at

    def _urls(self, page, protocol, domain):
        # Django's own URL building (location + lastmod), not Wagtail's per-page
        # ``get_sitemap_urls``, which only pages have. Subclassing Wagtail's Sitemap is what
        # gets the request passed in.
        return DjangoSitemap._urls(self, page, protocol, domain)


SITEMAPS = {"pages": PageSitemap, "artworks": ArtworkSitemap}


def public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Send the public pages' ``Cache-Control`` (``s-maxage``, ``stale-while-revalidate``)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return apply_public_cache_headers(request, view(request, *args, **kwargs))

    return wrapped


@public
def robots_txt(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "robots.txt", content_type="text/plain; charset=utf-8")
