from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    """Collectors: accounts, addresses, account orders, privacy, team roles; saved works,
    followed artists and the daily digest of what is new by them."""

    name = "collectors"
    label = "collectors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import signal_handlers  # noqa: F401
        from .interests import apply_pending_on_login

        user_logged_in.connect(apply_pending_on_login, dispatch_uid="collectors-pending-interest")
