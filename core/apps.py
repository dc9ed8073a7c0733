from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces every domain uses: images, site settings, health checks, demo data."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from anymail.signals import tracking
        from celery.signals import task_prerun
        from django.conf import settings
        from django.core.signals import request_finished

        from . import lookups, signal_handlers  # noqa: F401
        from .client_address import forget_after_request
        from .db_routing import pin_to_primary
        from .email import record_tracking_event

        lookups.install()
        request_finished.connect(forget_after_request, dispatch_uid="core.client_address")
        tracking.connect(record_tracking_event, dispatch_uid="core.email.record_tracking_event")
        # Celery tasks read the primary, also a task run eagerly inside an anonymous page.
        task_prerun.connect(pin_to_primary, dispatch_uid="core.db_routing", weak=False)
        if settings.DEBUG:
            from django.utils.autoreload import file_changed

            from .page_cache import renew_everything

            # runserver reloads templates without a restart: cached pages must follow.
            file_changed.connect(renew_everything, dispatch_uid="core.page_cache.dev", weak=False)
