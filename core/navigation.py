"""Site navigation from the page tree: the main menu and the footer's help links.

Both come from one query over the home page's children and are cached per site until a page
is published, moved or removed (see ``core.signal_handlers``).
"""

from django.core.cache import cache
from django.http import HttpRequest
from wagtail.models import Page, Site

MENU_CACHE_SECONDS = 3600


def _cache_key(site_id: int) -> str:
    return f"navigation:{site_id}"


def _navigation(site: Site, request: HttpRequest | None) -> dict[str, list[dict[str, str]]]:
    key = _cache_key(site.pk)
    navigation = cache.get(key)
    if navigation is None:
        from home.models import StandardPage

        children = Page.objects.child_of(site.root_page).live().public().specific(defer=True)
        navigation = {"menu": [], "help": []}
        for page in children:
            item = {"title": page.title, "url": page.get_url(request=request)}
            if page.show_in_menus:
                navigation["menu"].append(item)
            elif isinstance(page, StandardPage):
                navigation["help"].append(item)
        cache.set(key, navigation, MENU_CACHE_SECONDS)
    return navigation


def main_menu(site: Site, request: HttpRequest | None = None) -> list[dict[str, str]]:
    """Title and URL of each live, public, in-menu child of the site's root page."""
    return _navigation(site, request)["menu"]


def help_links(site: Site, request: HttpRequest | None = None) -> list[dict[str, str]]:
    """Standard pages under the home page that are not in the menu (Shipping, FAQ …)."""
    return _navigation(site, request)["help"]


def index_url(model: type[Page], request: HttpRequest | None = None) -> str:
    """The URL of ``model``'s first live page (a site's one index, such as /artworks/).

    Cached with the navigation, so a listing's links cost no query; "" when there is none.
    """
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        page = model.objects.live().first()
        return page.get_url(request=request) if page else ""
    key = f"{_cache_key(site.pk)}:indexes"
    urls = cache.get(key) or {}
    label = model._meta.label_lower
    if label not in urls:
        page = model.objects.live().first()
        urls[label] = page.get_url(request=request) if page else ""
        cache.set(key, urls, MENU_CACHE_SECONDS)
    return urls[label]


def forget_menus() -> None:
    """Drop every cached navigation; called whenever a page is published, moved or removed."""
    keys = []
    for pk in Site.objects.values_list("pk", flat=True):
        keys += [_cache_key(pk), f"{_cache_key(pk)}:indexes"]
    cache.delete_many(keys)
