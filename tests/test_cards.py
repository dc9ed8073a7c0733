"""Artwork cards kept by each process under everything they show (core.fragments, shop_tags).

A card kept for an anonymous visitor must never show what is no longer true: its key changes
with every value the card shows (checked field by field), a stand-in image is never kept, and
buying the last unit shows it sold on the next render of every page listing it.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, models
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from core import fragments, renditions
from shop.models import Order
from tests.support.shop import checkout_form

pytestmark = pytest.mark.django_db

CARDS = Template("{% load shop_tags %}{% artwork_cards works %}")


def _with_renditions(work):
    renditions.make([work.main_image.pk], "card")
    return work


def _listed(pk: int) -> Artwork:
    return Artwork.objects.for_listing().get(pk=pk)


def _card(work, path: str = "/artworks/") -> tuple[str, str]:
    """The card of ``work`` rendered afresh, and the one key it was kept under."""
    fragments.local.clear()
    request = RequestFactory().get(path)
    request.user = AnonymousUser()
    html = CARDS.render(Context({"request": request, "works": [work]}))
    keys = fragments.local.keys()
    assert len(keys) == 1, "the card was not kept"
    return html, keys[0]


def _changed(value):
    """Another value of the same kind, or None when the test does not know one."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | Decimal | float):
        return value + 1
    if isinstance(value, str):
        return value + " changed"
    if hasattr(value, "tzinfo") or hasattr(value, "isoformat"):
        return value + timedelta(days=400)
    return None


def test_a_card_that_shows_a_change_is_kept_under_another_key():
    work = _with_renditions(
        ArtworkFactory(title="Keyed Heron", price=Decimal("1200.00"), year=1901)
    )
    base_html, base_key = _card(_listed(work.pk))
    shown = []
    for field in Artwork._meta.concrete_fields:
        if isinstance(field, models.ForeignKey) or field.primary_key:
            continue
        listed = _listed(work.pk)
        new = _changed(getattr(listed, field.attname))
        if new is None:
            continue
        setattr(listed, field.attname, new)
        html, key = _card(listed)
        if html != base_html:
            shown.append(field.name)
            assert key != base_key, f"the card shows {field.name} but its key ignores it"
    assert {"title", "price", "year", "date_text"} <= set(shown)  # the check saw changes

    for change in ("artist title", "alt text", "image file", "focal point", "sold"):
        listed = _listed(work.pk)
        image = listed.main_image
        if change == "artist title":
            listed.artist.title = "Another Painter"
        elif change == "alt text":
            listed.gallery_images.all()[0].alt_text = "A heron, seen from the reeds"
            listed.__dict__.pop("main_image_alt", None)
        elif change == "image file":
            image.file.name = "original_images/another.jpg"
        elif change == "focal point":
            image.focal_point_x, image.focal_point_y = 10, 10
            image.focal_point_width, image.focal_point_height = 5, 5
        else:
            listed.units_unsold, listed.availability = 0, "sold"
        html, key = _card(listed)
        assert key != base_key, change


def test_one_kept_card_serves_every_page_and_names_the_page_it_is_on():
    work = _with_renditions(ArtworkFactory(title="Travelling Heron"))
    listed = _listed(work.pk)
    on_browse, key = _card(listed, "/artworks/?page=1")
    request = RequestFactory().get(f"{work.artist.url}?available=1&page=2")
    request.user = AnonymousUser()
    again = CARDS.render(Context({"request": request, "works": [listed]}))
    assert fragments.local.keys() == [key]  # served from the kept card
    assert 'name="next" value="/artworks/?page=1"' in on_browse
    here = f"{work.artist.url}?available=1&amp;page=2"
    assert f'name="next" value="{here}"' in again
    assert again.replace(here, "/artworks/?page=1") == on_browse


def test_a_card_showing_an_original_in_place_of_a_rendition_is_not_kept(client):
    work = ArtworkFactory(title="Unrendered Heron")  # no renditions made
    html = client.get(work.artist.url).content.decode()
    assert "Unrendered Heron" in html
    assert len(fragments.local) == 0
    renditions.make([work.main_image.pk], "card")
    html = client.get(work.artist.url).content.decode()
    assert ".avif" in html
    assert len(fragments.local) == 1


def test_kept_cards_cost_no_rendition_query_and_render_the_same(client):
    artist = ArtistPageFactory(title="Kept Painter")
    for n in range(6):
        _with_renditions(ArtworkFactory(title=f"Kept Heron {n}", artist=artist))
    first = client.get(artist.url).content.decode()
    assert len(fragments.local) == 6
    with CaptureQueriesContext(connection) as queries:
        again = client.get(artist.url).content.decode()
    assert not [q for q in queries if "core_customrendition" in q["sql"]]
    assert again == first


def test_a_signed_in_visitors_cards_are_rendered_afresh(client, django_user_model):
    work = _with_renditions(ArtworkFactory(title="Private Heron"))
    client.force_login(django_user_model.objects.create_user("ana@example.com", "ana@example.com"))
    html = client.get(work.artist.url).content.decode()
    assert "Private Heron" in html and "csrfmiddlewaretoken" in html
    assert len(fragments.local) == 0


def test_buying_the_last_unit_shows_it_sold_on_every_card_at_once(
    client, django_capture_on_commit_callbacks
):
    work = _with_renditions(ArtworkFactory(title="Last Kept Heron", price=Decimal("1800.00")))
    work.first_published_at = timezone.now() + timedelta(days=1)  # first on browse
    work.save()
    visitor = Client()
    urls = ["/artworks/", work.artist.url]
    for url in urls:
        assert "£1,800.00" in visitor.get(url).content.decode(), url
    kept = len(fragments.local)
    assert kept >= 1

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        payment_url = client.post("/shop/checkout/", checkout_form())["Location"]
        client.post(payment_url, {"card": "4242 4242 4242 4242", "pay": "1"})
    assert Order.objects.get(email="ana@example.com").is_paid
    for url in urls:
        html = visitor.get(url).content.decode()
        card = next(c for c in html.split('<li class="card') if "Last Kept Heron" in c)
        assert "Sold" in card and "Available" not in card, url


def test_the_cache_holds_at_most_its_bytes_least_recently_used_out_first():
    cache = fragments.FragmentCache(max_bytes=10)
    cache.put("a", "12345")
    cache.put("b", "12345")
    assert cache.get("a") == "12345"  # a is now the most recently used
    cache.put("c", "123")
    assert cache.get("b") is None and cache.get("a") == "12345" and cache.get("c") == "123"
    assert cache.size <= 10
    cache.put("huge", "x" * 11)
    assert cache.get("huge") is None


def test_an_entry_lives_its_lifetime_at_most():
    now = [1000.0]
    cache = fragments.FragmentCache(max_bytes=100, lifetime=60, clock=lambda: now[0])
    cache.put("a", "card")
    now[0] += 59
    assert cache.get("a") == "card"
    now[0] += 2
    assert cache.get("a") is None
    assert cache.size == 0


def test_a_change_to_the_card_template_is_a_new_key_for_every_card(monkeypatch):
    listed = _listed(_with_renditions(ArtworkFactory(title="Restyled Heron")).pk)
    _html, key = _card(listed)
    source = fragments.template_source
    monkeypatch.setattr(
        fragments, "template_source", lambda *names: source(*names) + "<!-- restyled -->"
    )
    _html, restyled = _card(listed)
    assert restyled != key
