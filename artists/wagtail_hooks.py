"""Artists' answer to the frontend cache: whose artist pages show these works."""

from wagtail import hooks

from core.frontend_cache import PAGES_SHOWING_ARTWORKS

from .models import ArtistPage


@hooks.register(PAGES_SHOWING_ARTWORKS)
def artist_pages_showing(artwork_ids: list[int]):
    return ArtistPage.objects.live().filter(artworks__pk__in=artwork_ids).distinct()
