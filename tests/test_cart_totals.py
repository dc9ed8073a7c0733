"""Shipping and the total are known before payment: on the artwork page (every zone's rate, the
same for every visitor) and in the cart (for the chosen destination)."""

from decimal import Decimal

import pytest

from artworks.factories import ArtworkFactory

pytestmark = pytest.mark.django_db


def test_the_cart_shows_shipping_and_total_for_the_chosen_country(client):
    work = ArtworkFactory(title="Saltmarsh", price=Decimal("17780.00"))
    client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
    html = client.get("/shop/cart/").content.decode()
    assert "<dd>£17,780.00</dd>" in html
    assert "<dd data-cart-shipping>£25.00</dd>" in html  # the UK by default
    assert "<strong data-cart-total>£17,805.00</strong>" in html
    html = client.get("/shop/cart/?country=FR").content.decode()
    assert "<dd data-cart-shipping>£60.00</dd>" in html
    assert "<strong data-cart-total>£17,840.00</strong>" in html
    # The choice is kept for checkout, and a made-up country changes nothing.
    assert 'value="FR" selected' in client.get("/shop/checkout/").content.decode()
    html = client.get("/shop/cart/?country=%3Cscript%3E").content.decode()
    assert "<strong data-cart-total>£17,840.00</strong>" in html


def test_the_artwork_page_lists_shipping_by_zone(client):
    work = ArtworkFactory(title="Saltmarsh", price=Decimal("17780.00"))
    response = client.get(work.get_url())
    html = response.content.decode()
    assert "£17,780.00" in html
    assert "United Kingdom £25.00" in html
