"""The origin's page cache: anonymous visitors get whole pages from Redis, never a stale one.

Pages are asked for as visitors ask for them (the test client through every middleware); changes
are made as the site makes them (checkout, the test-payment page, publishing) and their commit
callbacks run as a real commit would run them.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from artists.models import ArtistIndexPage, ArtistPage
from artworks.factories import ArtworkFactory
from core import page_cache, renditions
from core.models import SiteSettings
from curations.models import ArtworkCollectionPage, CollectionIndexPage
from drops.factories import DropPageFactory
from drops.models import DropIndexPage
from home.models import HomePage, StandardPage
from shop.models import Order
from stories.models import StoryIndexPage, StoryPage
from tests.support.shop import checkout_form

pytestmark = pytest.mark.django_db

HEADER = page_cache.HEADER


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    """On, as in production (the test settings leave it off for the other tests)."""
    settings.PAGE_CACHE_SECONDS = 600


@pytest.fixture(autouse=True)
def _redis_answers():
    page_cache.outage.down = False
    yield
    page_cache.outage.down = False


@pytest.fixture
def visitor():
    """An anonymous visitor with no cookies at all."""
    return Client()


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Run what a change does at its commit (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def public_urls() -> dict[str, str]:
    work = ArtworkFactory(title="Cached Heron")
    return {
        "home": "/",
        "standard": StandardPage.objects.live().first().url,
        "browse": "/artworks/",
        "artwork": f"/artworks/{work.slug}/",
        "artists": ArtistIndexPage.objects.live().first().url,
        "artist": work.artist.url,
        "collections": CollectionIndexPage.objects.live().first().url,
        "collection": ArtworkCollectionPage.objects.live().first().url,
        "stories": StoryIndexPage.objects.live().first().url,
        "story": StoryPage.objects.live().first().url,
        "drops": DropIndexPage.objects.live().first().url,
        "drop": DropPageFactory(works=[work]).url,
        "search": "/search/?query=heron",
        "sitemap": "/sitemap.xml",
        "robots": "/robots.txt",
    }


def test_every_public_page_kind_is_served_whole_from_the_cache(visitor):
    for kind, url in public_urls().items():
        first = visitor.get(url)
        assert first.status_code == 200, kind
        assert first[HEADER] == "miss", kind
        with CaptureQueriesContext(connection) as queries:
            second = visitor.get(url)
        assert second[HEADER] == "hit", kind
        assert len(queries) == 0, kind
        assert second.content == first.content, kind
        # Headers the middleware above adds are on every answer; the stored ones come back.
        assert "s-maxage=" in second["Cache-Control"] and "public" in second["Cache-Control"]
        assert "Content-Security-Policy" in second, kind
        assert second["Content-Type"] == first["Content-Type"], kind
        assert not second.cookies, kind


def test_head_is_answered_from_the_get_entry_without_a_body(visitor):
    visitor.get("/artworks/")
    head = visitor.head("/artworks/")
    assert head[HEADER] == "hit"
    assert head.content == b""
    assert int(head["Content-Length"]) == len(visitor.get("/artworks/").content)


def test_a_head_request_alone_stores_nothing(visitor):
    assert visitor.head("/artworks/")[HEADER] == "pass"
    assert visitor.get("/artworks/")[HEADER] == "miss"


def test_not_found_and_redirects_are_never_kept(visitor):
    for _ in range(2):
        response = visitor.get("/no-such-page-here/")
        assert response.status_code == 404
        assert response[HEADER] == "pass"
    # Browse sends "?medium=" (an empty parameter) to the clean address.
    assert visitor.get("/artworks/?medium=&page=2").status_code == 302
    assert visitor.get("/artworks/?medium=&page=2")[HEADER] == "pass"


def test_signed_in_visitors_and_carts_are_never_served_or_stored(client, visitor, admin_user):
    client.force_login(admin_user)
    response = client.get("/artworks/")
    assert HEADER not in response
    assert "private" in response["Cache-Control"]
    # What the signed-in visitor saw was not kept for anyone.
    assert visitor.get("/artworks/")[HEADER] == "miss"
    # And a cached page is never what a signed-in visitor gets.
    assert HEADER not in client.get("/artworks/")
    work = ArtworkFactory()
    shopper = Client()
    shopper.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
    assert HEADER not in shopper.get("/artworks/")


@pytest.mark.parametrize(
    "path", ["/shop/cart/", "/csrf/", "/healthz/", "/admin/login/", "/search/autocomplete/?q=a"]
)
def test_the_shop_admin_and_tokens_are_never_cached(visitor, path):
    assert HEADER not in visitor.get(path)
    assert HEADER not in visitor.get(path)


def test_the_query_string_is_normalised(visitor):
    visitor.get("/artworks/?medium=painting&sort=price")
    assert visitor.get("/artworks/?sort=price&medium=painting")[HEADER] == "hit"
    # Parameters no page reads are ignored: the clean page is served.
    assert visitor.get("/artworks/?sort=price&medium=painting&utm_source=x")[HEADER] == "hit"
    assert visitor.get("/artworks/?sort=price")[HEADER] == "miss"


def test_junk_in_the_address_is_never_stored_nor_served_to_others(visitor):
    junk = visitor.get("/artworks/?utm_source=spam-campaign")
    assert junk[HEADER] == "pass"
    clean = visitor.get("/artworks/")
    assert clean[HEADER] == "miss"
    assert b"spam-campaign" not in clean.content
    long_value = "x" * (page_cache.MAX_VALUE_LENGTH + 1)
    assert visitor.get(f"/search/?query={long_value}")[HEADER] == "pass"


def test_query_variants_of_one_path_are_capped(visitor, monkeypatch):
    monkeypatch.setattr(page_cache, "MAX_VARIANTS_PER_PATH", 2)
    assert visitor.get("/search/?query=one")[HEADER] == "miss"
    assert visitor.get("/search/?query=two")[HEADER] == "miss"
    assert visitor.get("/search/?query=three")[HEADER] == "pass"
    assert visitor.get("/search/?query=three")[HEADER] == "pass"
    assert visitor.get("/search/?query=one")[HEADER] == "hit"


def _shareable_page() -> HttpResponse:
    response = HttpResponse(b"<p>page</p>")
    response.shareable, response.shareable_for = True, None
    return response


def test_a_page_made_personal_below_the_view_is_not_kept(rf):
    """Judged again once every middleware has answered: a cookie, a token or an odd Vary."""
    request = rf.get("/artworks/")
    plan = page_cache.plan_for(request)
    generations = ("g", "s", "p")
    assert page_cache.store(request, _shareable_page(), plan, generations)
    with_cookie = _shareable_page()
    with_cookie.set_cookie("csrftoken", "x")
    assert not page_cache.store(request, with_cookie, plan, generations)
    varying = _shareable_page()
    varying["Vary"] = "Cookie, Accept-Language"
    assert not page_cache.store(request, varying, plan, generations)
    token_request = rf.get("/artworks/")
    token_request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    assert not page_cache.store(token_request, _shareable_page(), plan, generations)
    not_judged = HttpResponse(b"<p>page</p>")  # core.pages never said it may be shared
    assert not page_cache.store(request, not_judged, plan, generations)


def test_analytics_policy_comes_back_with_a_cached_page(visitor, commits):
    settings_row = SiteSettings.for_site(HomePage.objects.get(depth=2).get_site())
    with commits():
        settings_row.analytics_id = "G-ABC1234"
        settings_row.save()
    first = visitor.get("/")
    second = visitor.get("/")
    assert second[HEADER] == "hit"
    assert "googletagmanager" in first["Content-Security-Policy"]
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_site_settings_renew_every_page(visitor, commits):
    visitor.get("/")
    settings_row = SiteSettings.for_site(HomePage.objects.get(depth=2).get_site())
    with commits():
        settings_row.opening_hours = "Tuesday to Sunday, 11 till 6, cache-test"
        settings_row.save()
    response = visitor.get("/")
    assert response[HEADER] == "miss"


def test_with_redis_unreachable_pages_render_uncached(visitor, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        "pages": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    for _ in range(2):
        response = visitor.get("/artworks/")
        assert response.status_code == 200
        assert response[HEADER] == "pass"
    assert page_cache.outage.down
    assert "Page cache: Redis is unreachable" in caplog.text


def test_the_first_process_back_from_an_outage_renews_every_page(visitor):
    visitor.get("/artworks/")
    page_cache.outage.down = True
    page_cache.outage.retry_at = 0.0
    assert visitor.get("/artworks/")[HEADER] == "miss"
    assert not page_cache.outage.down


# --- Never stale -----------------------------------------------------------------------------


def _pages_of(work) -> list[str]:
    return [f"/artworks/{work.slug}/", "/artworks/", work.artist.url]


def _warm(visitor, urls):
    for url in urls:
        visitor.get(url)
        assert visitor.get(url)[HEADER] == "hit", url


def test_buying_the_last_unit_shows_it_sold_on_the_next_anonymous_request(client, visitor, commits):
    work = ArtworkFactory(title="Last Heron Standing", price=Decimal("1800.00"))
    work.first_published_at = timezone.now() + timedelta(days=1)  # first on browse
    work.save()
    urls = _pages_of(work)
    _warm(visitor, urls)
    for url in urls:
        assert "Last Heron Standing" in visitor.get(url).content.decode(), url

    # The real checkout flow: cart, checkout (holds the unit), the test-payment page (sells it).
    with commits():
        client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        payment_url = client.post("/shop/checkout/", checkout_form())["Location"]
    held = {url: visitor.get(url) for url in urls}
    for url, response in held.items():
        assert response[HEADER] == "miss", url
        assert "On hold" in response.content.decode(), url
    _warm(visitor, urls)
    with commits():
        assert client.post(payment_url, {"card": "4242 4242 4242 4242", "pay": "1"}).status_code
    assert Order.objects.get(email="ana@example.com").is_paid
    for url in urls:
        response = visitor.get(url)
        assert response[HEADER] == "miss", url
        html = response.content.decode()
        assert "Sold" in html and "On hold" not in html, url


def test_a_cancelled_payment_puts_it_back_on_sale_at_once(client, visitor, commits):
    work = ArtworkFactory(title="Returning Heron", price=Decimal("900.00"))
    with commits():
        client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        payment_url = client.post("/shop/checkout/", checkout_form())["Location"]
    _warm(visitor, [f"/artworks/{work.slug}/"])
    assert "On hold" in visitor.get(f"/artworks/{work.slug}/").content.decode()
    with commits():
        client.post(payment_url, {"cancel": "1"})
    html = visitor.get(f"/artworks/{work.slug}/").content.decode()
    assert "On hold" not in html and "£900.00" in html


def test_publishing_unpublishing_and_a_new_price_show_at_once(visitor, commits):
    work = ArtworkFactory(title="Republished Heron", price=Decimal("1200.00"))
    work.first_published_at = timezone.now() + timedelta(days=1)  # first on browse
    work.save()
    urls = _pages_of(work)
    _warm(visitor, urls)
    with commits():
        work.price = Decimal("1350.00")
        work.save_revision().publish()
    for url in urls:
        assert "£1,350.00" in visitor.get(url).content.decode(), url
    _warm(visitor, [*urls, "/sitemap.xml", "/search/?query=Republished"])
    with commits():
        work.unpublish()
    assert visitor.get(urls[0]).status_code == 404
    assert work.slug not in visitor.get("/sitemap.xml").content.decode()
    assert "Republished Heron" not in visitor.get("/search/?query=Republished").content.decode()
    assert "Republished Heron" not in visitor.get("/artworks/").content.decode()
    assert "Republished Heron" not in visitor.get(work.artist.url).content.decode()
    with commits():
        work.save_revision().publish()
    assert "Republished Heron" in visitor.get("/artworks/").content.decode()


def test_a_drop_opening_is_shown_to_the_second(visitor):
    work = ArtworkFactory(title="Midnight Heron", price=Decimal("2450.00"))
    start = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    drop = DropPageFactory(
        starts_at=start,
        ends_at=start + timedelta(days=1),
        works=[work],
        show_prices_before_start=False,
    )
    urls = [drop.url, f"/artworks/{work.slug}/"]
    with time_machine.travel(start - timedelta(seconds=2), tick=False):
        _warm(visitor, urls)
        assert "£2,450.00" not in visitor.get(f"/artworks/{work.slug}/").content.decode()
    with time_machine.travel(start - timedelta(seconds=1), tick=False):
        assert visitor.get(urls[1])[HEADER] == "hit"
    with time_machine.travel(start + timedelta(milliseconds=10), tick=False):
        for url in urls:
            response = visitor.get(url)
            assert response[HEADER] == "miss", url
            assert "£2,450.00" in response.content.decode(), url


def test_a_page_published_renews_every_page(visitor, commits):
    visitor.get("/artworks/")
    story = StoryPage.objects.live().first()
    with commits():
        story.title = "A renamed story for the menu"
        story.save_revision().publish()
    assert visitor.get("/artworks/")[HEADER] == "miss"


def test_a_rolled_back_change_renews_nothing(visitor):
    work = ArtworkFactory()
    _warm(visitor, [f"/artworks/{work.slug}/"])
    page_cache.invalidate_works([work.pk])  # recorded; its transaction never commits
    assert visitor.get(f"/artworks/{work.slug}/")[HEADER] == "hit"


def test_changes_in_one_transaction_renew_once(commits):
    works = [ArtworkFactory() for _ in range(3)]
    with commits() as callbacks:
        for work in works:
            page_cache.invalidate_works([work.pk])
    assert len([c for c in callbacks if isinstance(c, page_cache._WorksChanged)]) == 1


def test_artists_index_is_not_renewed_by_a_sale_elsewhere(visitor, commits):
    """Precise: a work's change renews the pages that show works, not every page."""
    work = ArtworkFactory()
    index = ArtistIndexPage.objects.live().first().url
    _warm(visitor, [index, "/"])
    with commits():
        page_cache.invalidate_works([work.pk])
    assert visitor.get(index)[HEADER] == "hit"
    assert visitor.get("/")[HEADER] == "hit"
    assert ArtistPage.objects.filter(pk=work.artist_id).exists()


def test_a_page_showing_an_original_for_a_missing_rendition_is_kept_a_minute(visitor, rf):
    work = ArtworkFactory()  # no renditions made: the page shows the original
    url = f"/artworks/{work.slug}/"
    assert visitor.get(url)[HEADER] == "miss"
    plan = page_cache.plan_for(rf.get(url, HTTP_HOST="testserver"))
    assert 0 < caches["pages"].ttl(plan.entry_key) <= renditions.FALLBACK_SECONDS
    # Shared caches keep it as any page: it is right, only heavier.


# --- Each process's copies of the entries ---------------------------------------------------------


def _entry_key(url: str) -> str:
    from django.test import RequestFactory

    return page_cache.Plan(RequestFactory().get(url)).entry_key


def test_a_hit_in_the_process_that_holds_a_copy_does_not_read_the_page_from_redis(visitor):
    assert visitor.get("/artworks/")[HEADER] == "miss"
    key = _entry_key("/artworks/")
    caches["pages"].delete(key)  # the content is gone from Redis; its token is not
    kept = visitor.get("/artworks/")
    assert kept[HEADER] == "hit"  # answered from this process's copy, under the token
    page_cache.local.clear()  # another process, without a copy: nothing to answer from
    assert visitor.get("/artworks/")[HEADER] == "miss"


def test_a_copy_is_used_only_with_the_token_redis_holds(visitor):
    """Another process stored the page again (a new token): this process's older copy is not
    answered, the entry is read from Redis."""
    first = visitor.get("/artworks/")
    assert first[HEADER] == "miss"
    key = _entry_key("/artworks/")
    stored = caches["pages"].get(key)
    elsewhere = {**stored, "content": b"<p>stored again by another process</p>", "token": "t2"}
    caches["pages"].set_many({key: elsewhere, "t" + key[1:]: "t2"}, 600)
    again = visitor.get("/artworks/")
    assert again[HEADER] == "hit"
    assert again.content == b"<p>stored again by another process</p>"


def test_a_renewed_page_is_never_answered_from_a_copy(visitor, commits):
    assert visitor.get("/artworks/")[HEADER] == "miss"
    assert visitor.get("/artworks/")[HEADER] == "hit"
    with commits():
        page_cache.invalidate_all()
    assert visitor.get("/artworks/")[HEADER] == "miss"  # the copy's generations are old


def test_copies_are_bounded_by_their_bytes():
    copies = page_cache._LocalCopies(limit=1000)
    for n in range(5):
        copies.put(f"e:{n}", {"content": b"x" * 300, "token": str(n)})
    assert copies.size <= 1000
    assert copies.get("e:0", "0") is None  # the oldest went first
    assert copies.get("e:4", "4") is not None
    assert copies.get("e:4", "other") is None
