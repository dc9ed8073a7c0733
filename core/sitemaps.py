"""sitemap.xml and robots.txt: every live public page plus one URL per public artwork.

Artworks are snippets served by the artwork index's routes, so Wagtail's page sitemap cannot
see them; ``ArtworkSitemap`` adds them. Every URL is built on the request's scheme and host.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.contrib.sitemaps import Sitemap as DjangoSitemap
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from wagtail.contrib.sitemaps import Sitemap

from core.pages import apply_public_cache_headers


class PageSitemap(Sitemap):
    """Wagtail's sitemap of live public pages, on the request's host.

    Wagtail gives each page's URL on its Site's hostname (``localhost`` in a fresh install);
    the request's host keeps pages and artworks in one sitemap on one host.
    """

    def _urls(self, page, protocol, domain):
        urls = super()._urls(page, protocol, domain)
        for url_info in urls:
            parts = urlsplit(url_info["location"])
            path = f"{parts.path}?{parts.query}" if parts.query else parts.path
            url_info["location"] = f"{protocol}://{domain}{path}"
        return urls


class ArtworkSitemap(Sitemap):
    """Live works by live artists at /artworks/<slug>/; drafts and unpublished works never."""

    def items(self):
        from artworks.models import Artwork, ArtworkIndexPage

        if not ArtworkIndexPage.artwork_url("", self.request):
            return Artwork.objects.none()  # no live /artworks/ page serves them
        return Artwork.objects.public().only("slug", "last_published_at").order_by("pk")

    def location(self, obj) -> str:
        return obj.get_url(self.request)  # a path; the view adds scheme and host

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
