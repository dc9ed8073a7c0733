"""Editorial stories as readers, collectors and editors see them: pages, shop blocks, feeds."""

import xml.etree.ElementTree as ET
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from home.models import HomePage
from stories.blocks import StoryBodyBlock
from stories.factories import (
    StoryPageFactory,
    artwork_block,
    artwork_grid,
    heading,
    paragraph,
    quote,
)
from stories.models import FEED_LENGTH, STORIES_PER_PAGE, StoryIndexPage, StoryPage

pytestmark = pytest.mark.django_db

ATOM = {"atom": "http://www.w3.org/2005/Atom"}
DEMO_SLUGS = [
    "a-morning-in-the-studio",
    "collecting-editions-a-beginners-guide",
    "interview-colour-patience-and-knowing-when-to-stop",
    "how-to-hang-a-salon-wall",
    "works-on-paper-why-drawing-still-matters",
    "living-with-sculpture-and-ceramics",
    "edges-of-the-day-on-the-coast",
    "buying-your-first-original-painting",
]


@pytest.fixture
def public_works():
    return list(Artwork.objects.public().order_by("pk")[:9])


@pytest.fixture
def many_stories():
    """Enough stories for two index pages and a full feed, dated after the demo's."""
    today = timezone.localdate()
    return [
        StoryPageFactory(title=f"Extra story {n}", date=today + timedelta(days=n), hero_image=None)
        for n in range(1, 14)
    ]


def _html(client, url: str, **params) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, url
    return response.content.decode()


# --- The story page -------------------------------------------------------------------------------


def test_story_page_renders_its_blocks_within_query_budget(client, django_assert_max_num_queries):
    story = StoryPage.objects.get(slug="how-to-hang-a-salon-wall")
    grid = next(block for block in story.body if block.block_type == "artwork_grid")
    works = list(grid.value["artworks"])
    assert len(works) == 8
    client.get(story.url)  # the first view makes the image renditions
    with django_assert_max_num_queries(10):
        html = _html(client, story.url)
    assert "<h1>How to hang a salon wall</h1>" in html
    assert '<h2 class="block-heading">Plan on the floor first</h2>' in html
    assert "<blockquote><p>Start with the piece you love most" in html
    assert '<h2 class="shop-grid__heading">Eight small works for a salon wall</h2>' in html
    for work in works:
        assert f'<a href="/artworks/{work.slug}/">{escape(work.title)}</a>' in html
    assert html.count('class="shop-card"') == 8
    # Byline, hero alt text, topics and the related artists.
    assert f"By {story.author}" in html
    assert f'alt="{escape(story.hero_image.description)}"' in html
    assert 'href="/stories/?tag=hanging"' in html
    for related in story.related_artists.all():
        assert f'href="{related.artist.url}"' in html


def test_artwork_grid_does_not_query_per_work(client, public_works):
    small = StoryPageFactory(body=[artwork_grid("Shop the story", public_works[:1])])
    large = StoryPageFactory(body=[artwork_grid("Shop the story", public_works[1:9])])
    counts = []
    for story in (small, large):
        client.get(story.url)  # renditions
        with CaptureQueriesContext(connection) as queries:
            html = _html(client, story.url)
        counts.append(len(queries))
    assert html.count('class="shop-card"') == 8
    assert counts[1] == counts[0], counts


def test_artwork_block_shows_live_price_availability_and_the_right_action(client):
    artwork = ArtworkFactory(title="Harbour at Dusk", price=Decimal("2400.00"))
    story = StoryPageFactory(body=[artwork_block(artwork, caption="Seen on our studio visit.")])
    url = f"/artworks/{artwork.slug}/"

    html = _html(client, story.url)
    assert "<cite>Harbour at Dusk</cite>" in html
    assert '<span class="shop-card__price">£2,400.00</span>' in html  # always two decimals
    assert '<span class="availability availability--available">Available</span>' in html
    assert f'href="{url}#buy">Buy' in html
    assert "Seen on our studio visit." in html

    # Price and availability are read when the story is viewed, not copied into it.
    Artwork.objects.filter(pk=artwork.pk).update(price=Decimal("3150.50"))
    artwork.units.update(sold_at=timezone.now())
    html = _html(client, story.url)
    assert '<span class="shop-card__price">£3,150.50</span>' in html
    assert "£2,400" not in html
    assert '<span class="availability availability--sold">Sold</span>' in html
    assert f'href="{url}#enquire">Enquire' in html
    assert "#buy" not in html


def test_price_on_request_work_offers_an_enquiry(client):
    artwork = ArtworkFactory(title="Private Commission", price=None, price_on_request=True)
    html = _html(client, StoryPageFactory(body=[artwork_grid("Shop", [artwork])]).url)
    assert "Price on request" in html
    assert f'href="/artworks/{artwork.slug}/#enquire">Enquire' in html
    assert "#buy" not in html


def test_unpublished_artwork_disappears_from_the_story(client):
    kept = ArtworkFactory(title="Kept Work")
    withdrawn = ArtworkFactory(title="Withdrawn Work")
    story = StoryPageFactory(
        body=[
            artwork_block(withdrawn),
            artwork_grid("Shop the story", [withdrawn, kept]),
        ]
    )
    html = _html(client, story.url)
    assert html.count(f'href="/artworks/{withdrawn.slug}/"') == 2

    withdrawn.unpublish()
    html = _html(client, story.url)
    assert withdrawn.slug not in html
    assert "Withdrawn Work" not in html
    assert f'<a href="/artworks/{kept.slug}/">Kept Work</a>' in html
    assert "Not shown to visitors" not in html


def test_works_by_an_unpublished_artist_disappear_and_an_empty_grid_renders_nothing(client):
    artwork = ArtworkFactory(title="Orphaned Work")
    story = StoryPageFactory(body=[paragraph("<p>Intro.</p>"), artwork_grid("Shop", [artwork])])
    assert artwork.slug in _html(client, story.url)

    artwork.artist.unpublish()
    html = _html(client, story.url)
    assert artwork.slug not in html
    assert "shop-grid" not in html


def test_editors_previewing_are_told_which_chosen_works_are_hidden(rf):
    draft = ArtworkFactory(title="Draft Work", live=False)
    block = StoryBodyBlock().child_blocks["artwork_grid"]
    value = block.to_python({"heading": "Shop", "artworks": [draft.pk]})
    request = rf.get("/stories/preview/")

    assert "Draft Work" not in block.render(value, {"request": request})
    request.is_preview = True
    preview = block.render(value, {"request": request})
    assert "Not shown to visitors" in preview
    assert "<cite>Draft Work</cite>" in preview


def test_every_body_block_describes_itself_to_editors():
    for name, block in StoryBodyBlock().child_blocks.items():
        assert block.meta.icon, name
        assert block.get_description(), name
        if name != "embed":  # an embed preview would call out to YouTube or Vimeo
            assert block.get_preview_value(), name
    preview = StoryBodyBlock().child_blocks["artwork_grid"].get_preview_value()
    assert all(work.live for work in preview["artworks"])


def test_draft_story_is_not_served(client):
    draft = StoryPageFactory(title="Unfinished", live=False)
    assert client.get(f"/stories/{draft.slug}/").status_code == 404


# --- The index ------------------------------------------------------------------------------------


def test_story_index_lists_live_stories_newest_first(client, django_assert_max_num_queries):
    draft = StoryPageFactory(title="Hidden Draft", live=False)
    client.get("/stories/")
    with django_assert_max_num_queries(6):
        html = _html(client, "/stories/")
    positions = [
        html.index(f'href="{story.url}"')
        for story in StoryPage.objects.live().order_by("-date", "-pk")
    ]
    assert positions == sorted(positions)
    assert "Hidden Draft" not in html and draft.slug not in html


def test_story_index_paginates_and_survives_bad_page_numbers(client, many_stories):
    stories = list(StoryPage.objects.live().order_by("-date", "-pk"))
    assert len(stories) > STORIES_PER_PAGE

    first = _html(client, "/stories/")
    assert first.count('class="card story-card"') == STORIES_PER_PAGE
    assert "Page 1 of 2" in first
    assert stories[0].url in first and stories[-1].url not in first

    last = _html(client, "/stories/", page="2")
    assert stories[-1].url in last and stories[0].url not in last

    for bad, expected in [("abc", 1), ("1.5", 1), ("", 1), ("0", 2), ("-3", 2), ("999", 2)]:
        assert f"Page {expected} of 2" in _html(client, "/stories/", page=bad), bad


def test_story_index_filters_by_tag_and_keeps_the_filter_across_pages(client, many_stories):
    for story in many_stories:
        story.tags.add("weekend")
        story.save()
    interview = StoryPage.objects.get(slug="interview-colour-patience-and-knowing-when-to-stop")

    html = _html(client, "/stories/", tag="interview")
    assert interview.url in html
    assert "/stories/how-to-hang-a-salon-wall/" not in html
    assert "Stories about “interview”" in html

    weekend = _html(client, "/stories/", tag="weekend")
    assert interview.url not in weekend
    assert 'href="?tag=weekend&amp;page=2"' in weekend

    unknown = _html(client, "/stories/", tag="no-such-topic")
    assert "There are no stories about “no-such-topic”" in unknown
    assert 'class="card story-card"' not in unknown


# --- Feeds ----------------------------------------------------------------------------------------


def test_story_index_links_its_feeds_in_the_head(client):
    html = _html(client, "/stories/")
    head = html[: html.index("</head>")]
    assert 'rel="alternate" type="application/rss+xml"' in head
    assert 'href="/stories/feed/rss/"' in head
    assert 'rel="alternate" type="application/atom+xml"' in head
    assert 'href="/stories/feed/atom/"' in head


def test_rss_feed_lists_the_latest_live_stories_and_no_drafts(client, many_stories):
    tomorrow = timezone.localdate() + timedelta(days=30)
    latest = StoryPageFactory(title="Fresh from the Studio", date=tomorrow, tags=["interview"])
    StoryPageFactory(title="Not Ready Yet", date=tomorrow + timedelta(days=1), live=False)

    response = client.get("/stories/feed/rss/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    items = channel.findall("item")
    titles = [item.findtext("title") for item in items]

    expected = StoryPage.objects.live().order_by("-date", "-pk")[:FEED_LENGTH]
    assert titles == [story.title for story in expected]
    assert len(items) == FEED_LENGTH
    assert titles[0] == "Fresh from the Studio"
    assert "Not Ready Yet" not in titles
    assert items[0].findtext("link").endswith(latest.url)
    assert items[0].findtext("pubDate")
    assert "interview" in [category.text for category in items[0].findall("category")]
    assert channel.findtext("link").endswith("/stories/")


def test_atom_feed_lists_the_latest_live_story_and_no_drafts(client):
    latest = StoryPageFactory(
        title="Fresh from the Studio", date=timezone.localdate() + timedelta(days=30)
    )
    StoryPageFactory(title="Not Ready Yet", live=False)

    response = client.get("/stories/feed/atom/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    entries = feed.findall("atom:entry", ATOM)
    assert entries[0].findtext("atom:title", namespaces=ATOM) == "Fresh from the Studio"
    assert entries[0].find("atom:link", ATOM).get("href").endswith(latest.url)
    assert entries[0].findtext("atom:author/atom:name", namespaces=ATOM) == latest.author
    titles = [entry.findtext("atom:title", namespaces=ATOM) for entry in entries]
    assert "Not Ready Yet" not in titles
    assert len(titles) == StoryPage.objects.live().count()


@override_settings(PUBLIC_CACHE_SECONDS=300)
def test_stories_and_feeds_are_cacheable_for_anonymous_readers(client):
    story = StoryPage.objects.get(slug="a-morning-in-the-studio")
    for url in ("/stories/", story.url, "/stories/feed/rss/", "/stories/feed/atom/"):
        assert "s-maxage=300" in client.get(url)["Cache-Control"], url


# --- Artists, editors and the demo ----------------------------------------------------------------


def test_artist_page_lists_the_stories_that_feature_the_artist(client):
    story = StoryPage.objects.get(slug="a-morning-in-the-studio")
    artist = story.related_artists.first().artist
    html = _html(client, artist.url)
    assert f'<a href="{story.url}">{story.title}</a>' in html

    story.unpublish()
    assert story.url not in _html(client, artist.url)


def test_editor_can_open_the_story_forms(client, admin_user):
    client.force_login(admin_user)
    story = StoryPage.objects.get(slug="how-to-hang-a-salon-wall")
    index = StoryIndexPage.objects.get()
    edit = client.get(f"/admin/pages/{story.pk}/edit/")
    assert edit.status_code == 200
    assert "Shop the story" in edit.content.decode()
    assert client.get(f"/admin/pages/add/stories/storypage/{index.pk}/").status_code == 200


def test_page_tree_rules():
    home = HomePage.objects.get(depth=2)
    index = StoryIndexPage.objects.get()
    assert not StoryPage.can_create_at(home)
    assert StoryPage.can_create_at(index)
    assert not StoryIndexPage.can_create_at(home)  # one index per site


def test_demo_stories_are_published_and_shop_live_works():
    index = StoryIndexPage.objects.get()
    assert index.url == "/stories/"
    assert index.show_in_menus and index.live
    stories = StoryPage.objects.filter(slug__in=DEMO_SLUGS)
    assert stories.count() == len(DEMO_SLUGS)
    for story in stories:
        assert story.live and story.has_unpublished_changes is False, story.slug
        assert story.hero_image and story.hero_image.description, story.slug
        assert story.tags.exists() and story.related_artists.exists(), story.slug
        types = {block.block_type for block in story.body}
        assert {"paragraph", "artwork_grid"} <= types, story.slug
        chosen = [
            work.pk
            for block in story.body
            if block.block_type == "artwork_grid"
            for work in block.value["artworks"]
        ]
        assert Artwork.objects.public().filter(pk__in=chosen).count() == len(set(chosen))


def test_story_page_helpers_build_a_readable_body(client):
    story = StoryPageFactory(
        body=[heading("A heading"), paragraph("<p>Body text.</p>"), quote("Look slowly.", "Ada")]
    )
    html = _html(client, story.url)
    assert '<h2 class="block-heading">A heading</h2>' in html
    assert '<div class="rich-text"><p>Body text.</p></div>' in html
    assert "<figcaption>— Ada</figcaption>" in html


def test_related_artists_in_the_editors_order_in_one_query(django_assert_num_queries):
    from artists.factories import ArtistPageFactory
    from core import lookups
    from stories.models import StoryRelatedArtist

    first, hidden, second = (ArtistPageFactory(title=f"Related {n}") for n in "ABC")
    hidden.unpublish()
    story = StoryPageFactory(related_artists=[second, hidden, first, second])

    story = StoryPage.objects.get(pk=story.pk)
    lookups.any_view_restrictions()  # (as on any page after the first: none, remembered)
    with django_assert_num_queries(1):
        assert story.live_related_artists == [second, first]

    # A preview holds them in memory, unsaved: the same rule.
    previewed = StoryPage.objects.get(pk=story.pk)
    previewed.related_artists = [StoryRelatedArtist(artist=a) for a in (first, hidden, second)]
    assert previewed.live_related_artists == [first, second]
