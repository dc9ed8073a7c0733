"""Never sell a work twice: many collectors start checkout at the same moment, each on its own
connection; the database lets exactly as many through as there are units."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from wagtail.models import Site

from artists.models import ArtistPage
from artworks.factories import ArtworkFactory
from artworks.models import Artwork, ArtworkUnit, Medium
from shop.cart import CartLine
from shop.checkout import CheckoutError, start_checkout
from shop.models import Hold, Order
from shop.offers import offer_for

BUYERS = 30


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Real commits (threads cannot see a test's open transaction); cleaned up afterwards."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("refusing to commit test data outside a test database")
    made: list = []
    with django_db_blocker.unblock():
        yield made
        for artwork in made:
            Order.objects.filter(lines__artwork=artwork).delete()
            artist = artwork.artist
            ArtworkUnit.objects.filter(artwork=artwork).delete()
            artwork.delete()
            ArtistPage.objects.filter(pk=artist.pk).delete()


@pytest.mark.django_db
def test_races_run_on_the_test_database():
    """(Being a database test, this also makes pytest-django create the test database when this
    module runs on its own: the races below commit, so they cannot ask for ``db`` themselves.)"""
    assert connection.settings_dict["NAME"].startswith("test_")


def race(artwork_pk: int, buyers: int) -> tuple[list[Order], list[str], list[BaseException]]:
    barrier = threading.Barrier(buyers)
    orders, refusals, errors = [], [], []
    lock = threading.Lock()
    site = Site.objects.get(is_default_site=True)

    def buyer(n: int) -> None:
        try:
            artwork = Artwork.objects.public().for_listing().get(pk=artwork_pk)
            offer = offer_for(artwork, fresh=True)  # as each cart saw it: on sale
            barrier.wait(timeout=30)
            order = start_checkout(
                lines=[CartLine(artwork, 1, offer)],
                email=f"buyer{n}@example.com",
                country="GB",
                user=None,
                site=site,
                absolute_url=lambda path: f"http://testserver{path}",
            )
            with lock:
                orders.append(order)
        except CheckoutError as refusal:
            with lock:
                refusals.append(str(refusal))
        except BaseException as error:  # anything else is a defect the test must show
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(buyers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return orders, refusals, errors


def test_thirty_buyers_one_unique_work_exactly_one_hold(committed_db):
    artwork = ArtworkFactory(title="The Last One", price=Decimal("900"))
    committed_db.append(artwork)
    orders, refusals, errors = race(artwork.pk, BUYERS)
    assert errors == []
    assert len(orders) == 1
    assert len(refusals) == BUYERS - 1
    assert all("on hold" in message or "just been sold" in message for message in refusals)
    unit = ArtworkUnit.objects.get(artwork=artwork)
    assert Hold.objects.get(unit=unit).order_id == orders[0].pk
    assert Order.objects.filter(lines__artwork=artwork).count() == 1


def test_thirty_buyers_edition_of_five_exactly_five_holds(committed_db):
    artwork = ArtworkFactory(
        title="Edition of Five", medium=Medium.PRINT, is_edition=True, edition_size=5,
        price=Decimal("200"),
    )  # fmt: skip
    committed_db.append(artwork)
    orders, refusals, errors = race(artwork.pk, BUYERS)
    assert errors == []
    assert len(orders) == 5
    assert len(refusals) == BUYERS - 5
    held = Hold.objects.filter(unit__artwork=artwork)
    assert held.count() == 5
    assert set(held.values_list("order", flat=True)) == {order.pk for order in orders}
    assert held.values("unit").distinct().count() == 5  # five different copies
