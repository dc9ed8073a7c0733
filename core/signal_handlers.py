from django.db.models.signals import post_delete
from django.dispatch import receiver
from wagtail.models import Page
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from . import frontend_cache
from .navigation import forget_menus


@receiver(page_published)
@receiver(page_unpublished)
@receiver(page_slug_changed)
@receiver(post_page_move)
def _page_tree_changed(sender, **kwargs) -> None:
    forget_menus()


@receiver(post_delete)
def _page_deleted(sender, instance, **kwargs) -> None:
    if isinstance(instance, Page):
        forget_menus()


@receiver(page_published)
@receiver(page_unpublished)
def _purge_page(sender, instance, **kwargs) -> None:
    """Every page, its cached paths and the index above it (replaces Wagtail's own handler, so
    a change and what it touches go to CloudFront as one batch: core.frontend_cache)."""
    frontend_cache.purge_pages([instance])
