from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    """Collectors: saved works, followed artists and the daily digest of what is new by them."""

    name = "collectors"
    label = "collectors"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .interests import apply_pending_on_login

        user_logged_in.connect(apply_pending_on_login, dispatch_uid="collectors-pending-interest")
