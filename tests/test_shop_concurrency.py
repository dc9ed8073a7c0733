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
from shop.models import Order

BUYERS = 30


@pytest.fixture
def committed_db(django_db_setup, django_db_blocker):
    """Real commits (threads cannot see a test's open transaction); cleaned up afterwards."""
    made: list = []
    with django_db_blocker.unblock():
        yield made
        for artwork in made:
            ArtworkUnit.objects.filter(artwork=artwork).update(held_by=None, held_until=None)
            Order.objects.filter(lines__artwork=artwork).delete()
            artist = artwork.artist
            ArtworkUnit.objects.filter(artwork=artwork).delete()
            artwork.delete()
            ArtistPage.objects.filter(pk=artist.pk).delete()


def race(artwork_pk: int, buyers: int) -> tuple[list[Order], list[str], list[BaseException]]:
    barrier = threading.Barrier(buyers)
    orders, refusals, errors = [], [], []
    lock = threading.Lock()
    site = Site.objects.get(is_default_site=True)

    def buyer(n: int) -> None:
        try:
            artwork = Artwork.objects.public().for_listing().get(pk=artwork_pk)
            barrier.wait(timeout=30)
            order = start_checkout(
                lines=[CartLine(artwork, 1)],
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
    assert unit.held_by_id == orders[0].pk
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
    held = ArtworkUnit.objects.filter(artwork=artwork, held_by__isnull=False)
    assert held.count() == 5
    assert set(held.values_list("held_by", flat=True)) == {order.pk for order in orders}
