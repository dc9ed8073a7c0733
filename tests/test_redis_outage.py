"""With Redis stopped, the site keeps selling: pages answer, nobody is signed out, checkout and the
payment webhook work, and only /readyz/ says something is wrong.

End to end, as production runs it: the site is a separate server process (``serve``) whose cache,
sessions (``cached_db``), rate-limit counters and Celery broker all sit on a redis-server of the
test's own on a free port (never the shared one). A collector signs in, browses and fills a cart
while that Redis is up; then the test stops it and carries on against the same server.
"""

import json
from contextlib import ExitStack
from decimal import Decimal

import pytest
import redis
import requests
from django.contrib.auth import get_user_model
from django.db import connection
from wagtail.images import get_image_model

from artworks.factories import ArtworkFactory
from core import outbox
from core.models import OutboxMessage
from shop.models import Order, PaymentStatus
from shop.payments import completed_session_event, get_gateway, sign_payload
from tests.support.processes import free_port, serve
from tests.support.shop import ADDRESS, checkout, checkout_form, remove_artworks
from tests.support.worker import worker_env
from tests.test_outbox import own_redis

pytestmark = pytest.mark.slow

USERNAME, PASSWORD = "outage-collector", "a-long-test-password-for-the-outage"
# Celery tasks every paid order queues through the outbox.
ORDER_TASKS = [
    "shop.tasks.create_shipment",
    "shop.tasks.notify_team_of_order",
    "shop.tasks.send_order_confirmation",
]


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Real commits the server process can read; what the test made is removed afterwards."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("refusing to commit test data outside a test database")
    made: list = []
    outbox._broker_down_until = 0.0
    with django_db_blocker.unblock():
        OutboxMessage.objects.all().delete()
        get_user_model().objects.filter(username=USERNAME).delete()
        yield made
        images = [image.image_id for work in made for image in work.gallery_images.all()]
        remove_artworks(made)
        get_user_model().objects.filter(username=USERNAME).delete()
        get_image_model().objects.filter(pk__in=images).delete()
        OutboxMessage.objects.all().delete()  # (the deletions above queue file clean-ups too)


@pytest.mark.django_db
def test_the_test_database_exists():
    """(Makes pytest-django create the test database when this module runs on its own.)"""
    assert connection.settings_dict["NAME"].startswith("test_")


def post(session: requests.Session, url: str, data: dict) -> requests.Response:
    """A form POST as a browser sends it: the CSRF token from the cookie, no redirects followed."""
    token = session.cookies["csrftoken"]
    return session.post(
        url,
        {"csrfmiddlewaretoken": token, **data},
        headers={"Referer": url},
        allow_redirects=False,
        timeout=30,
    )


def test_with_redis_stopped_the_site_sells_and_nobody_is_signed_out(committed, tmp_path):
    work = ArtworkFactory(title="Outage Tide", price=Decimal("1500.00"), images=1)
    other = ArtworkFactory(title="Outage Lantern", price=Decimal("700.00"), images=0)
    committed += [work, other]
    user = get_user_model().objects.create_superuser(USERNAME, "collector@example.com", PASSWORD)

    port = free_port()
    with ExitStack() as redis_up:
        redis_url = redis_up.enter_context(own_redis(port))
        env = worker_env(tmp_path)
        # Cache, sessions, rate limits and the broker all on the test's own Redis; Celery tasks
        # go through the broker (the outbox), not in-process.
        env.update(
            REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, CELERY_TASK_ALWAYS_EAGER="false"
        )
        with serve(env) as base:
            browser = requests.Session()
            # Signed in through the Wagtail admin's login form.
            assert browser.get(f"{base}/admin/login/", timeout=30).status_code == 200
            signed_in = post(
                browser, f"{base}/admin/login/", {"username": USERNAME, "password": PASSWORD}
            )
            assert signed_in.status_code == 302, signed_in.text[:500]
            assert browser.get(f"{base}/admin/", timeout=30).status_code == 200
            # Browsing and filling the cart while Redis is up.
            for path in ("/", "/artworks/", work.get_url()):
                assert browser.get(base + path, timeout=30).status_code == 200, path
            added = post(browser, f"{base}/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
            assert added.status_code == 302
            # The session really was cached in this Redis (cached_db), and the server reads it.
            assert redis.Redis(port=port).keys("*session*")

            redis_up.close()  # Redis stops under the running server.
            with pytest.raises(redis.ConnectionError):
                redis.Redis(port=port, socket_connect_timeout=1).ping()

            for path in ("/", "/artworks/", work.get_url(), "/shop/cart/"):
                page = browser.get(base + path, timeout=30, allow_redirects=False)
                assert page.status_code == 200, (path, page.status_code)
            cart = browser.get(f"{base}/shop/cart/", timeout=30)
            assert "Outage Tide" in cart.text  # the cart survived
            admin = browser.get(f"{base}/admin/", timeout=30, allow_redirects=False)
            assert admin.status_code == 200, admin.headers.get("Location")  # still signed in

            # Checkout, then the local test-payment page with the test card.
            started = post(browser, f"{base}/shop/checkout/", checkout_form(user.email))
            assert started.status_code == 302, started.text[:500]
            payment_page = started.headers["Location"]
            assert "/shop/test-payment/" in payment_page
            payment_url = requests.compat.urljoin(base, payment_page)
            assert browser.get(payment_url, timeout=30).status_code == 200
            paid = post(browser, payment_url, {"card": "4242 4242 4242 4242", "pay": "1"})
            assert paid.status_code == 302, paid.text[:500]
            order = Order.objects.get(lines__artwork=work)
            assert order.payment_status == PaymentStatus.PAID
            assert order.user_id == user.pk

            # A payment confirmed by Stripe's signed webhook (the local gateway's secret).
            pending = checkout(other, "lantern@example.com")
            event = completed_session_event(
                pending, pending.payment_session_id, ADDRESS, "Mara Quinn"
            )
            payload = json.dumps(event).encode()
            webhook = requests.post(
                f"{base}/shop/webhooks/stripe/",
                data=payload,
                headers={
                    "Content-Type": "application/json",
                    "Stripe-Signature": sign_payload(payload, get_gateway().webhook_secret),
                },
                timeout=30,
            )
            assert webhook.status_code == 200, webhook.text
            pending.refresh_from_db()
            assert pending.payment_status == PaymentStatus.PAID

            # What follows a payment waits in the outbox for the broker; nothing is lost.
            for paid_order in (order, pending):
                waiting = OutboxMessage.objects.filter(
                    args=[paid_order.pk], relayed_at__isnull=True
                )
                assert sorted(waiting.values_list("task", flat=True)) == ORDER_TASKS

            ready = requests.get(f"{base}/readyz/", timeout=30)
            assert ready.status_code == 503
