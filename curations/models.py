"""Curated collections: an index at /collections/ and one page per editor-ordered set of works."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Q
from django.http import HttpRequest
from modelcluster.fields import ParentalKey
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.fields import StreamField
from wagtail.models import Orderable, Page
from wagtail.search import index

from artworks.models import Artwork, Availability
from core.blocks import BaseContentBlock
from core.pages import PublicCacheMixin

COLLECTIONS_PER_PAGE = 12


class CollectionIndexPage(PublicCacheMixin, Page):
    """Serves /collections/: every live collection as a card, in page-tree order."""

    introduction = models.TextField(blank=True, max_length=500)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]

    parent_page_types = ["home.HomePage"]
    subpage_types = ["curations.ArtworkCollectionPage"]
    max_count = 1

    class Meta:
        verbose_name = "collection index page"

    def live_collections(self):
        """Live, public collections with the number of works a visitor would see in each."""
        public_work = Q(
            collection_artworks__artwork__live=True,
            collection_artworks__artwork__artist__live=True,
        )
        return (
            ArtworkCollectionPage.objects.child_of(self)
            .live()
            .public()
            .select_related("hero_image")
            .prefetch_related("hero_image__renditions")
            .annotate(
                live_work_count=Count(
                    "collection_artworks__artwork", filter=public_work, distinct=True
                )
            )
            .order_by("path")
        )

    def get_context(self, request: HttpRequest, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        paginator = Paginator(self.live_collections(), COLLECTIONS_PER_PAGE)
        # get_page() falls back to the first or last page for a bad or out-of-range value.
        context["collections"] = paginator.get_page(request.GET.get("page"))
        return context


class ArtworkCollectionPageForm(WagtailAdminPageForm):
    """Refuses the same work twice in one collection."""

    def clean(self):
        cleaned_data = super().clean()
        formset = self.formsets.get("collection_artworks")
        if formset is None:
            return cleaned_data
        seen = set()
        for form in formset.forms:
            if not form.is_valid() or form.cleaned_data.get("DELETE"):
                continue
            artwork = form.cleaned_data.get("artwork")
            if artwork is None:
                continue
            if artwork.pk in seen:
                form.add_error("artwork", "This work is already in the collection.")
            seen.add(artwork.pk)
        return cleaned_data


class ArtworkCollectionPage(PublicCacheMixin, Page):
    """A set of artworks chosen and ordered by an editor, with an introduction and a short essay."""

    introduction = models.TextField(
        blank=True, max_length=500, help_text="One or two sentences, shown on the collection card."
    )
    hero_image = models.ForeignKey(
        "core.CustomImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    curator_name = models.CharField(
        max_length=120, blank=True, help_text="Shown as 'Selected by …'. Leave empty to omit."
    )
    body = StreamField(BaseContentBlock(), blank=True, help_text="Optional essay about the works.")

    content_panels = [
        *Page.content_panels,
        FieldPanel("introduction"),
        FieldPanel("hero_image"),
        FieldPanel("curator_name"),
        InlinePanel(
            "collection_artworks",
            heading="Artworks",
            label="Artwork",
            help_text="The works in the order visitors see them. Drafts and works by unpublished "
            "artists are left out of the public page until they are published.",
        ),
        FieldPanel("body"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("introduction"),
        index.SearchField("curator_name"),
        index.SearchField("body"),
    ]

    base_form_class = ArtworkCollectionPageForm
    parent_page_types = ["curations.CollectionIndexPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = "artwork collection page"

    def get_cached_paths(self) -> list[str]:
        return ["/", "/?available=1"]

    def public_works(self) -> list:
        """The collection's live works by live artists, in the editor's order.

        Two queries whatever the number of works (plus the prefetches of ``for_listing()``): the
        chosen ids, then every work in one ``for_listing()`` query, put back in order here. Works
        from the in-memory rows too, so previews of unsaved changes show the right works.
        """
        rows = sorted(
            self.collection_artworks.all(),
            key=lambda row: (row.sort_order is None, row.sort_order or 0),
        )
        position: dict[int, int] = {}
        for row in rows:
            position.setdefault(row.artwork_id, len(position))
        if not position:
            return []
        works = Artwork.objects.public().for_listing().filter(pk__in=position)
        return sorted(works, key=lambda work: position[work.pk])

    def get_context(self, request: HttpRequest, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        works = self.public_works()
        # Filtered here on the annotation rather than in SQL: both counts from one query.
        available = [work for work in works if work.availability == Availability.AVAILABLE]
        available_only = request.GET.get("available") == "1"
        context.update(
            works=available if available_only else works,
            work_count=len(works),
            available_count=len(available),
            available_only=available_only,
        )
        return context


class CollectionArtwork(Orderable):
    """One work in a collection; ``sort_order`` is the editor's order."""

    page = ParentalKey(
        ArtworkCollectionPage, on_delete=models.CASCADE, related_name="collection_artworks"
    )
    artwork = models.ForeignKey("artworks.Artwork", on_delete=models.CASCADE, related_name="+")

    panels = [FieldPanel("artwork")]

    class Meta(Orderable.Meta):
        verbose_name = "collection artwork"

    def __str__(self) -> str:
        return f"{self.artwork} in {self.page}"
