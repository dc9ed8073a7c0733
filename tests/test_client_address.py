"""The client's real address behind CloudFront and a load balancer, and rate limits that follow
it: per collector (not per proxy), unmoved by a forged header, never refusing Stripe's signed
webhook, and failing open (with a per-process counter) when Redis is unreachable."""

import itertools
import json
import zlib
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from artworks.factories import ArtworkFactory
from artworks.models import ArtworkInquiry, Medium
from core import ratelimit_cache
from core.client_address import ClientAddressMiddleware, client_address
from drops.factories import DropPageFactory
from drops.models import DropSubscription
from shop.models import Order, PaymentStatus
from shop.payments import completed_session_event, sign_payload
from tests.support.processes import free_port
from tests.support.shop import ADDRESS, checkout_form
from tests.test_outbox import own_redis

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # the load balancer every request arrives from
WEBHOOK_URL = "/shop/webhooks/stripe/"


def address_of(**meta) -> str:
    """The address the site's middleware works out for a request with these headers."""
    request = RequestFactory().get("/", **{"REMOTE_ADDR": PROXY, **meta})
    ClientAddressMiddleware(lambda r: None)(request)
    return request.client_address


# --- Reading the address ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("198.51.100.10:46532", "198.51.100.10"),
        ("2001:db8:85a3::8a2e:370:7334:46532", "2001:db8:85a3::8a2e:370:7334"),  # as sent
        ("0000:0000:0000:0000:0000:0000:0000:0001:52325", "::1"),  # CloudFront's long form
        ("[2001:db8::1]:443", "2001:db8::1"),  # bracketed is accepted too
        ("::ffff:192.0.2.1:8080", "192.0.2.1"),  # IPv4-mapped reads as IPv4
        (" 203.0.113.9:1 ", "203.0.113.9"),
    ],
)
def test_cloudfront_viewer_address_is_read_with_its_port(settings, value, expected):
    settings.TRUSTED_PROXY_HEADER = "cloudfront"
    assert address_of(HTTP_CLOUDFRONT_VIEWER_ADDRESS=value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "198.51.100.10",  # no port
        "198.51.100.10:",  # empty port
        "198.51.100.10:99999",  # no such port
        "198.51.100.10:８０",  # not ASCII digits
        "evil.example:443",
        "2001:db8::1",  # IPv6 without its port
        "[2001:db8::1]",
        "fe80::1%eth0:443",  # a zone means nothing off the proxy's own link
        "198.51.100.10:80, 198.51.100.11:80",
        "999.1.1.1:80",
        "198.51.100.10:" + "9" * 5000,  # too long even to read as a number
        "\x00:80",
    ],
)
def test_a_garbage_viewer_address_falls_back_to_the_connection(settings, value):
    settings.TRUSTED_PROXY_HEADER = "cloudfront"
    assert address_of(HTTP_CLOUDFRONT_VIEWER_ADDRESS=value) == PROXY


def test_headers_are_ignored_unless_a_proxy_is_trusted(settings):
    assert (settings.TRUSTED_PROXY_HEADER, settings.TRUSTED_PROXY_HOPS) == ("", 0)  # defaults
    assert (
        address_of(
            HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:1", HTTP_X_FORWARDED_FOR="198.51.100.11"
        )
        == PROXY
    )
    settings.TRUSTED_PROXY_HOPS = 1
    # Trusting the load balancer's X-Forwarded-For does not mean trusting CloudFront's header.
    assert address_of(HTTP_CLOUDFRONT_VIEWER_ADDRESS="198.51.100.10:1") == PROXY


@pytest.mark.parametrize(
    "hops, forwarded_for, expected",
    [
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "198.51.100.66, 203.0.113.5", "203.0.113.5"),  # the client wrote the left part
        (1, "1.1.1.1,2.2.2.2 , 203.0.113.5", "203.0.113.5"),
        (2, "198.51.100.66, 203.0.113.5, 10.1.2.3", "203.0.113.5"),  # CDN, then load balancer
        (2, "203.0.113.5", PROXY),  # fewer entries than trusted proxies: not from them
        (1, "", PROXY),
        (1, "unknown", PROXY),
        (1, "203.0.113.5, not-an-address", PROXY),  # the trusted entry is garbage
        (1, "2001:DB8::0001", "2001:db8::1"),  # one client, one spelling
    ],
)
def test_x_forwarded_for_is_read_from_the_right(settings, hops, forwarded_for, expected):
    settings.TRUSTED_PROXY_HOPS = hops
    assert address_of(HTTP_X_FORWARDED_FOR=forwarded_for) == expected


def test_cloudfront_first_then_the_trusted_hops(settings):
    settings.TRUSTED_PROXY_HEADER = "cloudfront"
    settings.TRUSTED_PROXY_HOPS = 1
    both = {"HTTP_CLOUDFRONT_VIEWER_ADDRESS": "198.51.100.10:1", "HTTP_X_FORWARDED_FOR": "9.9.9.9"}
    assert address_of(**both) == "198.51.100.10"
    assert address_of(HTTP_X_FORWARDED_FOR="9.9.9.9") == "9.9.9.9"


def test_outside_the_middleware_the_address_is_worked_out_on_demand(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_address(request) == "203.0.113.5"


# --- Rate limits per collector ---------------------------------------------------------------


@pytest.fixture
def limits_on(settings):
    settings.RATELIMIT_ENABLE = True
    # One fixed moment: the limiter counts per clock minute, and a test must not straddle two.
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        yield settings


@pytest.fixture
def work():
    """An edition of 10, so several collectors can each hold a print."""
    return ArtworkFactory(
        price=Decimal("100"), is_edition=True, edition_size=10, medium=Medium.PRINT
    )


_emails = itertools.count()


def checkout_attempts(work, count: int, **meta) -> list[int]:
    """`count` checkout starts, each from a fresh session and email (invalid form: answered 400)."""
    statuses = []
    for _ in range(count):
        visitor = Client(**meta)
        visitor.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        email = f"v{next(_emails)}@example.com"
        answer = visitor.post("/shop/checkout/", {"email": email, "country": "XX"})
        statuses.append(answer.status_code)
    return statuses


def buys(work, email: str, **meta) -> bool:
    """A real checkout start: True when it leads to the payment page."""
    visitor = Client(**meta)
    visitor.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
    answer = visitor.post("/shop/checkout/", checkout_form(email))
    return answer.status_code == 302 and "/shop/test-payment/" in answer["Location"]


def test_two_collectors_behind_one_proxy_are_limited_separately(limits_on, work):
    limits_on.TRUSTED_PROXY_HOPS = 1
    first = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    second = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    statuses = checkout_attempts(work, 21, **first)
    assert statuses == [400] * 20 + [429]
    assert buys(work, "second@example.com", **second)


def test_without_a_trusted_proxy_everyone_behind_it_shares_one_bucket(limits_on, work):
    # What went wrong before: the proxy's address stood for every collector.
    first = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    second = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert checkout_attempts(work, 20, **first) == [400] * 20
    assert not buys(work, "second@example.com", **second)


def test_a_forged_x_forwarded_for_stays_in_its_own_bucket(limits_on, work):
    limits_on.TRUSTED_PROXY_HOPS = 1
    statuses = []
    for n in range(22):  # a bot that invents a new "client" on the left each time
        statuses += checkout_attempts(
            work, 1, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"198.51.100.{n + 1}, 203.0.113.5"
        )
    assert statuses == [400] * 20 + [429, 429]
    # A collector whose own header says 203.0.113.5 on the left is somebody else.
    assert buys(
        work,
        "honest@example.com",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="203.0.113.5, 203.0.113.77",
    )


def test_viewer_addresses_from_cloudfront_are_limited_separately(limits_on, work):
    limits_on.TRUSTED_PROXY_HEADER = "cloudfront"
    statuses = checkout_attempts(
        work, 21, REMOTE_ADDR=PROXY, HTTP_CLOUDFRONT_VIEWER_ADDRESS="2001:db8:1::5:50000"
    )
    assert statuses == [400] * 20 + [429]
    assert buys(
        work,
        "v6@example.com",
        REMOTE_ADDR=PROXY,
        HTTP_CLOUDFRONT_VIEWER_ADDRESS="2001:db8:2::5:443",
    )


def paid_by_webhook(order: Order, **meta):
    """Stripe's signed `checkout.session.completed` for `order`, delivered to the webhook URL."""
    event = completed_session_event(order, order.payment_session_id, ADDRESS, "Ana Ruiz")
    payload = json.dumps(event).encode()
    return Client(**meta).post(
        WEBHOOK_URL,
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign_payload(payload, django_settings.LOCAL_PAYMENTS_WEBHOOK_SECRET),
    )


def forged_webhooks(count: int, **meta) -> list[int]:
    forger = Client(**meta)
    return [
        forger.post(
            WEBHOOK_URL, b"{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=bad"
        ).status_code
        for _ in range(count)
    ]


@pytest.mark.parametrize("behind_a_proxy", [True, False], ids=["proxy", "same-address"])
def test_stripes_signed_webhook_is_never_limited_by_anothers_failures(
    limits_on, work, behind_a_proxy
):
    if behind_a_proxy:
        limits_on.TRUSTED_PROXY_HOPS = 1
        forger = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
        stripe = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "54.187.174.169"}
    else:  # even from the very address the forger uses: a valid signature is never counted
        forger = stripe = {"REMOTE_ADDR": PROXY}
    assert buys(work, "ana@example.com")
    order = Order.objects.get()
    statuses = forged_webhooks(61, **forger)
    assert statuses[:60] == [400] * 60 and statuses[60] == 429
    answer = paid_by_webhook(order, **stripe)
    assert answer.status_code == 200, answer.content
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert forged_webhooks(1, **forger) == [429]  # the forger is still refused


# --- Redis down: limits fail open, on a per-process counter ----------------------------------


@contextmanager
def caches_on(url: str):
    """Every cache alias (pages, renditions, sessions, rate limits) on the Redis at `url`."""
    caches = {
        alias: {**config, "LOCATION": url} for alias, config in django_settings.CACHES.items()
    }
    with override_settings(CACHES=caches):
        yield


def test_with_redis_down_checkout_goes_on_and_is_still_limited(settings, work, caplog):
    port = free_port()
    settings.RATELIMIT_ENABLE = True
    settings.TRUSTED_PROXY_HOPS = 1
    collector = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
    try:
        with own_redis(port) as url, caches_on(url):
            assert buys(work, "before@example.com", **collector)  # counted in Redis
        # Its server stopped; the same settings again, pointing at nothing.
        with (
            caches_on(f"redis://127.0.0.1:{port}/0"),
            time_machine.travel(timezone.now().replace(second=5), tick=False),
        ):
            assert buys(work, "during@example.com", **collector)
            order = Order.objects.get(email="during@example.com")
            assert paid_by_webhook(order, **collector).status_code == 200
            statuses = checkout_attempts(
                work, 21, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9"
            )
            other = buys(
                work,
                "other@example.com",
                REMOTE_ADDR=PROXY,
                HTTP_X_FORWARDED_FOR="203.0.113.11",
            )
    finally:
        ratelimit_cache.outage.down = False
    assert any("Redis is unreachable" in r.getMessage() for r in caplog.records)
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    # 21 rapid checkouts from one address: the in-process counter still stops the 21st …
    assert statuses == [400] * 20 + [429]
    # … and only that address.
    assert other


# --- Enquiries and notify-me: limited per client address ------------------------------------


def enquire(artwork, n: int, **meta):
    data = {"name": "Ana Ruiz", "email": f"e{n}@example.com", "message": f"Question {n}"}
    return Client(**meta).post(f"/artworks/{artwork.slug}/enquire/", data)


def test_enquiries_are_limited_per_client_address(
    limits_on, django_capture_on_commit_callbacks, mailoutbox
):
    limits_on.TRUSTED_PROXY_HOPS = 1
    artwork = ArtworkFactory(price=None, price_on_request=True)
    bot = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    with django_capture_on_commit_callbacks(execute=True):
        answers = [enquire(artwork, n, **bot) for n in range(7)]
    assert [a.status_code for a in answers] == [302] * 5 + [429, 429]
    refused = answers[-1].content.decode()
    assert "Too many attempts from your connection" in refused
    assert "Question 6" in refused  # what they typed is kept for a later try
    assert "private" in answers[-1]["Cache-Control"]  # never stored by the CDN
    assert ArtworkInquiry.objects.filter(artwork=artwork).count() == 5
    assert len(mailoutbox) == 5  # nothing emailed for the refused ones
    # Another collector behind the same proxy is not held back.
    with django_capture_on_commit_callbacks(execute=True):
        other = enquire(artwork, 99, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert other.status_code == 302
    assert len(mailoutbox) == 6


def start_of_an_hourly_window(address: str):
    """A moment a few seconds into one of ``address``'s hourly rate-limit windows.

    django-ratelimit ends each key's windows at its own offset (crc32 of the key, modulo the
    period), so a test that moves the clock over several minutes starts just after one ends.
    """
    now = int(timezone.now().timestamp())
    boundary = now - now % 3600 + zlib.crc32(address.encode()) % 3600
    return datetime.fromtimestamp(boundary + 5, tz=UTC)


def test_enquiries_have_an_hourly_ceiling(settings, django_capture_on_commit_callbacks):
    settings.RATELIMIT_ENABLE = True
    artwork = ArtworkFactory(price=None, price_on_request=True)
    start = start_of_an_hourly_window("127.0.0.1")
    statuses = []
    for minute in range(5):  # four a minute stays under the burst limit, not under the hour's
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            statuses += [enquire(artwork, minute * 4 + n).status_code for n in range(4)]
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        statuses.append(enquire(artwork, 100).status_code)
    assert statuses == [302] * 20 + [429]
    assert ArtworkInquiry.objects.filter(artwork=artwork).count() == 20


def test_notify_me_has_an_hourly_ceiling_per_client_address(settings):
    settings.RATELIMIT_ENABLE = True
    settings.TRUSTED_PROXY_HOPS = 1
    drop = DropPageFactory(
        starts_at=timezone.now() + timedelta(days=3), ends_at=timezone.now() + timedelta(days=4)
    )
    url = f"/drop-alerts/{drop.pk}/subscribe/"
    bot = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    start = start_of_an_hourly_window("198.51.100.7")
    statuses = []
    for minute in range(3):  # eight a minute: under the burst limit of ten
        with time_machine.travel(start + timedelta(minutes=minute), tick=False):
            statuses += [
                bot.post(url, {"email": f"n{minute}-{n}@example.com"}).status_code for n in range(8)
            ]
    assert statuses == [302] * 20 + [429] * 4
    assert DropSubscription.objects.filter(drop=drop).count() == 20
    # Still within the same hour (the clock stays in the window the test chose).
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        refused = bot.post(url, {"email": "late@example.com"})
        assert refused.status_code == 429
        assert "Too many requests" in refused.content.decode()
        # Another collector behind the same proxy subscribes.
        other = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.5")
        assert other.post(url, {"email": "fan@example.com"}).status_code == 302
