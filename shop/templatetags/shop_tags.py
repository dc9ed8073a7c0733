from django import template
from django.conf import settings

from shop.cart import SESSION_KEY

register = template.Library()


@register.simple_tag(takes_context=True)
def cart_count(context) -> int:
    """Items in the visitor's cart; visitors without a session cost nothing to ask."""
    request = context.get("request")
    if request is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return 0
    items = request.session.get(SESSION_KEY, {})
    return sum(v for v in items.values() if isinstance(v, int)) if isinstance(items, dict) else 0


def cap_public_cache(request, seconds: float | None) -> None:
    """Keep shared caches from serving this page past ``seconds``."""
    if request is None or seconds is None:
        return
    current = getattr(request, "max_public_cache_seconds", None)
    request.max_public_cache_seconds = seconds if current is None else min(current, seconds)


@register.simple_tag(takes_context=True)
def purchase_problems(context, artwork) -> list[str]:
    """Why the work cannot be bought right now (drops, sale state); caps the page's cache life."""
    from shop import rules
    from shop.cart import purchase_blockers

    cap_public_cache(context.get("request"), rules.seconds_until_change(artwork.pk))
    return purchase_blockers(artwork)


@register.simple_tag(takes_context=True)
def artwork_price(context, artwork) -> str:
    """The price as collectors may see it now ("Price at release" while a drop hides it)."""
    from shop import rules

    request = context.get("request")
    cache_attr = "_price_veils"
    veils = getattr(request, cache_attr, None) if request is not None else None
    if veils is None:
        veils = {}
        if request is not None:
            setattr(request, cache_attr, veils)
    if artwork.pk not in veils:
        veils[artwork.pk] = rules.price_veil(artwork.pk)
    return veils[artwork.pk] or artwork.display_price
