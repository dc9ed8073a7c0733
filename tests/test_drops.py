"""Drops: the sale window is enforced on every purchase path, to the second, by the server;
per-collector limits hold across carts and browsers; the first seconds are admitted at random."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from wagtail.models import Site

from artworks.factories import ArtworkFactory
from artworks.models import Medium
from drops.models import DropArtwork, DropIndexPage, DropPage
from home.models import HomePage
from shop.cart import Cart, CartError, CartLine
from shop.checkout import CheckoutError, start_checkout
from shop.models import Hold, Order
from shop.offers import offer_for
from tests.support.shop import checkout_form

pytestmark = pytest.mark.django_db

START = datetime(2027, 3, 1, 18, 0, 0, tzinfo=UTC)
END = START + timedelta(hours=48)


def make_drop(*artworks, limit=1, window=0, starts_at=START, ends_at=END) -> DropPage:
    index = DropIndexPage.objects.first()
    if index is None:
        index = DropIndexPage(title="Drops", slug="drops-test")
        HomePage.objects.get(depth=2).add_child(instance=index)
    drop = DropPage(
        title="Spring Release",
        slug=f"spring-release-{DropPage.objects.count()}",
        starts_at=starts_at,
        ends_at=ends_at,
        per_collector_limit=limit,
        entry_window_seconds=window,
    )
    for artwork in artworks:
        drop.drop_artworks.add(DropArtwork(artwork=artwork))
    index.add_child(instance=drop)
    drop.save_revision().publish()
    return drop


@pytest.fixture
def work():
    return ArtworkFactory(title="Release Print", price=Decimal("300"))


def try_every_path(client, artwork) -> dict[str, str]:
    """Each way to buy: add to cart, check out an old cart, start checkout directly, the page."""
    results = {}
    response = client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1}, follow=True)
    results["cart"] = "ok" if "is in your cart" in response.content.decode() else "refused"

    session = client.session  # an old cart that already holds the work
    session["cart"] = {str(artwork.pk): 1}
    session.save()
    before = Order.objects.count()
    response = client.post("/shop/checkout/", checkout_form("ana@example.com"))
    results["checkout"] = "ok" if Order.objects.count() > before else "refused"
    release(artwork)

    # A line that claims to be buyable (no problems): checkout must decide for itself.
    line = CartLine(Cart._artwork(artwork.pk), 1, offer_for(artwork, fresh=True))
    try:
        start_checkout(
            lines=[line], email="ben@example.com", country="GB", user=None,
            site=Site.objects.get(is_default_site=True),
            absolute_url=lambda path: f"http://testserver{path}",
        )  # fmt: skip
        results["service"] = "ok"
    except CheckoutError:
        results["service"] = "refused"
    release(artwork)

    html = client.get(f"/artworks/{artwork.slug}/").content.decode()
    results["page"] = "ok" if 'action="/shop/cart/add/"' in html else "refused"
    client.session.flush()
    return results


def release(artwork) -> None:
    """Free what the last path held, so each path meets the work as it was."""
    Hold.objects.filter(unit__artwork=artwork).delete()
    Order.objects.all().delete()


def test_sale_window_is_enforced_on_every_path_to_the_second(client, work):
    make_drop(work)
    with time_machine.travel(START - timedelta(seconds=1), tick=False):
        assert try_every_path(client, work) == dict.fromkeys(
            ["cart", "checkout", "service", "page"], "refused"
        )
        message = client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1}, follow=True)
        assert "Coming soon: on sale from" in message.content.decode()
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        assert try_every_path(client, work) == dict.fromkeys(
            ["cart", "checkout", "service", "page"], "ok"
        )
    with time_machine.travel(END + timedelta(seconds=1), tick=False):
        assert try_every_path(client, work) == dict.fromkeys(
            ["cart", "checkout", "service", "page"], "refused"
        )
        message = client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1}, follow=True)
        assert "has ended" in message.content.decode()


def test_a_draft_drop_still_guards_its_works(client, work):
    drop = make_drop(work)
    drop.unpublish()
    before_start = time_machine.travel(START - timedelta(minutes=5), tick=False)
    with before_start, pytest.raises(CartError, match="Coming soon"):
        Cart(_request(client)).add(work.pk)


def _request(client):
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = client.session
    return request


def test_drop_pages_are_not_cached_past_the_opening(client, work, settings):
    settings.PUBLIC_CACHE_SECONDS = 300
    drop = make_drop(work)
    with time_machine.travel(START - timedelta(seconds=30), tick=False):
        for url in (drop.url, f"/artworks/{work.slug}/"):
            cache_control = client.get(url)["Cache-Control"]
            assert "s-maxage=30" in cache_control, (url, cache_control)


def test_per_collector_limit_across_two_carts_and_two_browsers(client, django_user_model):
    edition = ArtworkFactory(
        title="Limited Edition", medium=Medium.PRINT, is_edition=True, edition_size=10,
        max_per_order=5, price=Decimal("150"),
    )  # fmt: skip
    make_drop(edition, limit=1)
    collector = django_user_model.objects.create_user("ana", "ana@example.com", "pw-123456789")
    laptop, phone = client, client.__class__()
    laptop.force_login(collector)
    phone.force_login(collector)
    with time_machine.travel(START + timedelta(minutes=1), tick=True):
        # Three in one cart: the cart refuses more than the limit.
        response = laptop.post(
            "/shop/cart/add/", {"artwork": edition.pk, "quantity": 3}, follow=True
        )
        assert "at most 1" in response.content.decode()
        laptop.post("/shop/cart/add/", {"artwork": edition.pk, "quantity": 1})
        phone.post("/shop/cart/add/", {"artwork": edition.pk, "quantity": 1})
        assert laptop.post("/shop/checkout/", checkout_form("ana@example.com")).status_code == 302
        response = phone.post("/shop/checkout/", checkout_form("ana@example.com"), follow=True)
        assert "at most 1" in response.content.decode()
        # A guest session with the same email is the same collector.
        guest = client.__class__()
        guest.post("/shop/cart/add/", {"artwork": edition.pk, "quantity": 1})
        response = guest.post("/shop/checkout/", checkout_form("ANA@example.com"), follow=True)
        assert "at most 1" in response.content.decode()
    assert Hold.objects.filter(unit__artwork=edition).count() == 1
    assert Order.objects.filter(lines__artwork=edition).count() == 1


def test_first_seconds_are_admitted_in_random_order(work):
    """Arrivals in the entry window get random tickets after it; later arrivals queue behind."""
    from django.contrib.sessions.backends.cache import SessionStore
    from django.test import RequestFactory

    from drops.entry import admission_time

    window = 10
    make_drop(work, window=window)
    arrivals, tickets = [], []
    for n in range(40):
        arrival = START + timedelta(seconds=n * window / 40)
        request = RequestFactory().post("/shop/checkout/")
        request.session = SessionStore()
        with time_machine.travel(arrival, tick=False):
            ticket = admission_time(request, [work.pk])
            assert admission_time(request, [work.pk]) == ticket  # no re-draw in one session
        arrivals.append(arrival)
        tickets.append(ticket)
    assert all(
        START + timedelta(seconds=window) <= t < START + timedelta(seconds=2 * window)
        for t in tickets
    )
    order_by_ticket = sorted(range(40), key=lambda i: tickets[i])
    assert order_by_ticket != list(range(40))  # not first-come-first-served
    # Spearman's rank correlation between arrival and admission is near zero (|rho| < 0.5 with
    # overwhelming probability for 40 independent uniform draws; a FIFO queue would give 1).
    ranks = {i: rank for rank, i in enumerate(order_by_ticket)}
    d2 = sum((i - ranks[i]) ** 2 for i in range(40))
    rho = 1 - 6 * d2 / (40 * (40**2 - 1))
    assert abs(rho) < 0.5

    late = RequestFactory().post("/shop/checkout/")
    late.session = SessionStore()
    with time_machine.travel(START + timedelta(seconds=window + 1), tick=False):
        assert admission_time(late, [work.pk]) == START + timedelta(seconds=2 * window)
    after = RequestFactory().post("/shop/checkout/")
    after.session = SessionStore()
    with time_machine.travel(START + timedelta(seconds=2 * window + 1), tick=False):
        assert admission_time(after, [work.pk]) is None


def test_checkout_in_the_entry_window_shows_the_waiting_room_then_proceeds(client, work):
    make_drop(work, window=10)
    with time_machine.travel(START + timedelta(seconds=2), tick=False):
        client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        response = client.post("/shop/checkout/", checkout_form("ana@example.com"))
        assert response.status_code == 200
        html = response.content.decode()
        assert "You are in the queue" in html
        # It continues by itself through a static script (the CSP refuses inline ones).
        assert "js/waiting-room.js" in html and "<script>" not in html
        assert not Order.objects.exists()
    with time_machine.travel(START + timedelta(seconds=21), tick=False):
        response = client.post("/shop/checkout/", checkout_form("ana@example.com"))
        assert response.status_code == 302
        assert Order.objects.count() == 1


def test_the_queue_ticket_is_drawn_when_the_work_is_added_to_the_cart(client, work):
    from drops.entry import SESSION_KEY

    drop = make_drop(work, window=10)
    with time_machine.travel(START + timedelta(seconds=3), tick=False):
        client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
    ticket = client.session[SESSION_KEY][str(drop.pk)]
    assert START.timestamp() + 10 <= ticket < START.timestamp() + 20
    # Reaching checkout after the window does not change the place drawn at the cart.
    with time_machine.travel(START + timedelta(seconds=10.5), tick=False):
        response = client.post("/shop/checkout/", checkout_form("ana@example.com"))
    assert client.session[SESSION_KEY][str(drop.pk)] == ticket
    if ticket > START.timestamp() + 10.5:
        assert "You are in the queue" in response.content.decode()


def test_prices_hidden_before_the_opening_show_to_the_second(client, work):
    drop = make_drop(work)
    drop.show_prices_before_start = False
    drop.save_revision().publish()
    with time_machine.travel(START - timedelta(seconds=1), tick=False):
        for url in (f"/artworks/{work.slug}/", drop.url, f"/artworks/?artist={work.artist.slug}"):
            html = client.get(url).content.decode()
            assert "Price at release" in html and "£300" not in html, url
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        for url in (f"/artworks/{work.slug}/", drop.url, f"/artworks/?artist={work.artist.slug}"):
            html = client.get(url).content.decode()
            assert "£300" in html and "Price at release" not in html, url


@pytest.mark.parametrize("proxy", ["hops", "cloudfront"])
def test_a_forged_x_forwarded_for_cannot_move_a_collector_in_the_entry_window(
    client, work, settings, proxy
):
    """The queue place belongs to the session; the address the site sees is the proxies' word."""
    from drops.entry import SESSION_KEY

    real, proxy_address = "198.51.100.7", "10.0.0.1"
    if proxy == "hops":
        settings.TRUSTED_PROXY_HOPS = 1
        genuine = {"HTTP_X_FORWARDED_FOR": real}
    else:
        settings.TRUSTED_PROXY_HEADER = "cloudfront"
        genuine = {"HTTP_CLOUDFRONT_VIEWER_ADDRESS": f"{real}:40123"}

    def via_proxy(forged: str) -> dict:
        # What the client wrote, then what the trusted proxy appended / set.
        return {
            "REMOTE_ADDR": proxy_address,
            **genuine,
            "HTTP_X_FORWARDED_FOR": f"{forged}, {genuine.get('HTTP_X_FORWARDED_FOR', forged)}",
        }

    drop = make_drop(work, window=10)
    with time_machine.travel(START + timedelta(seconds=9), tick=False):
        added = client.post(
            "/shop/cart/add/", {"artwork": work.pk, "quantity": 1}, **via_proxy("127.0.0.1")
        )
        assert added.wsgi_request.client_address == real
        ticket = client.session[SESSION_KEY][str(drop.pk)]
        for forged in ("203.0.113.1", "10.0.0.1", "::1", "not-an-address"):
            client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1}, **via_proxy(forged))
            response = client.post(
                "/shop/checkout/", checkout_form("ana@example.com"), **via_proxy(forged)
            )
            assert response.wsgi_request.client_address == real
            assert "You are in the queue" in response.content.decode()
            assert client.session[SESSION_KEY][str(drop.pk)] == ticket
    assert not Order.objects.exists()
