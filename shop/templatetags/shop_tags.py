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
