from django.apps import AppConfig


def purge_artist_works(sender, instance, **kwargs) -> None:
    """An artist published or unpublished shows or hides all their works everywhere."""
    from core import frontend_cache

    frontend_cache.purge_works(instance.artworks.values_list("pk", flat=True))


class ArtistsConfig(AppConfig):
    """Artist pages: biography, CV, and the artist's works, stories and drops."""

    name = "artists"

    def ready(self) -> None:
        from wagtail.signals import page_published, page_unpublished

        from .models import ArtistPage

        for name, signal in (("published", page_published), ("unpublished", page_unpublished)):
            signal.connect(
                purge_artist_works, sender=ArtistPage, dispatch_uid=f"artist-purge-{name}"
            )
