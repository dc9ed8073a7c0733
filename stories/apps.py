from django.apps import AppConfig


class StoriesConfig(AppConfig):
    """Editorial stories: articles that can show and sell the works they discuss."""

    name = "stories"
