from django.apps import AppConfig


class ArtworksConfig(AppConfig):
    """Artworks (snippets with drafts and revisions), their inventory, browse and enquiries."""

    name = "artworks"

    def ready(self) -> None:
        from .signal_handlers import connect

        connect()
