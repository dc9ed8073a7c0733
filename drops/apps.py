from django.apps import AppConfig


class DropsConfig(AppConfig):
    """Drops: sets of works that go on sale at a set second, with reminders and a fair start.

    The shop asks ``drops.sale`` when a work may be sold and ``drops.entry`` when a checkout may
    start; drops import nothing from the shop.
    """

    name = "drops"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from wagtail.signals import page_published, page_unpublished

        from .models import DropArtwork, DropPage
        from .sale import forget_sale_windows

        signals = {
            "published": page_published,
            "unpublished": page_unpublished,
            "saved": post_save,
            "deleted": post_delete,
        }
        for name, signal in signals.items():
            signal.connect(forget_sale_windows, sender=DropPage, dispatch_uid=f"drop-{name}")
        for name in ("saved", "deleted"):
            signals[name].connect(
                forget_sale_windows, sender=DropArtwork, dispatch_uid=f"drop-artwork-{name}"
            )
