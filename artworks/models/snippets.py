"""The artwork: a snippet with drafts, revisions, preview, locking, scheduling and workflow.

Inventory lives in :class:`ArtworkUnit` rows, one per saleable unit (a unique work has one; an
edition has one per edition number). Availability is derived from those rows, never typed in.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property
from django.utils.text import slugify
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from taggit.models import TaggedItemBase
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    PublishingPanel,
)
from wagtail.fields import RichTextField
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    Orderable,
    PreviewableMixin,
    RevisionMixin,
    WorkflowMixin,
)
from wagtail.search import index

from artworks.admin_forms import ArtworkAdminForm
from core.money import format_money

CM_PER_INCH = Decimal("2.54")


class Medium(models.TextChoices):
    PAINTING = "painting", "Painting"
    PHOTOGRAPHY = "photography", "Photography"
    PRINT = "print", "Print"
    SCULPTURE = "sculpture", "Sculpture"
    DRAWING = "drawing", "Drawing"
    MIXED_MEDIA = "mixed-media", "Mixed media"
    TEXTILE = "textile", "Textile"
    CERAMICS = "ceramics", "Ceramics"


class Currency(models.TextChoices):
    GBP = "GBP", "£ GBP"
    EUR = "EUR", "€ EUR"
    USD = "USD", "$ USD"


class Availability(models.TextChoices):
    """Stock as the content knows it; whether a unit is held in a checkout is the shop's offer."""

    AVAILABLE = "available", "Available"
    SOLD = "sold", "Sold"
    NOT_FOR_SALE = "not-for-sale", "Not for sale"


class Orientation(models.TextChoices):
    PORTRAIT = "portrait", "Portrait"
    LANDSCAPE = "landscape", "Landscape"
    SQUARE = "square", "Square"


class SizeCategory(models.TextChoices):
    SMALL = "small", "Small (under 50 cm)"
    MEDIUM = "medium", "Medium (50–100 cm)"
    LARGE = "large", "Large (over 100 cm)"


SMALL_BELOW_CM = Decimal(50)
LARGE_ABOVE_CM = Decimal(100)
# Within 5% of each other, height and width count as square.
SQUARE_TOLERANCE = Decimal("0.05")

# Order for "available first": the rank annotation sorts by this.
AVAILABILITY_RANK = {
    Availability.AVAILABLE: 0,
    Availability.SOLD: 2,
    Availability.NOT_FOR_SALE: 3,
}


def _dimension(**kwargs) -> models.DecimalField:
    return models.DecimalField(
        max_digits=6, decimal_places=1, validators=[MinValueValidator(Decimal("0.1"))], **kwargs
    )


def inches(cm: Decimal | None) -> Decimal | None:
    return None if cm is None else (cm / CM_PER_INCH).quantize(Decimal("0.1"))


def format_dimensions(*values: Decimal | None, unit: str) -> str:
    shown = [f"{v.normalize():f}" for v in values if v]
    return f"{' × '.join(shown)} {unit}" if shown else ""


class ArtworkQuerySet(models.QuerySet):
    def public(self) -> ArtworkQuerySet:
        """What collectors may see: live works by live artists.

        The artists as a subquery, not a join: the database reads the few live artists once and
        keeps walking an index of works in the listing's order.
        """
        from artists.models import ArtistPage

        return self.filter(live=True, artist__in=ArtistPage.objects.live().values("pk"))

    def with_availability(self) -> ArtworkQuerySet:
        """Annotate ``units_unsold``, ``availability`` and ``availability_rank`` from the units.

        This is stock only (sold, withheld, in stock): what may be bought at this second, with
        holds, drops and prices, is the shop's offer (``shop.offers``). Correlated subqueries,
        not a join and GROUP BY: PostgreSQL works them out for the rows a page shows (after
        ORDER BY and LIMIT), and a count of the listing leaves them out.
        """
        in_stock = Exists(ArtworkUnit.objects.in_stock().filter(artwork=OuterRef("pk")))
        unsold = (
            ArtworkUnit.objects.in_stock()
            .filter(artwork=OuterRef("pk"))
            .order_by()
            .values("artwork")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return self.annotate(
            units_unsold=Coalesce(Subquery(unsold, output_field=IntegerField()), 0),
            availability=Case(
                When(for_sale=False, then=Value(Availability.NOT_FOR_SALE.value)),
                When(in_stock, then=Value(Availability.AVAILABLE.value)),
                default=Value(Availability.SOLD.value),
            ),
            availability_rank=Case(
                When(for_sale=False, then=Value(AVAILABILITY_RANK[Availability.NOT_FOR_SALE])),
                When(in_stock, then=Value(AVAILABILITY_RANK[Availability.AVAILABLE])),
                default=Value(AVAILABILITY_RANK[Availability.SOLD]),
                output_field=IntegerField(),
            ),
        )

    def with_stock(self, availability: str) -> ArtworkQuerySet:
        """Works whose stock is ``availability`` (an :class:`Availability` value).

        The same rule as the ``availability`` annotation, written as plain conditions so the
        database can use its indexes (a filter on the annotation would test every row).
        """
        in_stock = Exists(ArtworkUnit.objects.in_stock().filter(artwork=OuterRef("pk")))
        if availability == Availability.NOT_FOR_SALE:
            return self.filter(for_sale=False)
        if availability == Availability.AVAILABLE:
            return self.filter(in_stock, for_sale=True)
        if availability == Availability.SOLD:
            return self.filter(~in_stock, for_sale=True)
        raise ValueError(f"Unknown availability: {availability!r}")

    def for_listing(self) -> ArtworkQuerySet:
        """Everything a card shows, in a fixed number of queries."""
        return (
            self.with_availability()
            .select_related("artist")
            .prefetch_related(
                models.Prefetch(
                    "gallery_images",
                    queryset=ArtworkImage.objects.select_related("image").order_by("sort_order"),
                )
            )
        )


class Artwork(
    WorkflowMixin,
    DraftStateMixin,
    LockableMixin,
    RevisionMixin,
    PreviewableMixin,
    index.Indexed,
    ClusterableModel,
):
    # Museum titles run past 255 characters (Tate has one of 320): never truncated.
    title = models.CharField(max_length=1000)
    slug = models.SlugField(
        max_length=255, unique=True, blank=True, help_text="The work's URL: /artworks/<slug>/."
    )
    artist = models.ForeignKey(
        "artists.ArtistPage", on_delete=models.PROTECT, related_name="artworks"
    )
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    year_end = models.PositiveSmallIntegerField(
        "end year", null=True, blank=True, help_text="For a range such as 1880–1885."
    )
    date_text = models.CharField(
        "date as written",
        max_length=255,
        blank=True,
        help_text="The source's own wording, shown as is, e.g. 'c.1796–97' or 'published 1812'.",
    )
    medium = models.CharField(max_length=20, choices=Medium.choices, default=Medium.PAINTING)
    materials = models.TextField(
        blank=True, help_text="e.g. 'Oil on linen' or 'Archival pigment print'."
    )

    # Nullable for works saved without them in the admin (blank) and works imported before the
    # importer rejected rows without a usable height x width; imports never create one now.
    height_cm = _dimension(verbose_name="height (cm)", null=True, blank=True)
    width_cm = _dimension(verbose_name="width (cm)", null=True, blank=True)
    depth_cm = _dimension(verbose_name="depth (cm)", null=True, blank=True)
    framed = models.BooleanField(default=False)
    framed_height_cm = _dimension(verbose_name="framed height (cm)", null=True, blank=True)
    framed_width_cm = _dimension(verbose_name="framed width (cm)", null=True, blank=True)
    framed_depth_cm = _dimension(verbose_name="framed depth (cm)", null=True, blank=True)
    # Derived from the dimensions on save, so listings can filter on them.
    orientation = models.CharField(max_length=10, choices=Orientation.choices, editable=False)
    size_category = models.CharField(max_length=10, choices=SizeCategory.choices, editable=False)

    is_edition = models.BooleanField(
        "edition",
        default=False,
        help_text="An edition (prints, photographs, casts) or a unique work.",
    )
    edition_size = models.PositiveSmallIntegerField(
        default=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Numbered copies in the edition (empty: not known, only for works not for sale).",
    )
    signed = models.BooleanField(default=False)
    certificate_of_authenticity = models.BooleanField(default=True)
    condition = models.CharField(max_length=255, blank=True, default="Excellent")
    provenance = models.TextField(blank=True)
    exhibition_history = models.TextField(blank=True)
    description = RichTextField(blank=True, features=["bold", "italic", "link", "ol", "ul"])

    for_sale = models.BooleanField(
        default=True, help_text="Untick to show the work without offering it (not for sale)."
    )
    price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Price per unit. Leave empty for 'price on request'.",
    )
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.GBP)
    price_on_request = models.BooleanField(
        default=False, help_text="Hide the price; collectors send an enquiry instead of buying."
    )
    max_per_order = models.PositiveSmallIntegerField(
        default=2,
        validators=[MinValueValidator(1)],
        help_text="For editions: most units per order.",
    )

    tags = ClusterTaggableManager(through="artworks.ArtworkTag", blank=True)

    # Where an imported work comes from: keyed by (source, accession number), see ``imports``.
    source = models.CharField(max_length=40, blank=True, editable=False)
    accession_number = models.CharField(max_length=64, blank=True)
    thumbnail_url = models.URLField(
        max_length=500, blank=True, help_text="The source's image link (kept as a link only)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArtworkQuerySet.as_manager()
    base_form_class = ArtworkAdminForm

    panels = [
        FieldPanel("title"),
        FieldPanel("slug"),
        FieldPanel("artist"),
        FieldRowPanel([FieldPanel("year"), FieldPanel("medium")]),
        FieldPanel("materials"),
        InlinePanel("gallery_images", label="Images", min_num=1, heading="Gallery"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [FieldPanel("height_cm"), FieldPanel("width_cm"), FieldPanel("depth_cm")]
                ),
                FieldPanel("framed"),
                FieldRowPanel(
                    [
                        FieldPanel("framed_height_cm"),
                        FieldPanel("framed_width_cm"),
                        FieldPanel("framed_depth_cm"),
                    ]
                ),
            ],
            heading="Dimensions",
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("is_edition"), FieldPanel("edition_size")]),
                FieldRowPanel([FieldPanel("signed"), FieldPanel("certificate_of_authenticity")]),
                FieldPanel("condition"),
                FieldPanel("provenance"),
                FieldPanel("exhibition_history"),
            ],
            heading="Edition and provenance",
        ),
        MultiFieldPanel(
            [
                FieldPanel("for_sale"),
                FieldRowPanel([FieldPanel("price"), FieldPanel("currency")]),
                FieldPanel("price_on_request"),
                FieldPanel("max_per_order"),
            ],
            heading="Sale",
        ),
        FieldPanel("tags"),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("date_text"), FieldPanel("year_end")]),
                FieldPanel("accession_number"),
                FieldPanel("thumbnail_url"),
            ],
            heading="Source (imports)",
            classname="collapsed",
        ),
        PublishingPanel(),
    ]

    search_fields = [
        index.SearchField("title", boost=4),
        index.AutocompleteField("title"),
        index.SearchField("medium_label", boost=2),
        index.SearchField("materials"),
        index.AutocompleteField("materials"),  # the admin's search (autocomplete) finds it too
        index.SearchField("description"),
        index.RelatedFields(
            "artist", [index.SearchField("title"), index.AutocompleteField("title")]
        ),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.FilterField("live"),
        index.FilterField("artist_id"),
        index.FilterField("medium"),
    ]

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_edition=True) | Q(edition_size=1), name="unique_work_has_one_unit"
            ),
            models.CheckConstraint(
                condition=Q(price_on_request=True) | Q(for_sale=False) | Q(price__isnull=False),
                name="artwork_for_sale_has_price",
            ),
            models.CheckConstraint(
                condition=Q(for_sale=False) | Q(edition_size__isnull=False),
                name="artwork_for_sale_has_edition_size",
            ),
            models.UniqueConstraint(
                fields=["source", "accession_number"],
                condition=~Q(accession_number=""),
                name="artwork_one_per_source_accession_number",
            ),
        ]
        # Browse (artworks.filters): each sort walks an index of live works in its order; each
        # filter has an index of its own. Shown with EXPLAIN at 10,000 works in tests/test_scale.py.
        indexes = [
            models.Index(fields=["live", "medium", "price"]),
            models.Index(
                fields=["-first_published_at", "-id"],
                condition=Q(live=True),
                name="artwork_live_newest",
            ),
            models.Index(
                fields=["price_on_request", "price", "-id"],
                condition=Q(live=True),
                name="artwork_live_price",
            ),
            models.Index(
                fields=["price_on_request", "-price", "-id"],
                condition=Q(live=True),
                name="artwork_live_price_desc",
            ),
            models.Index(
                fields=["size_category"], condition=Q(live=True), name="artwork_live_size"
            ),
            models.Index(
                fields=["orientation"], condition=Q(live=True), name="artwork_live_orientation"
            ),
            models.Index(fields=["price"], condition=Q(live=True), name="artwork_live_price_range"),
            models.Index(
                fields=["artist", "-first_published_at"],
                condition=Q(live=True),
                name="artwork_live_by_artist",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.artist.title})" if self.artist_id else self.title

    # --- Rules -----------------------------------------------------------------------------

    def clean(self) -> None:
        super().clean()
        errors = {}
        if not self.is_edition:
            self.edition_size = 1
        elif self.edition_size is None:
            if self.for_sale:
                errors["edition_size"] = "Give the edition size of a work for sale."
        elif self.edition_size < 2:
            errors["edition_size"] = "An edition has at least two numbered copies."
        if self.for_sale and not self.price_on_request and self.price is None:
            errors["price"] = "Enter a price, or choose 'price on request'."
        if self.framed and not (self.framed_height_cm and self.framed_width_cm):
            errors["framed_height_cm"] = "Give the framed height and width of a framed work."
        if self.pk and self.is_edition:
            highest_sold = self.units.filter(sold_at__isnull=False).aggregate(models.Max("number"))[
                "number__max"
            ]
            if highest_sold and (self.edition_size or 0) < highest_sold:
                errors["edition_size"] = f"Number {highest_sold} is already sold."
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        if not self.is_edition:
            self.edition_size = 1
        if not self.slug:
            self.slug = self._unique_slug()
        self.orientation = self._orientation()
        self.size_category = self._size_category()
        with transaction.atomic():
            super().save(*args, **kwargs)
            self.sync_units()

    def _unique_slug(self) -> str:
        artist = self.artist.title if self.artist_id else ""
        base = slugify(f"{self.title} {artist}")[:240] or "artwork"
        slug, n = base, 2
        while Artwork.objects.filter(slug=slug).exclude(pk=self.pk).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug

    def _orientation(self) -> str:
        h, w = self.height_cm or 0, self.width_cm or 0
        if h and w and abs(h - w) <= max(h, w) * SQUARE_TOLERANCE:
            return Orientation.SQUARE
        return Orientation.PORTRAIT if h > w else Orientation.LANDSCAPE

    @property
    def longest_side_cm(self) -> Decimal:
        return max(v or 0 for v in (self.height_cm, self.width_cm, self.depth_cm))

    def _size_category(self) -> str:
        longest = self.longest_side_cm
        if longest < SMALL_BELOW_CM:
            return SizeCategory.SMALL
        return SizeCategory.LARGE if longest > LARGE_ABOVE_CM else SizeCategory.MEDIUM

    def sync_units(self) -> None:
        """One inventory row per edition number; numbers above the edition size go if unsold."""
        existing = set(self.units.values_list("number", flat=True))
        size = self.unit_count
        wanted = set(range(1, size + 1))
        ArtworkUnit.objects.bulk_create(
            [ArtworkUnit(artwork=self, number=n) for n in sorted(wanted - existing)]
        )
        self.units.filter(number__gt=size, sold_at__isnull=True).delete()

    @property
    def unit_count(self) -> int:
        """Inventory rows: the edition size, or one when it is not known (museum prints)."""
        return self.edition_size or 1

    # --- What collectors see ---------------------------------------------------------------

    @property
    def display_date(self) -> str:
        """The date as the source wrote it ("c.1796-97"), else the year."""
        return self.date_text or (str(self.year) if self.year else "")

    @property
    def listing_ready(self) -> bool:
        """Loaded by ``for_listing()`` (stock annotated, artist joined)."""
        return "availability" in self.__dict__

    @property
    def is_public(self) -> bool:
        """What ``ArtworkQuerySet.public()`` selects, for a work already in hand."""
        return self.live and self.artist.live

    @property
    def medium_label(self) -> str:
        return self.get_medium_display()

    @cached_property
    def units_in_stock(self) -> int:
        """Units neither sold nor withheld (from the annotation when present)."""
        annotated = self.__dict__.get("units_unsold")
        if annotated is not None:
            return annotated
        if self.pk is None:  # a new work in the admin's preview: the units it will have
            return (self.edition_size or 0) if self.is_edition else 1
        return self.units.in_stock().count()

    @property
    def stock_label(self) -> str:
        """Available, sold or not for sale, from the stock annotation (for the team's list)."""
        availability = self.__dict__.get("availability")
        if availability is None:
            if not self.for_sale:
                availability = Availability.NOT_FOR_SALE
            else:
                in_stock = self.units_in_stock > 0
                availability = Availability.AVAILABLE if in_stock else Availability.SOLD
        return Availability(availability).label

    @property
    def list_price(self) -> str:
        """The price as entered, for the team (collectors see the shop's offer)."""
        if self.price_on_request or self.price is None:
            return "Price on request"
        return format_money(self.price, self.currency)

    @property
    def dimensions_cm(self) -> str:
        return format_dimensions(self.height_cm, self.width_cm, self.depth_cm, unit="cm")

    @property
    def dimensions_in(self) -> str:
        return format_dimensions(
            inches(self.height_cm), inches(self.width_cm), inches(self.depth_cm), unit="in"
        )

    @property
    def framed_dimensions_cm(self) -> str:
        if not self.framed:
            return ""
        return format_dimensions(
            self.framed_height_cm, self.framed_width_cm, self.framed_depth_cm, unit="cm"
        )

    @property
    def framed_dimensions_in(self) -> str:
        if not self.framed:
            return ""
        return format_dimensions(
            inches(self.framed_height_cm),
            inches(self.framed_width_cm),
            inches(self.framed_depth_cm),
            unit="in",
        )

    @property
    def edition_label(self) -> str:
        if not self.is_edition:
            return "Unique work"
        return f"Edition of {self.edition_size}" if self.edition_size else "Edition"

    @cached_property
    def main_image(self):
        first = next(iter(self.gallery_images.all()), None)
        return first.image if first else None

    @cached_property
    def main_image_alt(self) -> str:
        first = next(iter(self.gallery_images.all()), None)
        return first.alt if first else ""

    def get_url(self, request=None) -> str:
        from .pages import ArtworkIndexPage

        return ArtworkIndexPage.artwork_url(self.slug, request)

    get_absolute_url = get_url

    # --- Preview -----------------------------------------------------------------------------

    def get_preview_template(self, request, mode_name):
        return "artworks/artwork_detail.html"

    def get_preview_context(self, request, mode_name):
        context = super().get_preview_context(request, mode_name)
        context.update(artwork=self, related=[], is_preview=True)
        return context


class ArtworkImage(Orderable):
    artwork = ParentalKey(Artwork, on_delete=models.CASCADE, related_name="gallery_images")
    image = models.ForeignKey("core.CustomImage", on_delete=models.CASCADE, related_name="+")
    alt_text = models.CharField(
        max_length=255,
        blank=True,
        help_text="Describe the view; defaults to the image's description.",
    )
    caption = models.CharField(
        max_length=255, blank=True, help_text="e.g. 'Detail' or 'Installed view'."
    )

    panels = [FieldPanel("image"), FieldPanel("alt_text"), FieldPanel("caption")]

    @property
    def alt(self) -> str:
        return self.alt_text or self.image.default_alt_text


class ArtworkTag(TaggedItemBase):
    content_object = ParentalKey(Artwork, on_delete=models.CASCADE, related_name="tagged_items")


class ArtworkUnitQuerySet(models.QuerySet):
    def in_stock(self) -> ArtworkUnitQuerySet:
        """Units neither sold nor withheld."""
        return self.filter(sold_at__isnull=True, withheld=False)


class ArtworkUnit(models.Model):
    """One saleable unit: the work itself, or one numbered copy of an edition.

    The shop locks these rows (``select_for_update``, by primary key) to hold and sell units, so a
    unit can be held by one checkout at a time and sold once. Holds are the shop's own records.
    """

    artwork = models.ForeignKey(Artwork, on_delete=models.CASCADE, related_name="units")
    number = models.PositiveSmallIntegerField(help_text="Edition number; 1 for a unique work.")
    withheld = models.BooleanField(
        default=False,
        help_text="Not offered on ArtSpot (e.g. kept by the artist or sold elsewhere).",
    )
    sold_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ArtworkUnitQuerySet.as_manager()

    class Meta:
        ordering = ["artwork", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["artwork", "number"], name="one_unit_per_edition_number"
            ),
        ]
        indexes = [
            # Stock ("is any unit left?") is asked per listed work: one probe of this index.
            models.Index(
                fields=["artwork"],
                condition=Q(sold_at__isnull=True, withheld=False),
                name="artworkunit_in_stock",
            ),
        ]

    def __str__(self) -> str:
        if self.artwork.is_edition and self.artwork.edition_size:
            return f"{self.artwork.title}, {self.number}/{self.artwork.edition_size}"
        return self.artwork.title

    @property
    def status(self) -> str:
        """Sold, withheld or in stock (whether a checkout holds it is the shop's business)."""
        if self.sold_at:
            return "sold"
        if self.withheld:
            return "withheld"
        return "in stock"


class ArtworkContributor(Orderable):
    """Everyone credited on a work, in the source's order; the first is also ``Artwork.artist``."""

    artwork = ParentalKey(Artwork, on_delete=models.CASCADE, related_name="contributors")
    artist = models.ForeignKey(
        "artists.ArtistPage", on_delete=models.PROTECT, related_name="contributions"
    )
    role = models.CharField(
        max_length=100, blank=True, help_text="As the source says: 'artist', 'after', …"
    )

    panels = [FieldPanel("artist"), FieldPanel("role")]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["artwork", "artist", "role"], name="artwork_contributor_once_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.artist} ({self.role})" if self.role else str(self.artist)
