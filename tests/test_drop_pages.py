"""Drops as visitors see them: the drop page in each state, the embed block with its countdown,
drops on the home and artist pages (within their query budgets), and the demo's two drops."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from django.utils.html import escape

from artists.demo import practice_of
from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork, ArtworkUnit
from core.demo_loader import DemoStep, run_step
from drops import demo
from drops.blocks import UpcomingDropBlock
from drops.factories import DropPageFactory
from drops.models import DropPage, DropStatus
from home.models import HomePage

pytestmark = pytest.mark.django_db

START = datetime(2027, 5, 4, 17, 0, 0, tzinfo=UTC)
END = START + timedelta(days=3)
ISO_START = timezone.localtime(START).isoformat()  # as the `c` date format writes it
HOME_QUERY_BUDGET = 8  # tests/test_foundation_pages.py: the home page's steady state


@pytest.fixture
def work():
    return ArtworkFactory(title="Vardexa Nocturne", price=Decimal("2450"))


@pytest.fixture
def drop(work):
    return DropPageFactory(
        title="Zorquet Release", starts_at=START, ends_at=END, works=[work],
        show_prices_before_start=False,
    )  # fmt: skip


def _html(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


# --- The drop page -------------------------------------------------------------------------------


def test_upcoming_drop_page_counts_down_hides_prices_and_offers_a_reminder(client, drop, work):
    with time_machine.travel(START - timedelta(hours=3), tick=False):
        html = _html(client, drop.url)
        work_page = _html(client, f"/artworks/{work.slug}/")
    # The work's own page carries the shop's badge, in the site's time.
    assert "On sale 4 May 2027, 18:00 BST" in work_page and "2,450" not in work_page
    assert "Coming soon" in html
    assert f'data-countdown="{ISO_START}"' in html
    assert f'<time datetime="{ISO_START}" data-local-time>' in html
    assert "Vardexa Nocturne" in html
    assert "Price at release" in html
    assert "2,450" not in html  # show_prices_before_start is off
    assert f'action="/drop-alerts/{drop.pk}/subscribe/"' in html
    assert "csrfmiddlewaretoken" not in html  # the shared, cached page carries no token


def test_prices_show_before_the_start_when_the_curator_allows(client, drop):
    drop.show_prices_before_start = True
    drop.save_revision().publish()
    with time_machine.travel(START - timedelta(hours=3), tick=False):
        html = _html(client, drop.url)
    assert "£2,450.00" in html
    assert "Price at release" not in html


def test_live_drop_page_shows_prices_and_no_countdown(client, drop):
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        html = _html(client, drop.url)
    assert "Live now" in html
    assert "On sale now" in html
    assert "£2,450.00" in html
    assert "data-countdown" not in html
    assert "/drop-alerts/" not in html  # nothing left to remind anyone of


def test_ended_drop_page_says_so(client, drop):
    with time_machine.travel(END + timedelta(seconds=1), tick=False):
        html = _html(client, drop.url)
    assert "This drop has ended." in html
    assert "data-countdown" not in html


def test_signed_in_collector_gets_a_one_click_reminder_button(client, drop, django_user_model):
    user = django_user_model.objects.create_user("ilse", "ilse@example.com", "pw-123456789")
    client.force_login(user)
    with time_machine.travel(START - timedelta(hours=3), tick=True):
        html = _html(client, drop.url)
        assert "Remind me at ilse@example.com" in html
        assert f'action="/drop-alerts/{drop.pk}/subscribe/me/"' in html
        client.post(f"/drop-alerts/{drop.pk}/subscribe/me/")
        html = _html(client, drop.url)
    assert "We will email <strong>ilse@example.com</strong>" in html


# --- The embed block -------------------------------------------------------------------------


def _home_with_embed(drop: DropPage, heading: str = "The next drop") -> HomePage:
    home = HomePage.objects.get(depth=2)
    home.body = [("upcoming_drop", {"drop": drop, "heading": heading})]
    home.save_revision().publish()
    return home


def test_embed_block_shows_the_drop_with_its_countdown(client, drop):
    _home_with_embed(drop, heading="Zorquet countdown")
    with time_machine.travel(START - timedelta(days=2), tick=False):
        html = _html(client, "/")
    assert "Zorquet countdown" in html
    assert escape("Zorquet Release") in html
    assert f'data-countdown="{ISO_START}"' in html
    assert f'href="{drop.url}#notify"' in html
    assert "Zorquet Release: new works, released at once." in html  # the curator's text
    # Embedded drops are not listed a second time in the home page's drops strip.
    assert html.count(f'href="{drop.url}"') == 2  # the title and "See the works"


def test_embed_block_switches_to_live_and_disappears_once_ended(client, drop):
    _home_with_embed(drop, heading="")
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        html = _html(client, "/")
        assert "On sale now" in html
        assert "Live now" in html
        assert f'data-countdown="{ISO_START}"' not in html
    with time_machine.travel(END + timedelta(minutes=1), tick=False):
        html = _html(client, "/")
    assert escape("Zorquet Release") not in html


def test_embed_block_renders_on_its_own_and_has_a_preview(drop):
    block = UpcomingDropBlock()
    value = block.to_python({"drop": drop.pk, "heading": "Soon"})
    with time_machine.travel(START - timedelta(minutes=5), tick=False):
        html = block.render(value)
        assert "Soon" in html and "data-countdown" in html
        assert block.get_preview_value()["drop"] is not None
    assert block.meta.icon and block.meta.description


def test_home_page_with_embed_and_drops_stays_within_the_query_budget(
    client, drop, django_assert_max_num_queries
):
    DropPageFactory(title="Plenthor Live", starts_at=timezone.now() - timedelta(hours=1))
    home = HomePage.objects.get(depth=2)
    home.body.insert(0, ("upcoming_drop", {"drop": drop, "heading": "Next"}))
    home.save_revision().publish()
    client.get("/")
    with django_assert_max_num_queries(HOME_QUERY_BUDGET):
        html = client.get("/").content.decode()
    assert "Plenthor Live" in html  # the strip of live and upcoming drops
    assert escape("Zorquet Release") in html  # the embed


# --- Artist pages ----------------------------------------------------------------------------


def test_artist_page_lists_live_and_upcoming_drops_with_their_work(
    client, django_assert_max_num_queries
):
    artist = ArtistPageFactory(title="Ilse Vardexa")
    work = ArtworkFactory(artist=artist, title="Drop Work")
    now = timezone.now()
    DropPageFactory(title="Coming Drop", starts_at=now + timedelta(days=2), works=[work])
    DropPageFactory(title="Open Drop", starts_at=now - timedelta(hours=2), works=[work])
    DropPageFactory(
        title="Closed Drop", starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=2),
        works=[work],
    )  # fmt: skip
    DropPageFactory(title="Other Artist Drop", works=[ArtworkFactory()])
    client.get(artist.url)
    with django_assert_max_num_queries(8):
        html = client.get(artist.url).content.decode()
    assert "Coming Drop" in html and "Open Drop" in html
    assert html.index("Open Drop") < html.index("Coming Drop")  # live first
    assert "Closed Drop" not in html
    assert "Other Artist Drop" not in html


def test_artist_page_without_drops_shows_no_drops_section(client):
    artist = ArtistPageFactory(title="Nobody Drops")
    ArtworkFactory(artist=artist)
    assert "drops-heading" not in _html(client, artist.url)


# --- The demo -------------------------------------------------------------------------------


def _run_demo_steps() -> None:
    for func in demo.STEPS:
        run_step(DemoStep("drops", func))


def test_demo_has_a_live_drop_one_opening_in_minutes_and_one_in_a_day_even_run_again_later(client):
    pages_before = DropPage.objects.count()
    # A newcomer runs `make run` again two days later: both upcoming drops have opened meanwhile.
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        _run_demo_steps()
        now = timezone.now()
        live = DropPage.objects.get(slug=demo.LIVE.slug)
        soon = DropPage.objects.get(slug=demo.SOON.slug)
        upcoming = DropPage.objects.get(slug=demo.UPCOMING.slug)
        assert live.status_at(now) == DropStatus.LIVE
        assert soon.status_at(now) == DropStatus.UPCOMING
        assert upcoming.status_at(now) == DropStatus.UPCOMING
        # Opens while the newcomer looks around: after the server is up, before they give up.
        assert timedelta(minutes=2) < soon.starts_at - now <= timedelta(minutes=5)
        assert timedelta(hours=23) < upcoming.starts_at - now <= timedelta(days=1)
        for drop in (live, soon, upcoming):
            assert drop.live and drop.hero_image and drop.curator_text
            assert drop.get_parent().slug == "drops" and drop.get_parent().show_in_menus
            works = Artwork.objects.public().filter(drop_entries__page=drop)
            assert 6 <= works.count() <= 10
            assert not ArtworkUnit.objects.filter(artwork__in=works, sold_at__isnull=False)
            assert _html(client, drop.url)
        assert all(work.is_edition for work in Artwork.objects.filter(drop_entries__page=live))
        home = HomePage.objects.get(depth=2)
        embeds = [block for block in home.body if block.block_type == "upcoming_drop"]
        assert [block.value["drop"].pk for block in embeds] == [upcoming.pk]
        html = _html(client, "/")
        assert escape(upcoming.title) in html and escape(live.title) in html
    # Four minutes later the drop opening soon is live: the newcomer sees it open.
    with time_machine.travel(soon.starts_at + timedelta(seconds=1), tick=False):
        assert DropPage.objects.get(pk=soon.pk).status_at(timezone.now()) == DropStatus.LIVE
    # Running it again at once changes nothing.
    revisions = {
        spec.slug: DropPage.objects.get(slug=spec.slug).latest_revision_id for spec in demo.SPECS
    }
    _run_demo_steps()
    assert DropPage.objects.count() == pages_before
    assert {
        spec.slug: DropPage.objects.get(slug=spec.slug).latest_revision_id for spec in demo.SPECS
    } == revisions


def test_each_demo_drop_sells_works_by_artists_who_make_its_medium(db):
    for spec in demo.SPECS:
        works = Artwork.objects.filter(drop_entries__page__slug=spec.slug).select_related("artist")
        assert works and all(work.medium == spec.medium for work in works)
        for work in works:
            practice = practice_of(work.artist)
            assert practice is not None and spec.medium in practice.media, (spec.slug, work)


def test_editors_can_add_the_drop_block_to_the_home_page(admin_client):
    home = HomePage.objects.get(depth=2)
    response = admin_client.get(f"/admin/pages/{home.pk}/edit/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "upcoming_drop" in html
    assert "An upcoming or live drop with its release time and a live countdown." in html
    assert "Night Studio" in html  # the demo's embed, read through the drops cache
