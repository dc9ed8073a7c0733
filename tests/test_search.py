"""Site search as a visitor uses it: grouped results, one type paginated, suggestions, odd input.

Known content uses made-up words (Vardexa, Zorquet, Plenthor…) so the demo never interferes. It is
created inside ``django_capture_on_commit_callbacks(execute=True)``: saving an object queues
Wagtail's index update through django-tasks and our Celery bridge on commit, exactly as in
production, and the context manager runs those commit callbacks inside the test transaction.
"""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from wagtail.models import PageViewRestriction

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork, Medium
from home.models import StandardPage
from search import engine
from search.highlight import excerpt, highlight, term_pattern
from search.query import MAX_QUERY_LENGTH, SearchQuery

pytestmark = pytest.mark.django_db

SEARCH = reverse("search")
AUTOCOMPLETE = reverse("search_autocomplete")


@pytest.fixture
def vardexa(published):
    return published(ArtistPageFactory, title="Quillon Vardexa", based_in="Leith, Scotland")


@pytest.fixture
def works(published, vardexa):
    """A titled work, a work that names the same word only in its description, and a ceramic."""
    return {
        "title_match": published(
            ArtworkFactory,
            title="Brimvale Zorquet",
            artist=vardexa,
            medium=Medium.PAINTING,
            description="<p>Tide lines in grey and ochre.</p>",
        ),
        "description_match": published(
            ArtworkFactory,
            title="Glimmerfen Study",
            artist=vardexa,
            medium=Medium.PAINTING,
            description="<p>A study of zorquet light over the marsh at dusk.</p>",
        ),
        "ceramic": published(
            ArtworkFactory,
            title="Hollow Vessel",
            artist=vardexa,
            medium=Medium.CERAMICS,
            materials="Glazed stoneware",
            price=Decimal("850.00"),
        ),
    }


def _group(html: str, key: str) -> str:
    """The HTML of one result group on the grouped page ('' when the group is absent)."""
    match = re.search(rf'<section class="search-group" id="results-{key}".*?</section>', html, re.S)
    return match.group(0) if match else ""


def _text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


# --- Finding things ------------------------------------------------------------------------------


def test_finds_artworks_and_the_artist_by_the_artists_name(client, works):
    html = client.get(SEARCH, {"query": "Vardexa"}).content.decode()
    artworks = _text(_group(html, "artworks"))
    for work in works.values():
        assert work.title in artworks
    assert "Quillon Vardexa" in _text(_group(html, "artists"))


def test_finds_an_artwork_by_a_word_of_its_title(client, works):
    html = client.get(SEARCH, {"query": "brimvale"}).content.decode()
    group = _group(html, "artworks")
    assert "<mark>Brimvale</mark> Zorquet" in group
    assert "Glimmerfen" not in group


def test_finds_an_artwork_by_its_medium(client, works):
    # Every word must match: the artist's ceramic, not the same artist's paintings.
    group = _text(
        _group(client.get(SEARCH, {"query": "vardexa ceramics"}).content.decode(), "artworks")
    )
    assert "Hollow Vessel" in group
    assert "Brimvale Zorquet" not in group
    assert "Glimmerfen Study" not in group


@pytest.mark.parametrize("backend_ranks_titles", [True, False], ids=["backend", "two-tier"])
def test_a_title_match_ranks_above_a_description_match(
    client, works, published, vardexa, monkeypatch, backend_ranks_titles
):
    """PostgreSQL weights the title itself; the two-tier order (used on SQLite) must agree."""
    monkeypatch.setattr(engine, "ranks_titles_first", lambda: backend_ranks_titles)
    # The hardest case for a ranking that weighs all text alike: the word is almost the whole
    # of one description, and one word among many in the titled work.
    published(ArtworkFactory, title="Plain Thing", artist=vardexa, description="<p>Zorquet.</p>")
    published(
        ArtworkFactory,
        title="Yonder Zorquet",
        artist=vardexa,
        description="<p>" + "A long text about many other things. " * 20 + "</p>",
    )
    response = client.get(SEARCH, {"query": "zorquet", "type": "artworks"})
    titles = [hit.title for hit in response.context["results"]]
    assert sorted(titles[:2]) == ["Brimvale Zorquet", "Yonder Zorquet"]
    assert sorted(titles[2:]) == ["Glimmerfen Study", "Plain Thing"]
    assert response.context["results"].paginator.count == 4


def test_artwork_results_show_image_artist_price_availability_and_a_marked_snippet(client, works):
    html = _group(client.get(SEARCH, {"query": "zorquet"}).content.decode(), "artworks")
    assert "<picture" in html and "<img" in html
    assert "Quillon Vardexa" in html
    assert "£2,400.00" in html  # the shop's price text, always with pence
    assert "Available" in html
    # The description-only match explains itself with an excerpt of the description.
    assert "A study of <mark>zorquet</mark> light over the marsh at dusk." in html
    # Links go to the works' own pages.
    assert f'href="{works["title_match"].get_url()}"' in html


def test_snippet_marks_the_words_and_escapes_the_text(client, published, vardexa):
    published(
        ArtworkFactory,
        title="Quartzel Plate",
        artist=vardexa,
        description=(
            "<p>Fish &amp; chips &lt;script&gt;alert(1)&lt;/script&gt; on a quartzel plate.</p>"
        ),
    )
    html = client.get(SEARCH, {"query": "<quartzel>"}).content.decode()
    group = _group(html, "artworks")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; on a <mark>quartzel</mark> plate." in group
    assert "Fish &amp; chips" in group
    assert "<script>alert" not in html
    # The query is shown back escaped, never as markup.
    assert "“&lt;quartzel&gt;”" in html


def test_a_match_in_the_themes_shows_them_as_the_snippet(client, published, vardexa):
    def tagged() -> Artwork:
        work = ArtworkFactory(title="Untitled", artist=vardexa, description="")
        work.tags.add("brimvale", "coastal")
        work.save()  # indexed with its tags at the commit
        return work

    published(tagged)
    html = client.get(SEARCH, {"query": "brimvale"}).content.decode()
    assert "<mark>brimvale</mark>, coastal" in _group(html, "artworks")


# --- Never shown ---------------------------------------------------------------------------------


def test_drafts_unpublished_expired_and_private_content_never_appear(
    client, published, vardexa, home_page, django_capture_on_commit_callbacks
):
    hidden_artist = published(ArtistPageFactory, title="Xyloquent Hidden", live=False)
    orphan = published(ArtworkFactory, title="Xyloquent Orphan", artist=hidden_artist)
    published(ArtworkFactory, title="Xyloquent Draft", artist=vardexa, live=False)
    published(
        ArtworkFactory,
        title="Xyloquent Expired",
        artist=vardexa,
        live=False,
        expired=True,
        expire_at=timezone.now() - timedelta(days=1),
    )
    published(ArtworkFactory, title="Xyloquent Shown", artist=vardexa)

    pages = {}
    with django_capture_on_commit_callbacks(execute=True):
        for title in ("Xyloquent Unpublished", "Xyloquent Private", "Xyloquent Page"):
            pages[title] = home_page.add_child(
                instance=StandardPage(title=title, introduction="Notes on xyloquent work.")
            )
            pages[title].save_revision().publish()
    with django_capture_on_commit_callbacks(execute=True):
        pages["Xyloquent Unpublished"].unpublish()
        PageViewRestriction.objects.create(
            page=pages["Xyloquent Private"],
            restriction_type=PageViewRestriction.PASSWORD,
            password="secret",
        )
    assert orphan.live  # hidden only because its artist is

    # Compared as text: titles carry <mark> around the query word.
    html = _text(client.get(SEARCH, {"query": "xyloquent"}).content.decode())
    artworks_page = _text(
        client.get(SEARCH, {"query": "xyloquent", "type": "artworks"}).content.decode()
    )
    pages_page = _text(client.get(SEARCH, {"query": "xyloquent", "type": "pages"}).content.decode())
    suggestions = json.dumps(client.get(AUTOCOMPLETE, {"q": "xyloq"}).json())

    assert "Xyloquent Shown" in html
    assert "Xyloquent Page" in html
    assert "Xyloquent Shown" in suggestions
    for body in (html, artworks_page, pages_page, suggestions):
        for hidden in ("Hidden", "Orphan", "Draft", "Expired", "Unpublished", "Private"):
            assert f"Xyloquent {hidden}" not in body


def test_pages_are_found_by_their_body_with_a_snippet_from_it(
    client, home_page, django_capture_on_commit_callbacks
):
    body = [
        ("heading", {"text": "Caring for quormish glazes", "level": "h2"}),
        ("paragraph", "<p>Keep <b>quormish</b> pots away from frost &amp; direct sun.</p>"),
    ]
    with django_capture_on_commit_callbacks(execute=True):
        page = home_page.add_child(instance=StandardPage(title="Care guide", body=body))
        page.save_revision().publish()
    response = client.get(SEARCH, {"query": "quormish"})
    group = _group(response.content.decode(), "pages")
    assert f'href="{page.url}"' in group
    snippet = "Caring for <mark>quormish</mark> glazes Keep <mark>quormish</mark> pots away"
    assert snippet in group
    assert "h2" not in _text(group)


def test_search_sees_exactly_the_public_artworks():
    """The index-filterable spelling of Artwork.objects.public() must stay the same rule."""
    searchable = set(engine.ArtworkResults().public_queryset().values_list("pk", flat=True))
    assert searchable == set(Artwork.objects.public().values_list("pk", flat=True))
    assert searchable  # the demo's works


# --- Grouping and paging -------------------------------------------------------------------------


def test_searching_a_demo_artists_name_shows_the_artist_before_the_artworks(client):
    """As the suggestions do: the matching artist in their own section, first on the page."""
    from artists.models import ArtistPage

    artist = next(a for a in ArtistPage.objects.live() if a.artworks.filter(live=True).exists())
    response = client.get(SEARCH, {"query": artist.title})
    keys = [group.type.key for group in response.context["groups"]]
    assert keys[0] == "artists" and "artworks" in keys
    html = response.content.decode()
    artists = _group(html, "artists")
    assert artist.title in _text(artists)
    assert html.index('id="results-artists"') < html.index('id="results-artworks"')
    suggestions = client.get(AUTOCOMPLETE, {"q": artist.title}).json()["results"]
    assert suggestions[0]["type"] == "artist"  # the same order as the suggestions


@pytest.fixture
def plenthors(published, vardexa):
    return [
        published(ArtworkFactory, title=f"Plenthor no. {n}", artist=vardexa, images=0)
        for n in range(1, 15)
    ]


def test_grouped_page_shows_each_types_count_and_the_best_few(client, plenthors, vardexa):
    response = client.get(SEARCH, {"query": "plenthor"})
    assert response.status_code == 200
    groups = {group.type.key: group for group in response.context["groups"]}
    assert groups["artworks"].count == 14
    assert len(groups["artworks"].hits) == engine.ArtworkResults.group_size
    html = response.content.decode()
    assert "14 results for “plenthor”" in html
    assert "See all 14 artworks" in html
    assert "?query=plenthor&amp;type=artworks" in html
    assert 'Artworks <span class="search-count">14</span>' in html


@pytest.mark.parametrize("backend_ranks_titles", [True, False], ids=["backend", "two-tier"])
def test_type_page_is_paginated_and_a_bad_page_never_fails(
    client, plenthors, monkeypatch, backend_ranks_titles
):
    monkeypatch.setattr(engine, "ranks_titles_first", lambda: backend_ranks_titles)
    first = client.get(SEARCH, {"query": "plenthor", "type": "artworks"})
    assert first.context["results"].paginator.num_pages == 2
    assert len(first.context["results"]) == engine.RESULTS_PER_PAGE
    assert 'rel="next"' in first.content.decode()

    second = client.get(SEARCH, {"query": "plenthor", "type": "artworks", "page": "2"})
    assert len(second.context["results"]) == 14 - engine.RESULTS_PER_PAGE

    shown = {hit.title for hit in first.context["results"]} | {
        hit.title for hit in second.context["results"]
    }
    assert shown == {work.title for work in plenthors}

    for bad, expected in (("999", 2), ("0", 2), ("-1", 2), ("abc", 1), ("1.5", 1), ("", 1)):
        response = client.get(SEARCH, {"query": "plenthor", "type": "artworks", "page": bad})
        assert response.status_code == 200, bad
        assert response.context["results"].number == expected, bad
        if bad:
            assert "There is no page" in response.content.decode(), bad


def test_unknown_type_shows_the_grouped_page(client, works):
    response = client.get(SEARCH, {"query": "zorquet", "type": "nonsense"})
    assert response.status_code == 200
    assert response.context["groups"]


def test_a_type_whose_model_does_not_exist_is_skipped(client, works, monkeypatch):
    """Stories and collections are optional: while their models are missing, search goes on."""
    monkeypatch.setattr(engine.StoryResults, "model_label", "stories.NoSuchPage")
    monkeypatch.setattr(engine.CollectionResults, "model_label", "nosuchapp.CollectionPage")
    assert engine.get_type("stories") is None
    response = client.get(SEARCH, {"query": "zorquet", "type": "stories"})
    assert response.status_code == 200
    assert [group.type.key for group in response.context["groups"]] == ["artworks"]
    assert client.get(AUTOCOMPLETE, {"q": "zorq"}).status_code == 200


def test_results_page_query_count_is_bounded(client, plenthors, django_assert_max_num_queries):
    """A fixed number of queries per type, however many results each shows.

    Steady state: the first view makes the thumbnails' renditions, later views reuse them.
    """
    broad = {"query": "painting"}  # the demo has paintings, painters and stories about painting
    client.get(SEARCH, broad)
    with django_assert_max_num_queries(11):
        response = client.get(SEARCH, broad)
    assert len(response.context["groups"]) >= 4

    one_type = {"query": "plenthor", "type": "artworks"}
    client.get(SEARCH, one_type)
    with django_assert_max_num_queries(3):
        response = client.get(SEARCH, one_type)
    assert len(response.context["results"]) == engine.RESULTS_PER_PAGE

    client.get(AUTOCOMPLETE, {"q": "plenth"})
    with django_assert_max_num_queries(4):
        client.get(AUTOCOMPLETE, {"q": "plenth"})


def test_results_page_is_cacheable_for_anonymous_visitors(client, works):
    response = client.get(SEARCH, {"query": "zorquet"})
    assert "public" in response["Cache-Control"]
    assert "s-maxage" in response["Cache-Control"]


# --- Odd input -----------------------------------------------------------------------------------


def test_empty_query_shows_a_friendly_page(client):
    for params in ({}, {"query": ""}, {"query": "   "}):
        response = client.get(SEARCH, params)
        assert response.status_code == 200
        assert "Find a work by its title, its artist" in response.content.decode()


def test_a_10kb_query_is_cut_with_a_notice(client, works):
    response = client.get(SEARCH, {"query": "zorquet " * 1300})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"we used its first {MAX_QUERY_LENGTH} characters" in html
    assert len(response.context["search_query"]) <= MAX_QUERY_LENGTH
    assert "Brimvale <mark>Zorquet</mark>" in html
    assert client.get(AUTOCOMPLETE, {"q": "x" * 10_000}).status_code == 200


ODD_QUERIES = [
    "'\"&<>%_\\",
    "%",
    "_",
    "\\",
    "'; DROP TABLE artworks_artwork; --",
    "' OR 1=1 --",
    "🎨 painting 🖼️",
    "🎨",
    'blue & "green" | !red',
    "(painting",
    "paint:*",
    "a" * 300,
    "NEAR(painting print)",
    "painting AND NOT print",
    "*",
    "ünïcødé Straße",
    "東京 絵画",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_queries_answer_200(client, query):
    for params in (
        {"query": query},
        {"query": query, "type": "artworks"},
        {"query": query, "type": "pages", "page": "2"},
    ):
        response = client.get(SEARCH, params)
        assert response.status_code == 200, params
        assert "\x00" not in response.content.decode()
    response = client.get(AUTOCOMPLETE, {"q": query})
    assert response.status_code == 200
    assert isinstance(response.json()["results"], list)


def test_lone_surrogates_and_bad_utf8_answer_200(client):
    # A lone surrogate cannot be sent as UTF-8; these are the bytes a client would send for one,
    # plus plain invalid UTF-8. Django decodes both leniently and search cleans what is left.
    for raw in ("%ED%A0%80", "%ED%B0%80painting", "%FF%FE", "%C0%AF"):
        assert client.get(f"{SEARCH}?query={raw}").status_code == 200
        assert client.get(f"{AUTOCOMPLETE}?q={raw}").status_code == 200


@pytest.mark.parametrize("query", ["brim\x00vale", "\x00", "zorquet\x01brim"])
def test_control_characters_are_refused_before_search_runs(client, query):
    # core.middleware answers 400 for any address with a NUL or other control character
    # (tests/test_hardening.py); SearchQuery still drops them should one ever get this far.
    assert client.get(SEARCH, {"query": query}).status_code == 400
    assert client.get(AUTOCOMPLETE, {"q": query}).status_code == 400


# --- Autocomplete --------------------------------------------------------------------------------


def test_autocomplete_answers_titles_by_prefix(client, works, vardexa):
    response = client.get(AUTOCOMPLETE, {"q": "Brimv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["query"] == "Brimv"
    assert body["results"] == [
        {
            "type": "artwork",
            "title": "Brimvale Zorquet",
            "url": works["title_match"].get_url(),
            "subtitle": "Quillon Vardexa, 2024",
        }
    ]

    artists = client.get(AUTOCOMPLETE, {"q": "quillon var"}).json()["results"]
    assert artists[0] == {
        "type": "artist",
        "title": "Quillon Vardexa",
        "url": vardexa.url,
        "subtitle": "Leith, Scotland · b. 1985",
    }
    # The artist's name also suggests the artist's works, after the artist.
    assert {result["type"] for result in artists[1:]} == {"artwork"}


def test_autocomplete_is_short_public_and_cacheable(client, plenthors):
    response = client.get(AUTOCOMPLETE, {"q": "plenth"})
    results = response.json()["results"]
    assert 0 < len(results) <= engine.AUTOCOMPLETE_LIMIT
    assert all(set(result) == {"type", "title", "url", "subtitle"} for result in results)
    cache_control = response["Cache-Control"]
    assert "public" in cache_control
    assert "max-age=60" in cache_control


@pytest.mark.parametrize("q", [None, "", " ", "b", "🎨", "%"])
def test_autocomplete_short_or_empty_query_answers_no_results(client, q):
    params = {} if q is None else {"q": q}
    response = client.get(AUTOCOMPLETE, params)
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_header_search_box_knows_where_suggestions_come_from(client):
    html = client.get("/").content.decode()
    assert f'data-autocomplete-url="{AUTOCOMPLETE}"' in html


# --- The pieces ----------------------------------------------------------------------------------


def test_query_is_cleaned_cut_and_split_into_words():
    query = SearchQuery.parse("  Blue\x00 \ud800print\t\n'; --  ")
    assert query.text == "Blue print '; --"
    assert query.terms == ("Blue", "print")
    assert not query.truncated

    long = SearchQuery.parse("word " * 100)
    assert long.truncated and len(long.text) <= MAX_QUERY_LENGTH
    assert long.terms == ("word",)

    assert not SearchQuery.parse("🎨 %_ '")
    assert not SearchQuery.parse(None)


def test_highlight_marks_stems_and_escapes_everything_else():
    pattern = term_pattern(["paintings", "<b>"])
    assert str(highlight("Painted <b>boldly</b>: a painting", pattern)) == (
        "<mark>Painted</mark> &lt;b&gt;boldly&lt;/b&gt;: a <mark>painting</mark>"
    )
    # Short words only match whole words.
    assert str(highlight("an ant and an anvil", term_pattern(["an"]))) == (
        "<mark>an</mark> ant and <mark>an</mark> anvil"
    )
    assert str(highlight("<i>x</i>", None)) == "&lt;i&gt;x&lt;/i&gt;"


def test_excerpt_centres_on_the_first_match():
    text = " ".join(["filler"] * 60) + " the zorquet light " + " ".join(["more"] * 60)
    snippet = str(excerpt(text, term_pattern(["zorquet"]), length=80))
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "<mark>zorquet</mark>" in snippet
    assert len(re.sub(r"</?mark>", "", snippet)) <= 80 + 4
