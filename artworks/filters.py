"""Browse filters for /artworks/, kept in the URL so that a filtered listing can be shared.

A bad value never breaks the page: the filter it belongs to is ignored and ``problems`` says why.
"""

from __future__ import annotations

from urllib.parse import urlencode

import django_filters
from django import forms
from django.core.cache import cache
from django.db.models import Exists, OuterRef, QuerySet
from django.http import QueryDict
from taggit.models import Tag

from artists.models import ArtistPage
from core.widgets import LongSelect

from .models import ArtworkTag, Availability, Medium, Orientation, SizeCategory

MAX_PRICE = 10_000_000


# The filter's choices (every live artist, every theme in use) are read once per few minutes,
# not on every browse page; publishing or unpublishing an artist or a work forgets them.
CHOICES_CACHE_SECONDS = 300
ARTIST_CHOICES_KEY = "artworks:browse:artists"
TAG_CHOICES_KEY = "artworks:browse:tags"


def artist_choices() -> list[tuple[str, str]]:
    return cache.get_or_set(
        ARTIST_CHOICES_KEY,
        lambda: list(ArtistPage.objects.live().order_by("sort_name").values_list("slug", "title")),
        CHOICES_CACHE_SECONDS,
    )


def tag_choices() -> list[tuple[str, str]]:
    """Themes in use: one index probe per tag, not a DISTINCT over every tagging."""
    return cache.get_or_set(
        TAG_CHOICES_KEY,
        lambda: list(
            Tag.objects.filter(Exists(ArtworkTag.objects.filter(tag=OuterRef("pk"))))
            .order_by("name")
            .values_list("slug", "name")
        ),
        CHOICES_CACHE_SECONDS,
    )


def forget_choices(**kwargs) -> None:
    cache.delete_many([ARTIST_CHOICES_KEY, TAG_CHOICES_KEY])


class ArtworkFilter(django_filters.FilterSet):
    # Names and slugs only, rendered in one pass: a catalogue may have thousands of artists.
    artist = django_filters.ChoiceFilter(
        field_name="artist__slug",
        choices=artist_choices,
        empty_label="All artists",
        label="Artist",
        widget=LongSelect,
    )
    medium = django_filters.ChoiceFilter(
        choices=Medium.choices, empty_label="All media", label="Medium"
    )
    price_min = django_filters.NumberFilter(
        field_name="price", lookup_expr="gte", label="Min price", min_value=0, max_value=MAX_PRICE
    )
    price_max = django_filters.NumberFilter(
        field_name="price", lookup_expr="lte", label="Max price", min_value=0, max_value=MAX_PRICE
    )
    size = django_filters.ChoiceFilter(
        field_name="size_category",
        choices=SizeCategory.choices,
        empty_label="Any size",
        label="Size",
    )
    orientation = django_filters.ChoiceFilter(
        choices=Orientation.choices, empty_label="Any shape", label="Orientation"
    )
    availability = django_filters.ChoiceFilter(
        choices=Availability.choices,
        empty_label="Any availability",
        label="Availability",
        method="with_stock",
    )
    tag = django_filters.ChoiceFilter(
        field_name="tags__slug",
        choices=tag_choices,
        empty_label="Any theme",
        label="Theme",
    )
    sort = django_filters.OrderingFilter(
        choices=[
            ("newest", "Newest"),
            ("price", "Price: low to high"),
            ("-price", "Price: high to low"),
        ],
        empty_label=None,
        label="Sort by",
        method="sort_by",
    )

    class Meta:
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        self.raw_data = data.copy() if data is not None else {}
        super().__init__(data, *args, **kwargs)
        for field in self.form.fields.values():
            field.required = False
        self.form.fields["price_min"].widget = forms.NumberInput(attrs={"min": 0, "step": 1})
        self.form.fields["price_max"].widget = forms.NumberInput(attrs={"min": 0, "step": 1})

    def with_stock(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.with_stock(value) if value else queryset

    def sort_by(self, queryset: QuerySet, name: str, value: list[str]) -> QuerySet:
        choice = value[0] if value else "newest"
        if choice == "price":
            return queryset.order_by("price_on_request", "price", "-pk")
        if choice == "-price":
            return queryset.order_by("price_on_request", "-price", "-pk")
        return queryset.order_by("-first_published_at", "-pk")

    @property
    def qs(self) -> QuerySet:
        """Apply every valid filter; an invalid one is dropped rather than failing the page."""
        if not hasattr(self, "_qs"):
            form = self.form
            if not form.is_valid():
                self._problems = [
                    f"{form.fields[name].label or name}: {' '.join(errors)} "
                    "This filter was ignored."
                    for name, errors in form.errors.items()
                ]
                for name in list(form.errors):
                    form.cleaned_data[name] = None
            low, high = form.cleaned_data.get("price_min"), form.cleaned_data.get("price_max")
            if low is not None and high is not None and low > high:
                message = f"The maximum price ({high:,}) is below the minimum price ({low:,})."
                form.add_error("price_max", message)
                form.fields["price_max"].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": "id_price_max-error"}
                )
                form.cleaned_data["price_max"] = None
                self._problems = [
                    *getattr(self, "_problems", []),
                    f"Max price: {message} This filter was ignored.",
                ]
            queryset = self.queryset.all()
            for name, value in form.cleaned_data.items():
                queryset = self.filters[name].filter(queryset, value)
            if not form.cleaned_data.get("sort"):
                queryset = self.sort_by(queryset, "sort", [])
            self._qs = queryset
        return self._qs

    @property
    def problems(self) -> list[str]:
        self.qs  # noqa: B018 - evaluating the filters records the problems
        return getattr(self, "_problems", [])

    @property
    def is_filtered(self) -> bool:
        return any(self.raw_data.get(name) for name in self.filters if name != "sort")

    def field_is_invalid(self, name: str) -> bool:
        self.qs  # noqa: B018 - evaluating the filters records the errors
        return name in self.form.errors

    def querystring_without(self, *names: str) -> str:
        pairs = (
            [
                (key, value)
                for key, values in self.raw_data.lists()
                if key not in names
                for value in values
                if value
            ]
            if hasattr(self.raw_data, "lists")
            else []
        )
        return urlencode(pairs)


def without_empty_parameters(query: QueryDict) -> str | None:
    """The query string without its empty parameters, or None when it has none to drop.

    Order and repeated keys are kept, so the shorter URL shows exactly the same listing.
    """
    pairs = [(key, value) for key, values in query.lists() for value in values]
    kept = [(key, value) for key, value in pairs if value.strip()]
    if len(kept) == len(pairs):
        return None
    return urlencode(kept)
