"""Curations' answer to the frontend cache: which collections show these works."""

from wagtail import hooks

from core.frontend_cache import PAGES_SHOWING_ARTWORKS

from .models import ArtworkCollectionPage


@hooks.register(PAGES_SHOWING_ARTWORKS)
def collections_showing(artwork_ids: list[int]):
    return (
        ArtworkCollectionPage.objects.live()
        .filter(collection_artworks__artwork_id__in=artwork_ids)
        .distinct()
    )
