from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from wagtail.contrib.settings.models import BaseGenericSetting, BaseSiteSetting
from wagtail.images import get_image_model
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_slug_changed, page_unpublished, post_page_move

from . import frontend_cache, page_cache, renditions
from .navigation import forget_menus


@receiver(page_published)
@receiver(page_unpublished)
@receiver(page_slug_changed)
@receiver(post_page_move)
def _page_tree_changed(sender, **kwargs) -> None:
    forget_menus()
    page_cache.invalidate_all()


@receiver(post_save, sender=PageViewRestriction)
@receiver(post_delete, sender=PageViewRestriction)
def _privacy_changed(sender, instance, **kwargs) -> None:
    """A section made private or public again: menus, every page the origin keeps and the
    section's pages in CloudFront follow."""
    if kwargs.get("raw"):
        return
    forget_menus()
    page_cache.invalidate_all()
    section = Page.objects.filter(pk=instance.page_id).first()  # gone with a deleted page
    if section is not None:
        frontend_cache.purge_pages(section.get_descendants(inclusive=True).live())


@receiver(post_delete)
def _page_deleted(sender, instance, **kwargs) -> None:
    if isinstance(instance, Page):
        forget_menus()
        page_cache.invalidate_all()


@receiver(page_published)
@receiver(page_unpublished)
def _purge_page(sender, instance, **kwargs) -> None:
    """Every page, its cached paths and the index above it (replaces Wagtail's own handler, so
    a change and what it touches go to CloudFront as one batch: core.frontend_cache)."""
    frontend_cache.purge_pages([instance])


@receiver(page_published)
def _make_page_renditions(sender, instance, **kwargs) -> None:
    """The page's images (hero, portrait, blocks) get their renditions from a task."""
    renditions.queue(renditions.images_of(instance), "page")


@receiver(post_save)
def _renew_cached_pages(sender, instance, raw=False, **kwargs) -> None:
    """Site settings (footer, analytics, shipping) and images (a new file or focal point) show
    on many pages: the origin's page cache is renewed at the commit."""
    if raw:
        return
    if isinstance(instance, BaseSiteSetting | BaseGenericSetting | get_image_model()):
        page_cache.invalidate_all()
