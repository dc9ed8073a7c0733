from django.apps import AppConfig


class CurationsConfig(AppConfig):
    """Curated collections: ordered sets of artworks chosen by an editor."""

    name = "curations"
    verbose_name = "Curated collections"
