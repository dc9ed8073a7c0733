"""One offer per work: what every page, feed and JSON answer says about price and availability.

A work in a drop that hides prices until it opens must not leak its price anywhere before the
opening second; at that second the same URLs show the price and InStock; once sold, SoldOut.
Everything goes through the site's own views (HTML, JSON-LD, search, autocomplete, feeds, sitemap,
cart), on PostgreSQL, with the clock moved by time-machine.
"""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import ArtworkUnit
from drops.factories import DropPageFactory
from shop.models import Hold, Order
from shop.offers import OfferState, offer_for, offers_for
from stories.factories import StoryPageFactory, artwork_block

pytestmark = pytest.mark.django_db

OPENS = datetime(2027, 6, 1, 17, 0, 0, tzinfo=UTC)
BEFORE = OPENS - timedelta(seconds=1)
PRICE = Decimal("7913.37")
# Every way the price could be written: Babel's, plain, minor units, schema.org's.
PRICE_FORMS = ("7,913", "7913", "791337")


@pytest.fixture
def veiled(published):
    """A work in a drop that hides its price until it opens, told in a story."""
    artist = published(ArtistPageFactory, title="Quorven Haldite")
    work = published(ArtworkFactory, title="Plenthor Vesper", artist=artist, price=PRICE)
    drop = published(
        DropPageFactory,
        title="Ostrava Lumen",
        starts_at=OPENS,
        works=[work],
        show_prices_before_start=False,
    )
    story = published(StoryPageFactory, title="Inside Plenthor", body=[artwork_block(work)])
    return {"work": work, "drop": drop, "story": story}


def urls_for(veiled) -> dict[str, str]:
    work = veiled["work"]
    return {
        "artwork page": work.get_url(),
        "browse": "/artworks/",
        "artist page": work.artist.url,
        "drop page": veiled["drop"].url,
        "story": veiled["story"].url,
        "search": reverse("search") + "?query=Plenthor",
        "autocomplete": reverse("search_autocomplete") + "?q=Plenth",
        "rss": "/stories/feed/rss/",
        "atom": "/stories/feed/atom/",
        "sitemap": "/sitemap.xml",
    }


def _get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def _json_ld_offer(html: str) -> dict | None:
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S):
        data = json.loads(block)
        if data.get("@type") == "VisualArtwork":
            return data.get("offers")
    raise AssertionError("no VisualArtwork JSON-LD on the page")


def test_no_response_carries_a_hidden_price_before_the_drop_opens(client, veiled):
    with time_machine.travel(BEFORE, tick=False):
        pages = {name: _get(client, url) for name, url in urls_for(veiled).items()}
        session = client.session
        session["cart"] = {str(veiled["work"].pk): 1}  # put in the cart before the drop existed
        session.save()
        pages["cart"] = _get(client, reverse("shop:cart"))
    assert "Plenthor Vesper" in pages["artwork page"]
    assert "Plenthor" in pages["search"] and "Plenthor" in pages["autocomplete"]
    for name, body in pages.items():
        for form in PRICE_FORMS:
            assert form not in body, f"{name} shows the hidden price ({form})"
    assert _json_ld_offer(pages["artwork page"]) is None  # no Offer at all while hidden


def test_upcoming_works_say_when_they_go_on_sale_never_available(client, veiled):
    with time_machine.travel(BEFORE, tick=False):
        artwork_page = _get(client, veiled["work"].get_url())
        browse = _get(client, f"/artworks/?artist={veiled['work'].artist.slug}")
        session = client.session
        session["cart"] = {str(veiled["work"].pk): 1}
        session.save()
        cart = _get(client, reverse("shop:cart"))
    opening = "On sale 1 June 2027, 18:00 BST"
    sections = {
        "artwork page": artwork_page.split('class="artwork__details"', 1)[1].split("<dl", 1)[0],
        "browse card": browse.split(">Plenthor Vesper</a>", 1)[1].split("</li>", 1)[0],
        "cart line": cart.split(">Plenthor Vesper</a>", 1)[1].split("</li>", 1)[0],
    }
    for name, section in sections.items():
        assert opening in section, name
        assert "Available" not in section, name
    assert "Price at release" in artwork_page
    assert 'action="/shop/cart/add/"' not in artwork_page  # nothing to buy yet
    assert "Coming soon: on sale from 1 June 2027" in cart


def test_at_the_opening_second_the_same_urls_show_the_price_and_in_stock(client, veiled):
    with time_machine.travel(OPENS, tick=False):
        pages = {name: _get(client, url) for name, url in urls_for(veiled).items()}
    assert "£7,913.37" in pages["artwork page"]
    assert "£7,913.37" in pages["search"]
    assert "£7,913.37" in pages["story"]
    offer = _json_ld_offer(pages["artwork page"])
    assert offer["availability"] == "https://schema.org/InStock"
    assert offer["price"] == "7913.37" and offer["priceCurrency"] == "GBP"
    assert 'action="/shop/cart/add/"' in pages["artwork page"]


def test_once_the_last_unit_sells_the_offer_is_sold_out(client, veiled):
    ArtworkUnit.objects.filter(artwork=veiled["work"]).update(sold_at=OPENS)
    with time_machine.travel(OPENS + timedelta(minutes=5), tick=False):
        html = _get(client, veiled["work"].get_url())
    offer = _json_ld_offer(html)
    assert offer["availability"] == "https://schema.org/SoldOut"
    assert ">Sold<" in html
    assert 'action="/shop/cart/add/"' not in html


def test_a_page_showing_an_upcoming_work_is_cached_no_longer_than_the_opening(client, veiled):
    with time_machine.travel(OPENS - timedelta(seconds=40), tick=False):
        response = client.get(veiled["work"].get_url())
    cache_control = response["Cache-Control"]
    assert "s-maxage=40" in cache_control, cache_control


def test_a_work_held_in_a_checkout_is_on_hold_until_the_hold_lapses(client):
    work = ArtworkFactory(title="Brimvale Kestrel")
    order = Order.objects.create(email="a@example.com", currency="GBP", shipping_zone="uk")
    until = timezone.now() + timedelta(minutes=15)
    Hold.objects.create(unit=work.units.get(), order=order, held_until=until)
    offer = offer_for(work)
    assert offer.state == OfferState.ON_HOLD and not offer.can_buy
    assert offer.valid_until == until
    html = _get(client, work.get_url())
    assert ">On hold<" in html
    assert _json_ld_offer(html)["availability"] == "https://schema.org/Reserved"
    assert offer_for(work, now=until + timedelta(seconds=1)).state == OfferState.AVAILABLE


def test_editions_say_how_many_are_left():
    work = ArtworkFactory(is_edition=True, edition_size=15, max_per_order=2)
    ArtworkUnit.objects.filter(artwork=work, number__lte=12).update(sold_at=timezone.now())
    offer = offer_for(work)
    assert offer.left_text == "3 of 15 left"
    assert offer.buyable == 2  # the per-order limit, not the three left


def test_offers_for_a_page_of_works_cost_a_fixed_number_of_queries(django_assert_num_queries):
    from django.test import RequestFactory

    from artworks.models import Artwork

    for _ in range(6):
        ArtworkFactory()
    works = list(Artwork.objects.for_listing()[:30])
    assert len(works) >= 6
    # Cold caches: one query for the unexpired holds, one for the drop windows.
    with django_assert_num_queries(2):
        offers = offers_for(works, request=RequestFactory().get("/"))
    assert len(offers) == len(works)
    # Warm: none, for another request and the same page.
    with django_assert_num_queries(0):
        offers_for(works, request=RequestFactory().get("/"))
    # The cart and checkout read fresh: two queries for any number of works.
    with django_assert_num_queries(2):
        offers_for(works, fresh=True)


def test_a_new_hold_shows_on_the_next_page_view(client):
    from tests.support.shop import checkout

    work = ArtworkFactory(title="Brimvale Heron")
    assert ">Available<" in _get(client, work.get_url())  # the holds list is now cached
    checkout(work, "ana@example.com")
    assert ">On hold<" in _get(client, work.get_url())
