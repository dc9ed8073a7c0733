from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting pieces every domain uses: images, site settings, health checks, demo data."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import signal_handlers  # noqa: F401
