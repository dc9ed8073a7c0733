"""The site for a host and "no view restriction exists", kept in Redis (core.lookups): no query
on a public page, and every change seen at once."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, PageViewRestriction, Site

from core import lookups
from stories.models import StoryIndexPage, StoryPage

pytestmark = pytest.mark.django_db

UNREACHABLE = {
    "BACKEND": "django_redis.cache.RedisCache",
    "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
}


@pytest.fixture(autouse=True)
def _redis_answers():
    lookups.outage.down = False
    yield
    lookups.outage.down = False


@pytest.fixture
def story() -> StoryPage:
    return StoryPage.objects.live().public().order_by("path").first()


def _sql(client, url: str, **extra) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def test_a_warm_page_asks_the_database_for_neither(client, story):
    client.get(story.url)
    queries = _sql(client, story.url)
    assert not [sql for sql in queries if '"wagtailcore_site"' in sql.split("WHERE")[0]]
    assert not [sql for sql in queries if "wagtailcore_pageviewrestriction" in sql]


def _restrict(page: Page) -> PageViewRestriction:
    return PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="a-secret"
    )


def test_a_new_view_restriction_takes_effect_at_once(client, story):
    index = StoryIndexPage.objects.live().first()
    assert story.title in client.get(index.url).text  # "no restriction" is now cached
    assert client.get(story.url).status_code == 200

    restriction = _restrict(story)  # no commit callbacks run: dropped before the save

    response = client.get(story.url)
    assert 'name="password"' in response.text
    assert story.title not in client.get(index.url).text
    restriction.delete()
    assert 'name="password"' not in client.get(story.url).text


def test_a_removed_restriction_is_learnt_at_the_commit(
    client, story, django_capture_on_commit_callbacks
):
    restriction = _restrict(story)
    assert 'name="password"' in client.get(story.url).text
    with django_capture_on_commit_callbacks(execute=True):
        restriction.delete()
    assert 'name="password"' not in client.get(story.url).text
    assert story.title in client.get(StoryIndexPage.objects.live().first().url).text


def test_a_reader_racing_the_commit_cannot_write_back_none(
    story, django_capture_on_commit_callbacks
):
    # A request found nothing cached and read "no restriction" from the database; meanwhile an
    # editor's restriction commits; then the request writes what it read.
    caches["lookups"].delete(lookups.RESTRICTIONS_KEY)
    with django_capture_on_commit_callbacks(execute=True):
        _restrict(story)
    lookups._remember(lookups.RESTRICTIONS_KEY, None, False)
    assert lookups.any_view_restrictions() is True


def test_without_redis_a_restriction_cannot_be_saved_unseen(client, story, settings, caplog):
    client.get(story.url)  # "none" cached while Redis answered
    settings.CACHES = {**settings.CACHES, "lookups": UNREACHABLE}
    with pytest.raises(RuntimeError, match="not saved"):
        _restrict(story)
    assert not PageViewRestriction.objects.exists()
    assert "Lookups: Redis is unreachable" in caplog.text


def test_without_redis_pages_read_the_database(client, story, settings):
    settings.CACHES = {**settings.CACHES, "lookups": UNREACHABLE}
    for _ in range(2):
        queries = _sql(client, story.url)
    assert lookups.outage.down
    assert [sql for sql in queries if "wagtailcore_pageviewrestriction" in sql]
    assert [sql for sql in queries if "wagtailcore_site" in sql]


def test_the_first_process_back_from_an_outage_drops_every_entry(client, story):
    client.get(story.url)
    caches["lookups"].set(lookups.RESTRICTIONS_KEY, False)
    _restrict(story)
    caches["lookups"].set(lookups.RESTRICTIONS_KEY, False)  # as if its drop had been lost
    lookups.outage.down, lookups.outage.retry_at = True, 0.0

    assert 'name="password"' in client.get(story.url).text
    assert not lookups.outage.down


def test_a_new_site_is_found_at_once(client, django_capture_on_commit_callbacks):
    story_index = StoryIndexPage.objects.live().first()
    home = client.get("/", HTTP_HOST="stories.example")  # the default site, remembered
    assert home.status_code == 200 and "<title>" in home.text

    with django_capture_on_commit_callbacks(execute=True):
        Site.objects.create(hostname="stories.example", port=80, root_page=story_index)

    response = client.get("/", HTTP_HOST="stories.example")
    assert response.status_code == 200
    assert story_index.title in response.text
    assert response.text != home.text


def test_junk_hosts_cannot_grow_the_entry(rf):
    for n in range(lookups.MAX_HOSTS + 10):
        assert lookups.site_for_request(rf.get("/", HTTP_HOST=f"junk{n}.example")) is not None
    assert len(caches["lookups"].get(lookups.SITES_KEY)) == lookups.MAX_HOSTS


def test_site_settings_cost_no_query_and_a_change_shows_at_once(client, story):
    from core.models import SiteSettings

    client.get(story.url)
    queries = _sql(client, story.url)
    assert not [sql for sql in queries if "core_sitesettings" in sql]

    settings_row = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings_row.footer_text = "<p>Open late on Thursdays, brimvale hours.</p>"
    settings_row.save()  # no commit callbacks run: dropped at once

    assert "brimvale hours" in client.get(story.url).text


# --- Routing to a child of a one-type index ----------------------------------------------------


def test_a_story_is_routed_to_in_one_query_per_level(client, story):
    index = story.get_parent().specific
    request = client.get("/").wsgi_request
    with CaptureQueriesContext(connection) as captured:
        found = index.route(request, [story.slug])
    assert found.page == story and type(found.page) is StoryPage
    assert len(captured) == 1
    assert found.page.get_parent() == index  # no query: the parent travels with it


def test_an_index_route_wins_over_a_child_and_a_miss_is_a_404(client, story):
    from stories.factories import StoryPageFactory

    index = story.get_parent().specific
    StoryPageFactory(parent=index, title="Feed", slug="feed")
    assert client.get(f"{index.url}feed/rss/")["Content-Type"].startswith("application/rss")
    assert client.get(f"{index.url}no-such-story/").status_code == 404


def test_a_child_of_another_type_is_still_found(client, story):
    """Page-type rules are the admin's; a page added in code under an index still routes."""
    from home.models import StandardPage

    index = story.get_parent().specific
    index.add_child(instance=StandardPage(title="Odd one out", slug="odd-one-out"))
    response = client.get(f"{index.url}odd-one-out/")
    assert response.status_code == 200 and "Odd one out" in response.text


def test_the_privacy_dialog_says_so_when_a_restriction_cannot_be_recorded(
    admin_client, story, settings
):
    """Redis unreachable: the editor's dialog shows why nothing was saved, not a server error;
    once Redis answers, the same choice saves and the page is private at once."""
    url = f"/admin/pages/{story.pk}/privacy/"
    chosen = {"restriction_type": "password", "password": "s3cret-preview"}
    public = settings.CACHES["lookups"]
    settings.CACHES = {**settings.CACHES, "lookups": UNREACHABLE}
    refused = admin_client.post(url, chosen)
    assert refused.status_code == 200
    assert "privacy setting was not saved" in refused.json()["html"]
    assert refused.json()["step"] == "set_privacy"  # the dialog stays open, the choice kept
    assert not PageViewRestriction.objects.exists()

    settings.CACHES = {**settings.CACHES, "lookups": public}
    lookups.outage.down = False
    saved = admin_client.post(url, chosen)
    assert saved.json()["step"] == "set_privacy_done"
    assert PageViewRestriction.objects.filter(page=story).exists()
