"""Artworks tell the frontend cache when what collectors see of a work changes."""

from django.db.models.signals import post_save, pre_delete
from wagtail.signals import published, unpublished

from core import frontend_cache, page_cache, renditions

from .models import Artwork, ArtworkUnit


def purge_artwork(sender, instance: Artwork, **kwargs) -> None:
    """Published (a new price, text or image) or unpublished: every page that shows it."""
    frontend_cache.purge_works([instance.pk])


def make_artwork_renditions(sender, instance: Artwork, **kwargs) -> None:
    """Published: the sizes and formats its pages show are made by a task, never by a visitor."""
    renditions.queue(instance.gallery_images.values_list("image_id", flat=True), "artwork")


def purge_unit_change(sender, instance: ArtworkUnit, **kwargs) -> None:
    """A unit withheld or offered again in the admin changes what can be bought."""
    if kwargs.get("raw"):
        return
    frontend_cache.purge_works([instance.artwork_id])


def purge_deleted_artwork(sender, instance: Artwork, **kwargs) -> None:
    """Once deleted nothing can say where a work was shown: the URLs are worked out now."""
    if instance.live:
        page_cache.invalidate_all()  # search, related works, lists: rare enough to renew all
    if instance.live and frontend_cache.enabled():
        frontend_cache.purge_urls(frontend_cache.urls_showing_works([instance.pk]))


def connect() -> None:
    from wagtail.signals import page_published, page_unpublished

    from artists.models import ArtistPage

    from .filters import forget_choices

    # Browse's artist and theme choices (artworks.filters) follow what is published.
    for signal, sender in (
        (page_published, ArtistPage),
        (page_unpublished, ArtistPage),
        (published, Artwork),
        (unpublished, Artwork),
    ):
        signal.connect(forget_choices, sender=sender, dispatch_uid=f"browse-choices-{id(signal)}")
    published.connect(purge_artwork, sender=Artwork, dispatch_uid="artwork-purge-published")
    published.connect(
        make_artwork_renditions, sender=Artwork, dispatch_uid="artwork-renditions-published"
    )
    unpublished.connect(purge_artwork, sender=Artwork, dispatch_uid="artwork-purge-unpublished")
    post_save.connect(purge_unit_change, sender=ArtworkUnit, dispatch_uid="artwork-unit-purge")
    pre_delete.connect(purge_deleted_artwork, sender=Artwork, dispatch_uid="artwork-purge-deleted")
