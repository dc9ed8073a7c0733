"""RSS and Atom feeds of the latest live stories, served by the story index at /stories/feed/…"""

from __future__ import annotations

from datetime import datetime, time

from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from .models import FEED_LENGTH, StoryIndexPage, StoryPage


class StoryRssFeed(Feed):
    """One instance per request: ``StoryRssFeed(index)(request)``."""

    feed_type = Rss201rev2Feed

    def __init__(self, index: StoryIndexPage) -> None:
        super().__init__()
        self.index = index
        self.request: HttpRequest | None = None

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.request = request
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request: HttpRequest, *args, **kwargs) -> StoryIndexPage:
        return self.index

    # --- The feed ---------------------------------------------------------------------------------

    def title(self, index: StoryIndexPage) -> str:
        return f"{index.title} · ArtSpot"

    def link(self, index: StoryIndexPage) -> str:
        return index.get_full_url(self.request)

    def description(self, index: StoryIndexPage) -> str:
        return index.introduction or "Studio visits, interviews and collecting guides from ArtSpot."

    subtitle = description

    def feed_url(self, index: StoryIndexPage) -> str:
        return self.request.build_absolute_uri() if self.request else ""

    def items(self, index: StoryIndexPage):
        return index.live_stories().prefetch_related("tags")[:FEED_LENGTH]

    # --- Each story -------------------------------------------------------------------------------

    def item_title(self, story: StoryPage) -> str:
        return story.title

    def item_description(self, story: StoryPage) -> str:
        return story.introduction or story.search_description

    def item_link(self, story: StoryPage) -> str:
        return story.get_full_url(self.request)

    def item_pubdate(self, story: StoryPage) -> datetime:
        return timezone.make_aware(datetime.combine(story.date, time.min))

    def item_updateddate(self, story: StoryPage) -> datetime | None:
        return story.last_published_at

    def item_author_name(self, story: StoryPage) -> str:
        return story.byline

    def item_categories(self, story: StoryPage) -> list[str]:
        return [tag.name for tag in story.tags.all()]


class StoryAtomFeed(StoryRssFeed):
    feed_type = Atom1Feed
