"""Read-replica routing (core.db_routing): which requests read where, pinning, and an outage.

The ``replica`` alias here is a second connection to the test database (tests.support.replica),
so every query can be counted per alias; tests/test_read_replica_streaming.py does the same
against a real PostgreSQL streaming replica, with its lag.
"""

import json
import logging
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, connections, router, transaction
from django.test import Client, RequestFactory

from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from core.db_routing import REPLICA, on_primary, reads_from_replica_allowed, replica_reads
from shop.models import Order, PaymentStatus
from shop.payments import completed_session_event, get_gateway, sign_payload
from tests.support.processes import closed_port
from tests.support.replica import (
    committed_data,
    only_site_settings_lookups,
    queries_on,
    replica_alias,
)
from tests.support.shop import ADDRESS, checkout_form

USERNAME = "replica-reader"


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Real commits (a replica never sees a test's open transaction); removed afterwards."""
    with committed_data(django_db_blocker, USERNAME) as made:
        yield made


@pytest.fixture
def replica(committed):
    with replica_alias():
        yield committed


@pytest.mark.django_db
def test_the_test_database_exists():
    """(Makes pytest-django create the test database when this module runs on its own: the
    tests below commit, so they cannot ask for ``db`` themselves.)"""
    assert connection.settings_dict["NAME"].startswith("test_")


class Queries:
    """The SQL run on the primary and on the replica inside the block."""

    def __enter__(self):
        self._block = queries_on("default", REPLICA)
        seen = self._block.__enter__()
        self.primary, self.replica = seen["default"], seen[REPLICA]
        return self

    def __exit__(self, *exc):
        return self._block.__exit__(*exc)


def some_public_artwork() -> Artwork:
    return Artwork.objects.public().order_by("pk").first()


def test_without_a_replica_url_there_is_no_replica_and_no_router():
    if settings.DATABASE_REPLICA_URL:
        pytest.skip("DATABASE_REPLICA_URL is set for this run")
    assert REPLICA not in connections.settings
    assert settings.DATABASE_ROUTERS == []
    assert router.db_for_read(Artwork) == "default"


@pytest.mark.parametrize(
    ("method", "path", "cookies", "replica"),
    [
        ("get", "/", {}, True),
        ("head", "/artworks/", {}, True),
        ("get", "/artworks/some-work/", {"csrftoken": "x"}, True),
        ("get", "/search/?q=sea", {}, True),
        ("get", "/artworks/some-work/", {"sessionid": "abc"}, False),  # signed in, or a cart
        ("post", "/search/", {}, False),
        ("get", "/admin/", {}, False),
        ("get", "/admin/login/", {}, False),
        ("get", "/shop/cart/", {}, False),
        ("get", "/shop/checkout/", {}, False),
        ("get", "/shop/orders/", {}, False),
        ("post", "/shop/webhooks/stripe/", {}, False),
        ("get", "/drop-alerts/1/check-your-inbox/", {}, False),
        ("get", "/accounts/login/", {}, False),
        ("get", "/healthz/", {}, False),
        ("get", "/readyz/", {}, False),
    ],
)
def test_which_requests_may_read_the_replica(method, path, cookies, replica):
    request = getattr(RequestFactory(), method)(path)
    request.COOKIES.update(cookies)
    assert reads_from_replica_allowed(request) is replica


def test_an_api_token_reads_the_primary():
    request = RequestFactory().get("/artworks/", HTTP_AUTHORIZATION="Token abc")
    assert not reads_from_replica_allowed(request)


def test_a_write_pins_the_rest_of_the_context_to_the_primary(replica):
    assert router.db_for_read(Artwork) == "default"  # outside a request: the primary
    with replica_reads():
        work = some_public_artwork()
        assert work._state.db == REPLICA
        # Routed for writing but only read (it exists): no pin.
        with queries_on("default") as seen:
            Artwork.objects.get_or_create(pk=work.pk, defaults={"title": "never"})
        assert len(seen["default"]) == 1
        assert router.db_for_read(Artwork) == REPLICA
        with queries_on("default") as seen:
            work.save(update_fields=["title"])  # read from the replica, written to the primary
        assert any(sql.startswith('UPDATE "artworks_artwork"') for sql in seen["default"])
        assert router.db_for_read(Artwork) == "default"
        assert Artwork.objects.filter(pk=work.pk).db == "default"
    with replica_reads():
        with transaction.atomic():  # a transaction on the primary reads its own writes
            assert Artwork.objects.all().db == "default"
        assert router.db_for_read(Artwork) == "default"
    with replica_reads():
        with on_primary():  # (the outbox, cache fills): the primary, and a write in it …
            assert router.db_for_read(Artwork) == "default"
            work.save(update_fields=["title"])
        assert router.db_for_read(Artwork) == "default"  # … pins the request all the same


def test_celery_tasks_read_the_primary(replica):
    from core.tasks import relay_outbox

    with replica_reads():
        assert router.db_for_read(Artwork) == REPLICA
        relay_outbox.apply()  # a task run eagerly inside an anonymous page
        assert router.db_for_read(Artwork) == "default"


def test_anonymous_public_pages_read_only_the_replica(replica):
    work = some_public_artwork()
    visitor = Client()
    paths = ["/", "/artworks/", f"/artworks/{work.slug}/", "/search/?query=harbour"]
    for path in paths:
        assert visitor.get(path).status_code == 200  # (first renders may write renditions)
    for path in paths:
        with Queries() as queries:
            response = visitor.get(path)
        assert response.status_code == 200, path
        assert not response.cookies.get(settings.SESSION_COOKIE_NAME)
        assert len(queries.replica) > 0, path
        assert only_site_settings_lookups(queries.primary), (path, queries.primary)


def test_signed_in_and_admin_requests_read_the_primary(replica):
    work = some_public_artwork()
    user = get_user_model().objects.create_superuser(USERNAME, "reader@example.com", "x" * 20)
    signed_in = Client()
    signed_in.force_login(user)
    for path in (f"/artworks/{work.slug}/", "/", "/admin/", "/admin/snippets/artworks/artwork/"):
        with Queries() as queries:
            assert signed_in.get(path).status_code == 200, path
        assert len(queries.replica) == 0, path
        assert len(queries.primary) > 0, path
    with Queries() as queries:
        assert Client().get("/admin/login/").status_code == 200
    assert len(queries.replica) == 0


def test_cart_checkout_and_the_webhook_never_touch_the_replica(replica):
    work = ArtworkFactory(title="Primary Harbour", price=Decimal("900.00"))
    replica.append(work)
    collector = Client()
    with Queries() as queries:
        added = collector.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        assert added.status_code == 302
        assert collector.get("/shop/cart/").status_code == 200
        started = collector.post("/shop/checkout/", checkout_form("harbour@example.com"))
        assert started.status_code == 302, started.content.decode()[:500]
        order = Order.objects.get(lines__artwork=work)
        event = completed_session_event(order, order.payment_session_id, ADDRESS, "Mara Quinn")
        payload = json.dumps(event).encode()
        webhook = Client().post(
            "/shop/webhooks/stripe/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, get_gateway().webhook_secret),
        )
        assert webhook.status_code == 200, webhook.content
    assert len(queries.replica) == 0
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID


def test_an_unreachable_replica_falls_back_to_the_primary(committed, caplog):
    work = some_public_artwork()
    with replica_alias(HOST="127.0.0.1", PORT=str(closed_port())):
        visitor = Client()
        with caplog.at_level(logging.WARNING, logger="core.db_routing"):
            for path in ("/", f"/artworks/{work.slug}/", "/artworks/"):
                with queries_on("default", REPLICA) as seen:
                    response = visitor.get(path)
                assert response.status_code == 200, path
                assert len(seen["default"]) > 0 and seen[REPLICA] == [], path
            assert work.title in visitor.get(f"/artworks/{work.slug}/").content.decode()
        warnings = [r for r in caplog.records if r.name == "core.db_routing"]
        # Logged once; the replica is then left alone for a while instead of tried every read.
        assert len(warnings) == 1
        assert "Read replica unreachable" in warnings[0].getMessage()


def test_what_a_shared_cache_keeps_for_every_page_is_read_from_the_primary(replica):
    """Holds and drop windows cached for all pages are never filled from a lagging replica."""
    from django.core.cache import cache

    from drops.sale import sale_windows
    from shop.inventory import active_holds

    cache.clear()
    with replica_reads(), Queries() as queries:
        active_holds()
        sale_windows()
        some_public_artwork()  # while other reads of the page still go to the replica
    assert len(queries.primary) == 2
    assert len(queries.replica) == 1
