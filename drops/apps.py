from django.apps import AppConfig


class DropsConfig(AppConfig):
    """Drops: sets of works that go on sale at a set second, with reminders and a fair start.

    The shop asks ``drops.sale`` when a work may be sold and ``drops.entry`` when a checkout may
    start (``drops.queue``: the line collectors join from the drop page); drops import nothing
    from the shop.
    """

    name = "drops"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save
        from wagtail.signals import page_published, page_unpublished

        from .models import DropArtwork, DropPage
        from .queue import forget_schedule
        from .sale import forget_sale_windows, purge_drop_artwork, purge_drop_works

        signals = {
            "published": page_published,
            "unpublished": page_unpublished,
            "saved": post_save,
            "deleted": post_delete,
        }
        for name, signal in signals.items():
            signal.connect(forget_sale_windows, sender=DropPage, dispatch_uid=f"drop-{name}")
            signal.connect(forget_schedule, sender=DropPage, dispatch_uid=f"drop-queue-{name}")
        for name in ("saved", "deleted"):
            signals[name].connect(
                forget_sale_windows, sender=DropArtwork, dispatch_uid=f"drop-artwork-{name}"
            )
            # A work joining or leaving a drop (even a draft one) changes when it can be bought.
            signals[name].connect(
                purge_drop_artwork, sender=DropArtwork, dispatch_uid=f"drop-artwork-purge-{name}"
            )
        for name in ("published", "unpublished"):
            signals[name].connect(
                purge_drop_works, sender=DropPage, dispatch_uid=f"drop-purge-{name}"
            )
