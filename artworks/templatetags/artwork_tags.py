from django import template

from artworks.room import room_scene

register = template.Library()


@register.simple_tag
def artwork_room_scene(artwork):
    """The 'view in a room' layout for an artwork (see ``artworks.room``)."""
    return room_scene(artwork)


@register.simple_tag(takes_context=True)
def artwork_url(context, artwork) -> str:
    """The artwork's public URL; finds the /artworks/ page once per request, not once per card."""
    return artwork.get_url(context.get("request"))
