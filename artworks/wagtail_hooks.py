"""Artworks in the admin: the snippet listing, the inventory and the enquiries, in one menu."""

import django_filters
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, LiveStatusTagColumn, UpdatedAtColumn
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from core.exports import SafeExportIndexView, SafeExportSnippetIndexView
from core.frontend_cache import PAGES_SHOWING_ARTWORKS
from core.renditions import IMAGES_HOOK

from .models import Artwork, ArtworkIndexPage, ArtworkInquiry, ArtworkUnit, Availability, Medium


class ThumbnailColumn(Column):
    def get_value(self, instance):
        image = instance.main_image
        if image is None:
            return ""
        rendition = image.get_rendition("fill-80x80|format-webp")
        return format_html('<img src="{}" width="40" height="40" alt="">', rendition.url)


class ArtworkFilterSet(WagtailFilterSet):
    medium = django_filters.ChoiceFilter(choices=Medium.choices)
    availability = django_filters.ChoiceFilter(choices=Availability.choices, label="Availability")
    live = django_filters.BooleanFilter(label="Live")

    class Meta:
        model = Artwork
        fields = ["artist", "medium", "availability", "live"]


class ArtworkViewSet(SnippetViewSet):
    model = Artwork
    icon = "image"
    menu_label = "Artworks"
    index_view_class = SafeExportSnippetIndexView
    list_display = [
        ThumbnailColumn("thumbnail", label=""),
        "title",
        Column("artist", label="Artist", accessor="artist.title"),
        Column("list_price", label="Price"),
        Column("stock_label", label="Stock"),
        LiveStatusTagColumn(),
        UpdatedAtColumn(),
    ]
    list_per_page = 30
    ordering = "-updated_at"
    filterset_class = ArtworkFilterSet
    # No view-level search_fields: the admin searches the model's own index (Artwork.search_fields).
    # Naming fields here made the SQLite backend query them as FTS columns ("no such column").
    list_export = [
        "title",
        "slug",
        "artist",
        "year",
        "medium",
        "materials",
        "height_cm",
        "width_cm",
        "depth_cm",
        "is_edition",
        "edition_size",
        "price",
        "currency",
        "price_on_request",
        "availability",
        "live",
    ]
    export_headings = {"artist": "Artist", "availability": "Availability"}
    export_filename = "artspot-artworks"

    def get_queryset(self, request):
        return Artwork.objects.for_listing().prefetch_related("gallery_images__image__renditions")


class ArtworkUnitViewSet(ModelViewSet):
    """Per-unit inventory: which edition numbers are sold, held or withheld from sale."""

    model = ArtworkUnit
    icon = "list-ol"
    menu_label = "Inventory"
    add_to_admin_menu = False
    list_display = ["__str__", "number", Column("status", label="Status"), "withheld"]
    list_filter = ["withheld"]
    search_fields = ["artwork__title"]
    form_fields = ["withheld"]
    inspect_view_enabled = True

    def get_queryset(self, request):
        return ArtworkUnit.objects.select_related("artwork")


class ArtworkInquiryViewSet(ModelViewSet):
    model = ArtworkInquiry
    icon = "mail"
    menu_label = "Enquiries"
    # Enquiries are written by the public: the export must not carry their formulas.
    index_view_class = SafeExportIndexView
    list_display = [
        "name",
        "email",
        Column("artwork", accessor="artwork.title"),
        "created_at",
        "handled",
    ]
    list_filter = ["handled"]
    search_fields = ["name", "email", "message"]
    form_fields = ["handled"]
    inspect_view_enabled = True
    list_export = ["created_at", "name", "email", "phone", "artwork", "message", "handled"]

    def get_queryset(self, request):
        return ArtworkInquiry.objects.select_related("artwork")


class ArtworksGroup(SnippetViewSetGroup):
    menu_label = "Artworks"
    menu_icon = "image"
    menu_order = 200
    items = (ArtworkViewSet, ArtworkUnitViewSet, ArtworkInquiryViewSet)


register_snippet(ArtworksGroup)


@hooks.register(PAGES_SHOWING_ARTWORKS)
def artwork_pages_and_browse(artwork_ids: list[int]) -> list:
    """Each work's own page and browse (every filtered variant: ArtworkIndexPage's cached paths)."""
    index = ArtworkIndexPage.objects.live().first()
    if index is None:
        return []
    base = index.get_full_url()
    slugs = Artwork.objects.filter(pk__in=artwork_ids).values_list("slug", flat=True)
    return [index, *(f"{base}{slug}/" for slug in slugs)]


@hooks.register(IMAGES_HOOK)
def live_artwork_images():
    """load_demo makes the renditions of every live work's images (core.renditions)."""
    from artworks.models import ArtworkImage

    images = ArtworkImage.objects.filter(artwork__live=True).values_list("image_id", flat=True)
    return ((pk, "artwork") for pk in images.distinct())
