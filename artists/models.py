"""Artist pages: an index of artists and one page per artist."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.utils.functional import cached_property
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from core.pages import PublicCacheMixin

from .blocks import ArtistLinkBlock, CVBlock

ARTISTS_PER_PAGE = 24


class ArtistIndexPage(PublicCacheMixin, Page):
    introduction = models.TextField(blank=True, max_length=500)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]
    parent_page_types = ["home.HomePage"]
    subpage_types = ["artists.ArtistPage"]
    max_count = 1

    class Meta:
        verbose_name = "artist index page"

    def route(self, request, path_components):
        """An artist's page in one query, with its portrait (Wagtail reads the child as a plain
        page, then again as its type, then the portrait). Only artist pages live here."""
        if len(path_components) == 1:
            child = (
                ArtistPage.objects.child_of(self)
                .select_related("portrait")
                .filter(slug=path_components[0])
                .first()
            )
            if child is not None:
                child._cached_parent_obj = self
                return child.route(request, [])
        return super().route(request, path_components)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        artists = (
            ArtistPage.objects.child_of(self)
            .live()
            .public()
            .select_related("portrait")
            .order_by("sort_name")
        )
        context["artists"] = Paginator(artists, ARTISTS_PER_PAGE).get_page(request.GET.get("page"))
        return context


class ArtistPage(PublicCacheMixin, Page):
    """One artist. The page title is the artist's name as shown to collectors."""

    sort_name = models.CharField(
        max_length=255, blank=True, help_text="For alphabetical order, e.g. 'Hepworth, Barbara'."
    )
    portrait = models.ForeignKey(
        "core.CustomImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    born = models.PositiveSmallIntegerField("year of birth", null=True, blank=True)
    died = models.PositiveSmallIntegerField("year of death", null=True, blank=True)
    nationality = models.CharField(max_length=100, blank=True)
    based_in = models.CharField(max_length=100, blank=True, help_text="City and country.")
    short_biography = models.TextField(
        max_length=400, blank=True, help_text="Two or three sentences for cards and listings."
    )
    biography = RichTextField(blank=True, features=["bold", "italic", "link", "h3", "ol", "ul"])
    cv = StreamField(CVBlock(), blank=True, verbose_name="CV")
    links = StreamField([("link", ArtistLinkBlock())], blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("sort_name"),
        FieldPanel("portrait"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("born"), FieldPanel("died")]),
                FieldRowPanel([FieldPanel("nationality"), FieldPanel("based_in")]),
            ],
            heading="Facts",
        ),
        FieldPanel("short_biography"),
        FieldPanel("biography"),
        FieldPanel("cv"),
        FieldPanel("links"),
    ]
    search_fields = [
        *Page.search_fields,
        index.AutocompleteField("title"),
        index.SearchField("short_biography"),
        index.SearchField("biography"),
        index.SearchField("nationality"),
        index.SearchField("based_in"),
    ]
    parent_page_types = ["artists.ArtistIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "artist page"

    def clean(self) -> None:
        super().clean()
        if self.born and self.died and self.died < self.born:
            raise ValidationError({"died": "The year of death is before the year of birth."})

    def save(self, *args, **kwargs):
        if not self.sort_name:
            parts = self.title.rsplit(" ", 1)
            self.sort_name = f"{parts[1]}, {parts[0]}" if len(parts) == 2 else self.title
        super().save(*args, **kwargs)

    @property
    def life_dates(self) -> str:
        if self.born and self.died:
            return f"{self.born}–{self.died}"
        return f"b. {self.born}" if self.born else ""

    @cached_property
    def live_artworks(self):
        """The artist's public works, available first, then newest."""
        from artworks.models import Artwork

        return (
            Artwork.objects.public()
            .filter(artist=self)
            .for_listing()
            .order_by("availability_rank", "-first_published_at")
        )

    def get_context(self, request, *args, **kwargs):
        from drops.listings import drops_for_artist

        context = super().get_context(request, *args, **kwargs)
        context["artworks"] = self.live_artworks[:48]
        context["stories"] = self.related_stories()
        context["drops"] = drops_for_artist(self)  # live and upcoming drops with their works
        return context

    def related_stories(self):
        """Live stories that name this artist among their related artists."""
        from django.apps import apps

        try:
            StoryPage = apps.get_model("stories", "StoryPage")
        except LookupError:
            return []
        return (
            StoryPage.objects.live()
            .public()
            .filter(related_artists__artist=self)
            .order_by("-date")
            .distinct()[:6]
        )


class ArtistSourceRecord(models.Model):
    """An artist's id in an outside collection (``tate`` 39 = William Blake), for imports.

    One artist may carry ids from several sources (Tate and MoMA merge on the same accent-free,
    case-folded name and the same known birth year); an id belongs to one artist.
    """

    artist = models.ForeignKey(ArtistPage, on_delete=models.CASCADE, related_name="source_records")
    source = models.CharField(max_length=40)
    source_id = models.CharField(max_length=64)
    source_name = models.CharField(
        max_length=255, blank=True, help_text="The name as the source writes it."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="artist_one_per_source_id")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.source_id}"
