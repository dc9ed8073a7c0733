"""``{% seo_head %}``: canonical link, description, Open Graph, Twitter card and JSON-LD."""

from django import template
from django.apps import apps
from django.utils.safestring import mark_safe
from wagtail.models import Page, Site

from core import seo

register = template.Library()


def _story_page_model():
    try:
        return apps.get_model("stories", "StoryPage")
    except LookupError:
        return None


def _is_site_root(page: Page, request) -> bool:
    site = Site.find_for_request(request) if request is not None else None
    return site is not None and site.root_page_id == page.pk


@register.inclusion_tag("includes/seo_head.html", takes_context=True)
def seo_head(context, offer=None) -> dict:
    """Pick the metadata from the context: an artwork detail first, else the page's type.

    Everything is read from objects the view put in the context; nothing else is queried. An
    artwork's ``offer`` (price and availability) is given by the template, from the shop.
    """
    from artists.models import ArtistPage
    from artworks.models import Artwork

    request = context.get("request")
    artwork = context.get("artwork")
    page = context.get("page")
    head = data = None

    if isinstance(artwork, Artwork):
        head = seo.artwork_head(artwork, request, context.get("canonical_url"))
        data = seo.artwork_json_ld(artwork, request, head, offer)
    elif isinstance(page, Page):  # the search view's "page" is a paginator page
        page = page.specific
        story_page = _story_page_model()
        if isinstance(page, ArtistPage):
            head = seo.page_head(page, request, og_type="profile")
            data = seo.artist_json_ld(page, head)
        elif story_page is not None and isinstance(page, story_page):
            head = seo.page_head(page, request, og_type="article")
            data = seo.story_json_ld(page, request, head)
        elif _is_site_root(page, request):
            head = seo.page_head(page, request, is_home=True)
            data = seo.website_json_ld(request, head)
        else:
            head = seo.page_head(page, request)

    return {
        "head": head,
        "site_name": seo.site_name(request),
        # seo.json_ld escapes <, > and &, so the data cannot leave its <script> element.
        "json_ld": mark_safe(seo.json_ld(data)) if data else "",  # noqa: S308
    }
