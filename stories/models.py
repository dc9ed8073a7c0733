"""Editorial stories: an index at /stories/ with feeds, and one page per story."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import models
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from core.pages import PublicCacheMixin

from .blocks import StoryBodyBlock

STORIES_PER_PAGE = 12
FEED_LENGTH = 20
MORE_STORIES = 3


class StoryIndexPage(PublicCacheMixin, RoutablePageMixin, Page):
    """Lists the live stories, newest first, with a tag filter; serves the RSS and Atom feeds."""

    introduction = models.TextField(blank=True, max_length=500)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["stories.StoryPage"]
    max_count = 1

    class Meta:
        verbose_name = "story index page"

    def live_stories(self):
        """The public stories under this index, newest first."""
        return StoryPage.objects.child_of(self).live().public().order_by("-date", "-pk")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        stories = self.live_stories()
        topics = list(
            Tag.objects.filter(stories_storytag_items__content_object__in=stories)
            .distinct()
            .order_by("name")
        )
        tag_slug = request.GET.get("tag", "").strip()
        current_tag = None
        if tag_slug:
            current_tag = next((tag for tag in topics if tag.slug == tag_slug), None)
            stories = stories.filter(tags__slug=tag_slug)
        paginator = Paginator(stories.select_related("hero_image"), STORIES_PER_PAGE)
        # get_page answers bad values with the first page and numbers past the end with the last.
        context.update(
            stories=paginator.get_page(request.GET.get("page")),
            topics=topics,
            tag_slug=tag_slug,
            current_tag=current_tag,
        )
        return context

    # --- Feeds ------------------------------------------------------------------------------------

    @path("feed/rss/", name="rss_feed")
    def rss_feed(self, request: HttpRequest) -> HttpResponse:
        from .feeds import StoryRssFeed

        return StoryRssFeed(self)(request)

    @path("feed/atom/", name="atom_feed")
    def atom_feed(self, request: HttpRequest) -> HttpResponse:
        from .feeds import StoryAtomFeed

        return StoryAtomFeed(self)(request)


class StoryTag(TaggedItemBase):
    content_object = ParentalKey(
        "stories.StoryPage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class StoryPage(PublicCacheMixin, Page):
    """One story: a studio visit, an interview or a collecting guide, with works to shop."""

    author = models.CharField(
        max_length=255, blank=True, help_text="The byline. Leave empty for 'ArtSpot editors'."
    )
    date = models.DateField(
        "story date", default=timezone.localdate, help_text="Shown on the story; orders the list."
    )
    hero_image = models.ForeignKey(
        "core.CustomImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    introduction = models.TextField(
        max_length=500,
        blank=True,
        help_text="A sentence or two for the top of the story, the listings and the feeds.",
    )
    tags = ClusterTaggableManager(through=StoryTag, blank=True)
    body = StreamField(StoryBodyBlock(), blank=True)

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("author"), FieldPanel("date")]),
        FieldPanel("introduction"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
        MultiFieldPanel(
            [
                FieldPanel("tags"),
                InlinePanel("related_artists", label="Artist", heading="Related artists"),
            ],
            heading="Topics and artists",
        ),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("introduction", boost=2),
        index.SearchField("author"),
        index.SearchField("body"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("date"),
    ]

    parent_page_types = ["stories.StoryIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "story"
        verbose_name_plural = "stories"

    @property
    def byline(self) -> str:
        return self.author or "ArtSpot editors"

    @cached_property
    def live_related_artists(self) -> list:
        """The related artists collectors can visit (live and public), in the editor's order."""
        from artists.models import ArtistPage

        artists = ArtistPage.objects.live().public().select_related("portrait")
        if self.related_artists.is_deferring:
            # Held in memory (a preview, a revision): not in the database yet.
            ids = [item.artist_id for item in self.related_artists.all()]
            by_id = {artist.pk: artist for artist in artists.filter(pk__in=ids)}
            return [by_id[pk] for pk in dict.fromkeys(ids) if pk in by_id]
        # Saved: one query, in the editor's order (an artist listed twice, at its first place).
        rows = StoryRelatedArtist.objects.filter(page=self)
        first_place = rows.filter(artist=OuterRef("pk")).order_by("sort_order").values("sort_order")
        return list(
            artists.filter(pk__in=rows.values("artist_id"))
            .annotate(place=Subquery(first_place[:1]))
            .order_by("place", "pk")
        )

    def get_context(self, request, *args, **kwargs):
        from .blocks import read_artworks_once

        context = super().get_context(request, *args, **kwargs)
        with read_artworks_once(self.body):
            list(self.body)  # the blocks' values, their works read in one query
        context["story_index"] = self.get_parent()
        context["more_stories"] = (
            StoryPage.objects.sibling_of(self, inclusive=False)
            .live()
            .public()
            .select_related("hero_image")
            .order_by("-date", "-pk")[:MORE_STORIES]
        )
        return context


class StoryRelatedArtist(Orderable):
    page = ParentalKey(StoryPage, on_delete=models.CASCADE, related_name="related_artists")
    artist = models.ForeignKey("artists.ArtistPage", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("artist")]

    class Meta(Orderable.Meta):
        verbose_name = "related artist"

    def __str__(self) -> str:
        return f"{self.artist} in {self.page}"
