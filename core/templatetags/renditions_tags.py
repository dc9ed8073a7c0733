"""``{% prefetch_renditions works "main_image" "card" %}``: one query for a list's renditions."""

from django import template

from core import renditions

register = template.Library()


@register.simple_tag
def prefetch_renditions(objects, attribute: str = "", role: str = "") -> str:
    """Read the renditions of the images of ``objects`` (``object.<attribute>``, or the objects
    themselves) in one query, limited to a role's specs (``core.renditions.ROLES``); the
    ``{% picture %}`` tags that follow look no further. Renders nothing."""
    if not objects:
        return ""
    items = list(objects)
    images = [getattr(item, attribute, None) for item in items] if attribute else items
    renditions.prefetch(images, renditions.ROLES.get(role))
    return ""
