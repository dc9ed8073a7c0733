"""/artworks/: filters and sorts give exactly the matching live works; bad input never breaks it."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Medium

pytestmark = pytest.mark.django_db


@pytest.fixture
def known_works():
    """Five works by one artist with distinct facts; one of them is a draft."""
    artist = ArtistPageFactory(title="Wilhelmina Testcase")

    def work(name, day, **fields):
        return ArtworkFactory(
            artist=artist,
            title=name,
            first_published_at=datetime(2026, 1, day, tzinfo=UTC),
            **fields,
        )

    works = {
        "small": work(
            "Small Landscape", 1, height_cm=Decimal(30), width_cm=Decimal(40), price=Decimal(500),
        ),
        "square": work(
            "Square Print", 2, medium=Medium.PRINT, is_edition=True, edition_size=10,
            height_cm=Decimal(60), width_cm=Decimal(60), price=Decimal(1200),
        ),
        "large": work(
            "Large Photograph", 3, medium=Medium.PHOTOGRAPHY,
            height_cm=Decimal(120), width_cm=Decimal(80), price=Decimal(3000),
        ),
        "request": work(
            "Portrait On Request", 4, height_cm=Decimal(70), width_cm=Decimal(50),
            price=None, price_on_request=True,
        ),
        "draft": work("Draft Painting", 5, live=False, price=Decimal(800)),
    }  # fmt: skip
    works["square"].tags.add("coastal")
    works["square"].save()
    works["large"].units.update(sold_at=timezone.now())
    return artist, works


def titles(client, artist, **params) -> list[str]:
    response = client.get("/artworks/", {"artist": artist.slug, **params})
    assert response.status_code == 200
    return [artwork.title for artwork in response.context["artworks"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"Small Landscape", "Square Print", "Large Photograph", "Portrait On Request"}),
        ({"medium": "painting"}, {"Small Landscape", "Portrait On Request"}),
        ({"price_min": "1000"}, {"Square Print", "Large Photograph"}),
        ({"price_max": "1000"}, {"Small Landscape"}),
        ({"price_min": "600", "price_max": "1500"}, {"Square Print"}),
        ({"size": "small"}, {"Small Landscape"}),
        ({"size": "medium"}, {"Square Print", "Portrait On Request"}),
        ({"size": "large"}, {"Large Photograph"}),
        ({"orientation": "square"}, {"Square Print"}),
        ({"orientation": "portrait"}, {"Large Photograph", "Portrait On Request"}),
        ({"orientation": "landscape"}, {"Small Landscape"}),
        ({"availability": "sold"}, {"Large Photograph"}),
        ({"availability": "available"}, {"Small Landscape", "Square Print", "Portrait On Request"}),
        ({"tag": "coastal"}, {"Square Print"}),
    ],
)
def test_filters_return_exactly_the_matching_live_works(client, known_works, params, expected):
    artist, _ = known_works
    assert set(titles(client, artist, **params)) == expected


def test_sorts(client, known_works):
    artist, _ = known_works
    assert titles(client, artist) == [
        "Portrait On Request", "Large Photograph", "Square Print", "Small Landscape",
    ]  # fmt: skip
    assert titles(client, artist, sort="price") == [
        "Small Landscape", "Square Print", "Large Photograph", "Portrait On Request",
    ]  # fmt: skip
    assert titles(client, artist, sort="-price") == [
        "Large Photograph", "Square Print", "Small Landscape", "Portrait On Request",
    ]  # fmt: skip


def test_filters_stay_in_the_url_for_sharing(client, known_works):
    artist, _ = known_works
    response = client.get(
        "/artworks/", {"artist": artist.slug, "medium": "painting", "sort": "price"}
    )
    html = response.content.decode()
    assert '<option value="painting" selected>' in html
    assert f'<option value="{artist.slug}" selected>' in html


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"price_min": "abc"}, "Min price"),
        ({"medium": "hologram"}, "Medium"),
        ({"size": "enormous"}, "Size"),
        ({"availability": "gone"}, "Availability"),
        ({"sort": "cheapest"}, "Sort by"),
        ({"price_max": "-5"}, "Max price"),
        ({"price_min": "1e400"}, "Min price"),
    ],
)
def test_bad_filter_values_are_ignored_with_a_clear_message(client, known_works, params, message):
    artist, _ = known_works
    response = client.get("/artworks/", {"artist": artist.slug, **params})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This filter was ignored" in html
    assert message in html
    assert len(response.context["artworks"]) == 4  # the other filters still apply


def test_a_minimum_price_above_the_maximum_is_explained_next_to_the_fields(client, known_works):
    artist, _ = known_works
    response = client.get(
        "/artworks/", {"artist": artist.slug, "price_min": "2000", "price_max": "600"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    error = 'id="id_price_max-error">The maximum price (600) is below the minimum price (2,000).'
    assert error in html
    assert html.index('id="id_price_max"') < html.index(error) < html.index("Show works")
    assert 'aria-describedby="id_price_max-error"' in html and 'aria-invalid="true"' in html
    # Not a silent "0 works": the maximum is ignored and the minimum still applies.
    assert [a.title for a in response.context["artworks"]] == ["Large Photograph"]


def test_an_equal_minimum_and_maximum_is_fine(client, known_works):
    artist, _ = known_works
    response = client.get(
        "/artworks/", {"artist": artist.slug, "price_min": "500", "price_max": "500"}
    )
    assert "is below the minimum" not in response.content.decode()
    assert [a.title for a in response.context["artworks"]] == ["Small Landscape"]


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("medium=&size=small&artist=", "/artworks/?size=small"),
        ("tag=a&tag=&tag=b&sort=price&price_min=+", "/artworks/?tag=a&tag=b&sort=price"),
        ("medium=&price_min=&price_max=&page=", "/artworks/"),
        ("q=%3Cscript%3E&size=", "/artworks/?q=%3Cscript%3E"),
    ],
)
def test_empty_parameters_redirect_to_the_same_query_without_them(client, query, location):
    response = client.get(f"/artworks/?{query}")
    assert response.status_code in (301, 302)
    assert response["Location"] == location


def test_a_query_without_empty_parameters_is_served(client):
    assert client.get("/artworks/?size=small&sort=price").status_code == 200


def test_filters_apply_on_change_from_a_static_script_without_inline_code(client):
    from django.contrib.staticfiles import finders

    html = client.get("/artworks/").content.decode()
    assert '<form class="filters" data-autofilter' in html
    assert "<script>" not in html and " style=" not in html and "onchange" not in html
    script = Path(finders.find("js/artspot.js")).read_text(encoding="utf-8")
    assert "form[data-autofilter]" in script and 'addEventListener("change"' in script
    assert 'value.trim() !== ""' in script  # empty parameters never reach the URL


def test_unknown_artist_is_reported_not_fatal(client):
    response = client.get("/artworks/", {"artist": "nobody-at-all"})
    assert response.status_code == 200
    assert "This filter was ignored" in response.content.decode()


@pytest.mark.parametrize("page", ["9999", "abc", "-1", "0", "1.5"])
def test_out_of_range_pages_show_the_last_or_first_page(client, page):
    response = client.get("/artworks/", {"page": page})
    assert response.status_code == 200
    assert len(response.context["artworks"]) > 0


def test_page_beyond_the_end_says_so(client):
    response = client.get("/artworks/", {"page": "9999"})
    paginator = response.context["artworks"].paginator
    assert response.context["artworks"].number == paginator.num_pages
    assert "There is no page 9999" in response.content.decode()


def test_browse_query_count_is_bounded(client, django_assert_max_num_queries):
    client.get("/artworks/")  # renditions are made on the first view
    with django_assert_max_num_queries(8):
        response = client.get("/artworks/")
    assert response.status_code == 200
    assert len(response.context["artworks"]) == 24


def test_form_controls_are_readable_and_touch_sized_on_phones():
    """16 px text in inputs (iOS zooms in below it), 44 px selects, filter columns wide enough
    for "Medium (50-100 cm)" (shown by the browser journeys; here the rules must stay)."""
    from django.contrib.staticfiles import finders

    css = Path(finders.find("css/artspot.css")).read_text(encoding="utf-8")
    controls = ':is(input, select, textarea):not([type="checkbox"]):not([type="radio"])'
    assert f"{controls} {{ font-size: max(16px, 1rem); }}" in css
    assert "select { min-height: 44px;" in css
    assert "minmax(min(100%, 15rem), 1fr)" in css and "minmax(11rem" not in css


def _options(html: str) -> tuple[dict, list[tuple[str, str, bool]]]:
    from html.parser import HTMLParser

    found: dict = {"select": {}, "options": []}

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "select":
                found["select"] = dict(attrs)
            elif tag == "option":
                attrs = dict(attrs)
                found["options"].append([attrs.get("value"), "", "selected" in attrs])

        def handle_data(self, data):
            if found["options"]:
                found["options"][-1][1] += data

    Reader().feed(html)
    return found["select"], [(value, text.strip(), on) for value, text, on in found["options"]]


def test_the_fast_artist_select_writes_what_djangos_select_writes():
    """LongSelect (a thousand artists in one pass) escapes and selects exactly as Django does."""
    from django import forms

    from core.widgets import LongSelect

    choices = [("", "All artists"), ("tom-jerry", 'Tom & "Jerry" <b>'), ("x'y", "Zoë <script>")]
    for value in ("x'y", "", "missing"):
        fast = LongSelect(choices=choices).render("artist", value, attrs={"id": "id_artist"})
        django_own = forms.Select(choices=choices).render(
            "artist", value, attrs={"id": "id_artist"}
        )
        assert _options(fast) == _options(django_own)
        assert "<b>" not in fast and "<script>" not in fast
    assert _options(fast)[0] == {"name": "artist", "id": "id_artist"}
