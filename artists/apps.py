from django.apps import AppConfig


class ArtistsConfig(AppConfig):
    """Artist pages: biography, CV, and the artist's works, stories and drops."""

    name = "artists"
