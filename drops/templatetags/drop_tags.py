"""Template tags for drops on other pages: the home page's drops and a collector's reminder."""

from __future__ import annotations

import html as html_lib
import re

from django import template
from django.utils.html import strip_tags
from django.utils.text import Truncator

from .. import listings, subscriptions

register = template.Library()


def _embedded_drop_ids(stream) -> set[int]:
    """Drops already embedded in a StreamField, read from its raw data (no query)."""
    ids = set()
    for item in getattr(stream, "raw_data", None) or []:
        if item.get("type") == "upcoming_drop":
            drop_id = (item.get("value") or {}).get("drop")
            if drop_id:
                ids.add(drop_id)
    return ids


@register.simple_tag
def current_drops(exclude_embedded_in=None) -> list:
    """Live and upcoming drops, leaving out those the page already embeds (cached; see listings)."""
    skip = _embedded_drop_ids(exclude_embedded_in)
    return [drop for drop in listings.current_drops() if drop.pk not in skip]


@register.simple_tag(takes_context=True)
def drop_subscription(context, drop):
    """The signed-in collector's subscription to ``drop``, if any."""
    request = context.get("request")
    return subscriptions.subscription_for_user(drop, getattr(request, "user", None))


@register.filter
def summary(html: str, words: int = 40) -> str:
    """Rich text as a short plain-text teaser: block ends become spaces, links are not expanded."""
    text = strip_tags(re.sub(r"</(p|h[1-6]|li|blockquote)>|<br\s*/?>", " ", str(html or "")))
    text = html_lib.unescape(text)  # the template escapes it again
    return Truncator(" ".join(text.split())).words(words, truncate=" …")
