"""What search engines and link previews read: head metadata and schema.org JSON-LD.

Plain functions: the ``seo_head`` template tag (``core/templatetags/seo_tags.py``) picks the
builders from what is in the template context and renders ``includes/seo_head.html``. They read
objects the view already loaded (the artwork with its artist, images and availability; the page
with its image), so the head costs no extra queries once the 1200x630 rendition is cached.

Absolute URLs are built on the request's host, as the sitemap's are.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import strip_tags
from wagtail.contrib.routable_page.models import RoutablePageMixin
from wagtail.images.models import SourceImageIOError
from wagtail.models import Page, Site

SITE_NAME = "ArtSpot"
SCHEMA = "https://schema.org"
# Open Graph's recommended size; the same rendition serves og:image and the JSON-LD image.
OG_IMAGE_SPEC = "fill-1200x630"
DESCRIPTION_LENGTH = 155

# Escaped inside JSON strings so the data can never close the <script> element or open a comment.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
_BLOCK_END = re.compile(r"</(?:p|li|h[1-6]|blockquote|ul|ol)>|<br\s*/?>", re.IGNORECASE)


@dataclass(frozen=True)
class SocialImage:
    url: str
    width: int
    height: int
    alt: str


@dataclass(frozen=True)
class HeadMeta:
    """The tags of ``includes/seo_head.html``."""

    title: str
    description: str
    canonical_url: str
    og_type: str = "website"
    image: SocialImage | None = None
    published: str = ""  # article:published_time, for stories


# --- Helpers --------------------------------------------------------------------------------------


def absolute_url(request: HttpRequest | None, url: str) -> str:
    """``url`` on the request's scheme and host; full URLs (media on a CDN) stay as they are."""
    if not url or request is None:
        return url
    return request.build_absolute_uri(url)


def site_name(request: HttpRequest | None) -> str:
    site = Site.find_for_request(request) if request is not None else None
    return (site.site_name if site else "") or SITE_NAME


def plain_text(rich_text: str) -> str:
    """Rich text HTML as one line of plain text (paragraphs and list items kept apart)."""
    text = html.unescape(strip_tags(_BLOCK_END.sub(" ", rich_text or "")))
    return " ".join(text.split())


def summarise(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """``text`` cut to ``limit`` characters at a word boundary, with an ellipsis when cut."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.–—-") + "…"


def social_image(image, request: HttpRequest | None) -> SocialImage | None:
    """A 1200x630 crop for link previews; ``None`` without an image or its source file."""
    if image is None:
        return None
    try:
        rendition = image.get_rendition(OG_IMAGE_SPEC)
    except SourceImageIOError:
        return None
    return SocialImage(
        url=absolute_url(request, rendition.url),
        width=rendition.width,
        height=rendition.height,
        alt=image.default_alt_text,
    )


def _distance(value: Decimal | None) -> dict[str, str] | None:
    if not value:
        return None
    return {"@type": "Distance", "name": f"{value.normalize():f} cm"}


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def json_ld(data: dict[str, Any]) -> str:
    """JSON for a ``<script type="application/ld+json">`` element, safe to output unescaped.

    ``<``, ``>`` and ``&`` become JSON unicode escapes, so a title such as ``</script>`` stays
    inside its string; parsers read the same text back.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.translate(_JSON_SCRIPT_ESCAPES)


# --- Head metadata --------------------------------------------------------------------------------


def artwork_description(artwork) -> str:
    """The work's own words, else "Title by Artist, materials, dimensions"."""
    text = plain_text(artwork.description)
    if not text:
        text = ", ".join(
            part
            for part in (
                f"{artwork.title} by {artwork.artist.title}",
                artwork.materials or artwork.get_medium_display(),
                artwork.dimensions_cm,
            )
            if part
        )
    return summarise(text)


def artwork_head(
    artwork, request: HttpRequest | None, canonical_url: str | None = None
) -> HeadMeta:
    return HeadMeta(
        title=f"{artwork.title} by {artwork.artist.title}",
        description=artwork_description(artwork),
        canonical_url=absolute_url(request, canonical_url or artwork.get_url(request)),
        image=social_image(artwork.main_image, request),
    )


def page_description(page: Page) -> str:
    """The editor's search description, else the page's own summary field."""
    for field in ("search_description", "short_biography", "introduction", "hero_text"):
        text = getattr(page, field, "")
        if text:
            return summarise(text)
    return ""


def page_image(page: Page):
    """The image that stands for the page: its hero image or the artist's portrait."""
    for field in ("hero_image", "portrait"):
        image = getattr(page, field, None)
        if image is not None:
            return image
    return None


def listing_page_number(request: HttpRequest | None) -> int:
    """The ``?page=`` of a paginated listing; 1 when absent or not a number."""
    if request is None:
        return 1
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except (TypeError, ValueError):
        return 1


def page_canonical_url(page: Page, request: HttpRequest | None) -> str:
    """The page's own URL on the request's host; filters dropped, ``?page=N`` kept when N > 1.

    A routable page's sub-route (e.g. ``/stories/feed/``) is its own canonical.
    """
    url = page.get_url(request) or ""
    path = getattr(request, "path", "")
    if isinstance(page, RoutablePageMixin) and url.startswith("/") and path.startswith(url):
        url = path
    number = listing_page_number(request)
    if number > 1:
        url = f"{url}?page={number}"
    return absolute_url(request, url)


def page_head(
    page: Page, request: HttpRequest | None, og_type: str = "website", is_home: bool = False
) -> HeadMeta:
    published = ""
    if og_type == "article" and getattr(page, "date", None):
        published = page.date.isoformat()
    return HeadMeta(
        # A home page called "Home" reads better in a preview as the site's name.
        title=page.seo_title or (site_name(request) if is_home else page.title),
        description=page_description(page),
        canonical_url=page_canonical_url(page, request),
        og_type=og_type,
        image=social_image(page_image(page), request),
        published=published,
    )


# --- JSON-LD --------------------------------------------------------------------------------------


class OfferLike(Protocol):
    """What the shop's offer gives JSON-LD (``shop.offers.Offer``); core knows no shop."""

    def schema(self, url: str) -> dict[str, Any] | None: ...


def artwork_json_ld(
    artwork, request: HttpRequest | None, head: HeadMeta, offer: OfferLike | None = None
) -> dict[str, Any]:
    artist = artwork.artist
    data = {
        "@context": SCHEMA,
        "@type": "VisualArtwork",
        "name": artwork.title,
        "url": head.canonical_url,
        "image": head.image.url if head.image else None,
        "description": head.description,
        "creator": {
            "@type": "Person",
            "name": artist.title,
            "url": absolute_url(request, artist.get_url(request)),
        },
        "dateCreated": str(artwork.year) if artwork.year else None,
        "artform": artwork.get_medium_display(),
        "artMedium": artwork.materials or artwork.get_medium_display(),
        "height": _distance(artwork.height_cm),
        "width": _distance(artwork.width_cm),
        "depth": _distance(artwork.depth_cm),
        "artEdition": artwork.edition_size if artwork.is_edition else None,
        "offers": offer.schema(head.canonical_url) if offer is not None else None,
    }
    return _drop_empty(data)


def artist_json_ld(artist, head: HeadMeta) -> dict[str, Any]:
    same_as = [block.value["url"] for block in artist.links if block.block_type == "link"]
    data = {
        "@context": SCHEMA,
        "@type": "Person",
        "name": artist.title,
        "url": head.canonical_url,
        "image": head.image.url if head.image else None,
        "birthDate": str(artist.born) if artist.born else None,
        "deathDate": str(artist.died) if artist.died else None,
        "nationality": artist.nationality,
        "homeLocation": artist.based_in,
        "description": artist.short_biography or head.description,
        "sameAs": same_as,
    }
    return _drop_empty(data)


def story_json_ld(story, request: HttpRequest | None, head: HeadMeta) -> dict[str, Any]:
    data = {
        "@context": SCHEMA,
        "@type": "Article",
        "headline": story.title,
        "url": head.canonical_url,
        "mainEntityOfPage": head.canonical_url,
        "image": head.image.url if head.image else None,
        "datePublished": story.date.isoformat() if story.date else None,
        "author": {"@type": "Person", "name": story.author} if story.author else None,
        "publisher": {"@type": "Organization", "name": site_name(request)},
        "description": story.introduction or head.description,
    }
    return _drop_empty(data)


def website_json_ld(request: HttpRequest | None, head: HeadMeta) -> dict[str, Any]:
    """The site, with the search box search engines may show under it."""
    search_url = absolute_url(request, reverse("search"))
    return {
        "@context": SCHEMA,
        "@type": "WebSite",
        "name": site_name(request),
        "url": head.canonical_url,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": f"{search_url}?query={{search_term_string}}",
            },
            "query-input": "required name=search_term_string",
        },
    }
