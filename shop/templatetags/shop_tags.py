"""What the storefront's templates ask the shop: a work's offer and the cart's size."""

from django import template
from django.conf import settings

from shop.cart import SESSION_KEY
from shop.offers import Offer, offer_for

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
def offer(context, artwork) -> Offer:
    """``{% offer artwork as offer %}``: the work's offer now (see ``shop.offers``).

    The page may not be kept by a shared cache past the moment the offer changes.
    """
    request = context.get("request")
    answer = offer_for(artwork, request=request)
    cap_public_cache(request, answer.seconds_valid())
    return answer
