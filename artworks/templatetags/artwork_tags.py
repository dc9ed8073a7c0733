from django import template

from artworks.room import room_scene

register = template.Library()


@register.simple_tag
def artwork_room_scene(artwork):
    """The 'view in a room' layout for an artwork (see ``artworks.room``)."""
    return room_scene(artwork)
