"""The main menu, built from the page tree and cached per site until a page changes."""

from django.core.cache import cache
from django.http import HttpRequest
from wagtail.models import Page, Site

MENU_CACHE_SECONDS = 3600


def _cache_key(site_id: int) -> str:
    return f"main-menu:{site_id}"


def main_menu(site: Site, request: HttpRequest | None = None) -> list[dict[str, str]]:
    """Title and URL of each live, public, in-menu child of the site's root page."""
    key = _cache_key(site.pk)
    items = cache.get(key)
    if items is None:
        children = Page.objects.child_of(site.root_page).live().public().in_menu()
        items = [{"title": page.title, "url": page.get_url(request=request)} for page in children]
        cache.set(key, items, MENU_CACHE_SECONDS)
    return items


def help_links(site: Site, request: HttpRequest | None = None) -> list[dict[str, str]]:
    """Standard pages under the home page (About, Shipping & returns, FAQ …) for the footer."""
    from home.models import StandardPage

    key = f"help-links:{site.pk}"
    items = cache.get(key)
    if items is None:
        pages = StandardPage.objects.child_of(site.root_page).live().public()
        items = [{"title": page.title, "url": page.get_url(request=request)} for page in pages]
        cache.set(key, items, MENU_CACHE_SECONDS)
    return items


def forget_menus() -> None:
    """Drop every cached menu; called whenever a page is published, moved or removed."""
    site_ids = list(Site.objects.values_list("pk", flat=True))
    cache.delete_many([_cache_key(pk) for pk in site_ids] + [f"help-links:{pk}" for pk in site_ids])
