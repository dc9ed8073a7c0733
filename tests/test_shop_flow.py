"""The shop as a collector uses it: cart, checkout, the local test payment, order pages."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from artworks.factories import ArtworkFactory
from artworks.models import Availability, Medium
from shop.cart import SESSION_KEY
from shop.models import FulfilmentStatus, Hold, Order, PaymentStatus
from shop.offers import OfferState, offer_for
from tests.support.shop import CHECKOUT_ADDRESSES, checkout_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def painting():
    return ArtworkFactory(title="Estuary at Dusk", price=Decimal("1800.00"))


@pytest.fixture
def edition():
    return ArtworkFactory(
        title="Harbour Print", medium=Medium.PRINT, is_edition=True, edition_size=5,
        max_per_order=2, price=Decimal("250.00"),
    )  # fmt: skip


def statuses(order) -> tuple[str, str]:
    order.refresh_from_db()
    return order.payment_status, order.fulfilment_status


PENDING = (PaymentStatus.UNPAID, FulfilmentStatus.UNFULFILLED)


def add(client, artwork, quantity=1, **extra):
    return client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": quantity, **extra})


def cart_items(client) -> dict:
    return client.session.get(SESSION_KEY, {})


def test_guest_adds_updates_and_removes(client, painting, edition):
    assert add(client, painting).status_code == 302
    assert add(client, edition, 2).status_code == 302
    page = client.get("/shop/cart/")
    html = page.content.decode()
    assert "Estuary at Dusk" in html and "Harbour Print" in html
    assert "£1,800" in html
    client.post("/shop/cart/update/", {"artwork": edition.pk, "quantity": 1})
    assert cart_items(client)[str(edition.pk)] == 1
    client.post("/shop/cart/remove/", {"artwork": painting.pk, "quantity": 0})
    assert str(painting.pk) not in cart_items(client)
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]


def test_limits_unique_works_and_editions(client, painting, edition):
    add(client, painting)
    response = add(client, painting)
    assert "is a unique work" in client.get(response["Location"]).content.decode()
    add(client, edition, 2)
    response = add(client, edition, 1)
    assert "at most 2" in client.get(response["Location"]).content.decode()
    assert cart_items(client) == {str(painting.pk): 1, str(edition.pk): 2}


@pytest.mark.parametrize(
    "kind",
    ["sold", "draft", "not-for-sale", "on-request", "artist-draft"],
)
def test_unbuyable_works_never_enter_the_cart(client, kind):
    artwork = ArtworkFactory()
    if kind == "sold":
        artwork.units.update(sold_at=timezone.now())
    elif kind == "draft":
        artwork.live = False
        artwork.save()
    elif kind == "not-for-sale":
        artwork.for_sale = False
        artwork.save()
    elif kind == "on-request":
        artwork.price_on_request = True
        artwork.save()
    else:
        artwork.artist.unpublish()
    response = add(client, artwork)
    assert response.status_code == 302
    assert cart_items(client) == {}


def test_bad_cart_input_is_a_400_with_a_message(client):
    response = client.post("/shop/cart/add/", {"artwork": "abc", "quantity": "lots"})
    assert response.status_code == 400
    assert "could not be changed" in response.content.decode()
    assert client.get("/shop/cart/add/").status_code == 405


def test_cart_survives_signing_in(client, painting, django_user_model):
    add(client, painting)
    user = django_user_model.objects.create_user("collector", "c@example.com", "pw-123456789")
    client.force_login(user)
    assert cart_items(client) == {str(painting.pk): 1}


def test_a_work_sold_meanwhile_is_flagged_in_the_cart(client, painting):
    add(client, painting)
    painting.units.update(sold_at=timezone.now())
    html = client.get("/shop/cart/").content.decode()
    assert "Sold since you added it" in html
    assert 'href="/shop/checkout/"' not in html


def _checkout(client, email="ana@example.com", country="GB", **extra):
    """The checkout form, complete: email, destination, and its delivery address and phone."""
    return client.post("/shop/checkout/", checkout_form(email, country, **extra))


def test_full_embedded_flow(client, painting, django_capture_on_commit_callbacks):
    add(client, painting)
    response = _checkout(client)
    assert response.status_code == 302
    payment_url = response["Location"]
    assert payment_url.startswith("/shop/test-payment/cs_local_")
    order = Order.objects.get(email="ana@example.com")
    assert statuses(order) == PENDING and order.is_pending_payment
    assert order.total == Decimal("1825.00")  # £25 domestic shipping from the shop settings
    # The address given at checkout, normalised for the destination, is the order's.
    assert (order.shipping_name, order.shipping_line1, order.shipping_postal_code) == (
        "Ana Ruiz", "1 Quay Street", "BS1 4DJ",
    )  # fmt: skip
    assert order.shipping_phone == "+441174960123"
    page = client.get(payment_url).content.decode()
    assert "TEST MODE" in page
    assert 'name="card"' in page and 'name="line1"' not in page  # only the card is asked for
    assert Hold.objects.get(unit=order.lines.get().unit).order_id == order.pk

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(payment_url, {"card": "4242 4242 4242 4242", "pay": "1"})
    assert response.status_code == 302
    city = order.shipping_city
    assert statuses(order) == (PaymentStatus.PAID, FulfilmentStatus.UNFULFILLED)
    assert order.is_paid
    assert not Hold.objects.filter(order=order).exists()
    assert order.shipping_city == city and order.shipping_line1 == "1 Quay Street"
    confirmation = client.get(response["Location"])
    assert confirmation.status_code == 200
    assert "your order is confirmed" in confirmation.content.decode()
    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == [f"New order {order.number}", f"Your ArtSpot order {order.number}"]
    assert offer_for(painting, fresh=True).state == OfferState.SOLD
    stock = type(painting).objects.with_availability().get(pk=painting.pk)
    assert stock.availability == Availability.SOLD
    assert "Sold" in client.get(f"/artworks/{painting.slug}/").content.decode()
    assert cart_items(client) == {}


def test_declined_test_card_keeps_the_order_pending(client, painting):
    add(client, painting)
    payment_url = _checkout(client)["Location"]
    response = client.post(payment_url, {"card": "4000 0000 0000 0002"})
    assert response.status_code == 400
    assert "declined" in response.content.decode()
    assert statuses(Order.objects.get()) == PENDING


def test_cancelling_the_test_payment_releases_the_hold(client, painting):
    add(client, painting)
    payment_url = _checkout(client)["Location"]
    client.post(payment_url, {"cancel": "1"})
    order = Order.objects.get()
    assert statuses(order) == (PaymentStatus.UNPAID, FulfilmentStatus.CANCELLED)
    assert not Hold.objects.filter(unit__artwork=painting).exists()
    assert cart_items(client) == {str(painting.pk): 1}  # the cart is intact


def test_posted_prices_are_ignored(client, painting):
    add(client, painting, price="1.00", unit_price="1.00", currency="USD")
    _checkout(client, total="1.00", price="1.00", shipping="0")
    order = Order.objects.get()
    assert order.lines.get().unit_price == Decimal("1800.00")
    assert order.currency == "GBP"
    assert order.total == Decimal("1825.00")


def test_a_tampered_session_cannot_buy_a_draft_or_sold_work(client, painting):
    draft = ArtworkFactory(live=False)
    sold = ArtworkFactory()
    sold.units.update(sold_at=timezone.now())
    session = client.session
    session[SESSION_KEY] = {str(draft.pk): 1, str(sold.pk): 1}
    session.save()
    response = _checkout(client)
    assert response.status_code == 302
    assert not Order.objects.exists()


def test_shipping_is_priced_by_destination_zone(client, painting):
    add(client, painting)
    _checkout(client, country="FR")
    order = Order.objects.get()
    assert (order.shipping_zone, order.shipping) == ("eu", Decimal("60.00"))


def test_bad_checkout_input_is_a_400_with_errors(client, painting):
    add(client, painting)
    response = client.post(
        "/shop/checkout/", {**CHECKOUT_ADDRESSES["GB"], "email": "nope", "country": "XX"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert html.count('class="form-error"') == 2
    assert "Enter a valid email address." in html
    assert "XX is not one of the available choices." in html
    assert not Order.objects.exists()


def test_guests_see_only_their_own_order_through_its_signed_link(client, painting):
    add(client, painting)
    _checkout(client)
    order = Order.objects.get()
    other = Order.objects.create(
        email="b@example.com", currency="GBP", shipping_zone="domestic", shipping_country="GB"
    )
    url = f"/shop/orders/{order.number}/"
    assert client.get(url).status_code == 404
    assert client.get(url, {"token": other.access_token()}).status_code == 404
    assert client.get(url, {"token": "forged"}).status_code == 404
    assert client.get(url, {"token": order.access_token()}).status_code == 200
    assert (
        client.get(f"/shop/orders/{other.number}/", {"token": order.access_token()}).status_code
        == 404
    )
    assert client.get("/shop/orders/AS-0000-ZZZZZZ/").status_code == 404


def test_signed_in_collectors_see_their_orders(client, django_user_model, painting):
    ana = django_user_model.objects.create_user("ana", "ana@example.com", "pw-123456789")
    ben = django_user_model.objects.create_user("ben", "ben@example.com", "pw-123456789")
    client.force_login(ana)
    add(client, painting)
    _checkout(client)
    order = Order.objects.get()
    assert order.user == ana
    assert client.get(order.get_absolute_url()).status_code == 200
    client.force_login(ben)
    assert client.get(order.get_absolute_url()).status_code == 404
    assert order.number not in client.get("/shop/orders/").content.decode()


def test_order_numbers_are_readable_and_unguessable(painting):
    numbers = {
        Order.objects.create(
            email="x@example.com", currency="GBP", shipping_zone="domestic", shipping_country="GB"
        ).number
        for _ in range(20)
    }
    assert len(numbers) == 20
    assert all(re.fullmatch(r"AS-\d{4}-[A-HJ-NP-Z2-9]{6}", n) for n in numbers)


def test_artwork_page_offers_add_to_cart_for_purchasable_works(client, painting):
    html = client.get(f"/artworks/{painting.slug}/").content.decode()
    assert 'action="/shop/cart/add/"' in html
    on_request = ArtworkFactory(price=None, price_on_request=True)
    html = client.get(f"/artworks/{on_request.slug}/").content.decode()
    assert 'action="/shop/cart/add/"' not in html
