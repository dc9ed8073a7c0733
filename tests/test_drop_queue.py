"""Join the queue (drops.queue): places drawn at random in the entry window, with no database
work, admitted in that order at the shop's pace; tickets that cannot be forged, reused or moved;
a Redis outage that still answers; a drop page that stays publicly cacheable."""

import copy
import random
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from artworks.factories import ArtworkFactory
from core import ratelimit_cache
from drops import queue
from drops.entry import SESSION_IDS
from shop.models import Order
from tests.support.processes import free_port
from tests.support.shop import checkout_form
from tests.test_drops import START, make_drop

pytestmark = pytest.mark.django_db

WINDOW = 10
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def work():
    return ArtworkFactory(title="Queue Print", price=Decimal("300"))


@pytest.fixture
def drop(work):
    return make_drop(work, window=WINDOW)


def at(seconds: float):
    """The clock ``seconds`` after the drop's start."""
    return time_machine.travel(START + timedelta(seconds=seconds), tick=False)


def join(client: Client, drop, address: str = "198.51.100.1", **extra):
    return client.post(f"/drop-queue/{drop.pk}/join/", REMOTE_ADDR=address, **JSON, **extra)


def status(client: Client, drop, address: str = "198.51.100.1"):
    return client.get(f"/drop-queue/{drop.pk}/status/", REMOTE_ADDR=address, **JSON)


def address(n: int) -> str:
    return f"10.{n // 250}.{n % 250}.1"


def spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(values):
        order = sorted(range(len(values)), key=values.__getitem__)
        result = [0] * len(values)
        for rank, i in enumerate(order):
            result[i] = rank
        return result

    rx, ry, n = ranks(xs), ranks(ys), len(xs)
    return 1 - 6 * sum((a - b) ** 2 for a, b in zip(rx, ry, strict=True)) / (n * (n * n - 1))


# --- Joining costs nothing ---------------------------------------------------------------------


def test_every_collector_joining_in_the_window_gets_a_ticket_without_a_database_query(
    drop, django_assert_num_queries
):
    queue.schedule_for(drop.pk)  # the first join after a change reads the drop
    clients = [Client() for _ in range(30)]
    with at(1), django_assert_num_queries(0):
        answers = [join(c, drop, address(n)) for n, c in enumerate(clients)]
        again = join(clients[0], drop, address(0))  # the same browser asks again
        polled = status(clients[0], drop, address(0))
    for answer in answers:
        assert answer.status_code == 200
        assert (
            answer["Cache-Control"].startswith("max-age=0") or "no-store" in answer["Cache-Control"]
        )
        body = answer.json()
        assert body["state"] == "waiting" and body["final"] is False
        assert 1 <= body["position"] <= body["size"] <= 30
        cookie = answer.cookies["dropq"]
        assert cookie["httponly"] and cookie["samesite"] == "Lax"
        assert "sessionid" not in answer.cookies  # no session: nothing written to the database
    # The same browser keeps its ticket: no new cookie, no new place.
    assert "dropq" not in again.cookies
    assert again.json()["size"] == 30
    assert polled.status_code == 200 and polled.json()["size"] == 30


def test_only_the_first_join_after_a_change_reads_the_drop(
    drop, django_assert_max_num_queries, django_assert_num_queries
):
    with at(1):
        with django_assert_max_num_queries(2):  # the drop (and Wagtail's view restrictions)
            assert join(Client(), drop, address(1)).status_code == 200
        with django_assert_num_queries(0):
            assert join(Client(), drop, address(2)).status_code == 200


def test_joining_without_javascript_lands_on_a_page_that_refreshes(drop, django_assert_num_queries):
    client = Client()
    queue.schedule_for(drop.pk)
    with at(2), django_assert_num_queries(0):
        response = client.post(f"/drop-queue/{drop.pk}/join/", REMOTE_ADDR=address(3))
        assert response.status_code == 303
        assert response["Location"] == f"/drop-queue/{drop.pk}/"
        page = client.get(response["Location"], REMOTE_ADDR=address(3))
    html = page.content.decode()
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="' in html
    assert "You are in the queue: number 1 of 1" in html
    assert "<script" not in html  # the page's CSP refuses inline script; none is needed
    with at(WINDOW + 60):
        html = client.get(f"/drop-queue/{drop.pk}/", REMOTE_ADDR=address(3)).content.decode()
    assert "It is your turn" in html and "http-equiv" not in html


def test_before_the_start_after_the_end_and_for_no_drop_the_join_says_so(drop, work):
    client = Client()
    with at(-30):
        early = join(client, drop)
    assert early.status_code == 409
    assert early.json()["state"] == "not_open" and early.json()["retry_in"] == 30
    assert "dropq" not in early.cookies
    with time_machine.travel(drop.ends_at + timedelta(seconds=1), tick=False):
        late = join(client, drop)
    assert late.status_code == 410 and "ended" in late.json()["message"]
    no_window = make_drop(ArtworkFactory(), window=0)
    queue.schedule_for(drop.pk)
    with at(1), CaptureQueriesContext(connection) as queries:
        assert join(client, no_window).status_code == 404
        assert client.post("/drop-queue/999999/join/", **JSON).status_code == 404
    # Unknown ids are answered from the cached schedules: no drop is read (a 404 only costs
    # Wagtail's site and redirect lookup, as on any unknown address).
    assert not [q for q in queries.captured_queries if "drops_" in q["sql"]]
    assert all(
        "wagtailredirects" in q["sql"] or "wagtailcore_site" in q["sql"]
        for q in queries.captured_queries
    )
    with at(1):
        assert client.get(f"/drop-queue/{drop.pk}/join/").status_code == 405
        assert status(client, drop).json()["state"] == "no_ticket"


def test_once_the_rush_is_over_joining_takes_no_place(drop, settings):
    settings.DROP_QUEUE_PLACES_PER_ADDRESS = 1
    with at(1):
        join(Client(), drop)
    with at(2 * WINDOW + 5):  # the one place was let in long ago
        for _ in range(3):  # one address, many browsers: no cap to meet, nothing to count
            answer = join(Client(), drop)
            assert answer.status_code == 200 and answer.json()["state"] == "open"
            assert "dropq" not in answer.cookies


# --- The order is the draw's, not the arrivals' ------------------------------------------------


def test_admission_order_is_random_whatever_the_arrival_order(drop, monkeypatch):
    """300 collectors join one after another through the window (fixed seed): once it closes,
    their order has nothing to do with when they came."""
    monkeypatch.setattr(queue, "_random", random.Random(2026))
    n = 300
    clients = [Client() for _ in range(n)]
    for i, client in enumerate(clients):
        with at(i * WINDOW / n):
            assert join(client, drop, address(i)).status_code == 200
    with at(WINDOW + 0.01):
        final = [status(c, drop, address(i)).json() for i, c in enumerate(clients)]
    assert all(body["final"] for body in final)
    assert sorted(body["position"] for body in final) == list(range(1, n + 1))
    positions = [body["position"] for body in final]
    rho = spearman(list(range(n)), positions)
    assert abs(rho) < 0.15, rho  # first come, first served would give 1.0
    # The first 30 let in (what a drop of 30 units would sell) arrived, on average, mid-way.
    first = sorted(range(n), key=positions.__getitem__)[:30]
    mean_percentile = sum((i + 0.5) / n for i in first) / len(first)
    assert 0.4 <= mean_percentile <= 0.6, mean_percentile
    # Admission times follow the positions.
    by_position = sorted(final, key=lambda body: body["position"])
    admits = [body["admit_at"] for body in by_position]
    assert admits == sorted(admits)


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    offsets=st.lists(st.integers(0, WINDOW * 1_000_000 - 1), min_size=1, max_size=40, unique=True),
    arrival=st.randoms(use_true_random=False),
)
def test_the_line_orders_by_the_draw_for_any_arrival_order(offsets, arrival):
    """Property: whatever order the same tickets arrive in (shuffled), each ends at the rank of
    its drawn place, and admission times rise with rank; in Redis and in the embedded line."""
    schedule = queue.Schedule(1, 1_000_000.0, None, WINDOW)
    tickets = [
        queue.Ticket(1, f"t{i}", schedule.first_admission + offset / 1_000_000)
        for i, offset in enumerate(offsets)
    ]
    shuffled = tickets[:]
    arrival.shuffle(shuffled)
    for line in (queue.LocalLine(), queue.RedisLine()):
        key = f"property:{uuid.uuid4().hex}"
        for ticket in shuffled:
            line.place(key, ticket.id, ticket.score, 60)
        ranks = {t.id: line.place(key, t.id, t.score, 60)[0] for t in tickets}
        by_draw = sorted(tickets, key=lambda t: t.score)
        assert [ranks[t.id] for t in by_draw] == list(range(len(tickets)))
        admits = [queue.admission_for(schedule, t.score, ranks[t.id]) for t in by_draw]
        assert admits == sorted(admits)
        assert admits[0] >= schedule.first_admission  # nobody before the window closes


def test_after_the_window_joiners_queue_behind_everyone_in_it_in_arrival_order(drop):
    early = [Client() for _ in range(12)]
    late = [Client() for _ in range(5)]
    for i, client in enumerate(early):
        with at(i * 0.8):
            join(client, drop, address(i))
    for i, client in enumerate(late):
        with at(WINDOW + 1 + i):
            join(client, drop, address(100 + i))
    with at(WINDOW + 6):
        early_positions = [
            status(c, drop, address(i)).json()["position"] for i, c in enumerate(early)
        ]
        late_bodies = [status(c, drop, address(100 + i)).json() for i, c in enumerate(late)]
    assert sorted(early_positions) == list(range(1, 13))
    assert [body["position"] for body in late_bodies] == [13, 14, 15, 16, 17]
    # Nobody who came late goes before the randomised group's last moment, start + 2W.
    assert (
        min(body["admit_at"] for body in late_bodies)
        >= (START + timedelta(seconds=2 * WINDOW)).isoformat()
    )


def test_the_line_moves_at_the_configured_pace(drop, settings):
    settings.DROP_QUEUE_ADMIT_PER_SECOND = 1
    settings.DROP_QUEUE_ADMIT_BATCH = 2
    clients = [Client() for _ in range(30)]
    with at(1):
        for i, client in enumerate(clients):
            join(client, drop, address(i))
    # At start + 2W every drawn moment has passed; the pace has let in ranks 0..11 (2 a batch,
    # a batch every 2 s from start + W).
    with at(2 * WINDOW + 0.01):
        bodies = sorted((status(c, drop, address(i)).json() for i, c in enumerate(clients)),
                        key=lambda b: b["position"])  # fmt: skip
    assert [b["state"] for b in bodies] == ["admitted"] * 12 + ["waiting"] * 18
    assert bodies[12]["ahead"] == 0 and bodies[29]["ahead"] == 17
    assert bodies[12]["wait_seconds"] == pytest.approx(1.99, abs=0.01)
    assert bodies[29]["wait_seconds"] == pytest.approx(17.99, abs=0.01)
    assert "number 30 in the queue, with 17 ahead of you" in bodies[29]["message"]


# --- Tickets: forged, replayed, for another drop ------------------------------------------------


def test_a_forged_or_edited_ticket_is_worthless(drop):
    client = Client()
    with at(1):
        join(client, drop)
        name = "dropq"
        genuine = client.cookies[name].value
        for forged in (genuine[:-3] + "abc", '[1, "x", 0]', "x" * 400, ""):
            client.cookies[name] = forged
            assert status(client, drop).json()["state"] == "no_ticket"
        # A ticket that claims an earlier place breaks its signature.
        client.cookies[name] = queue.signing.dumps([drop.pk, "mine", 0.0], salt="drops.queue")
        assert status(client, drop).json()["state"] == "no_ticket"
        rejoined = join(client, drop)
        assert rejoined.cookies[name].value not in (genuine, "")
        assert rejoined.json()["size"] == 2  # a new place, at the cost of a counted one


def test_a_ticket_for_one_drop_means_nothing_for_another_or_after_the_drop_moves(drop):
    other = make_drop(ArtworkFactory(), window=WINDOW)
    client = Client()
    with at(1):
        join(client, drop)
        assert status(client, other).json()["state"] == "no_ticket"  # the same cookie, drop B
        assert status(client, drop).status_code == 200
        join(client, other)  # one browser may hold a place in both: the cookie keeps the two
        assert status(client, other).status_code == 200
        assert status(client, drop).status_code == 200
    drop.starts_at = START - timedelta(seconds=1)  # the curator moves the start: a new line
    drop.save_revision().publish()
    with at(1):
        assert status(client, drop).json()["state"] == "no_ticket"


def test_one_address_takes_a_few_places_however_many_browsers_or_forged_addresses(drop, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    settings.DROP_QUEUE_PLACES_PER_ADDRESS = 4
    real = "203.0.113.9"
    with at(1):
        browser = Client()
        for _ in range(6):  # one browser asking again and again counts once
            assert join(browser, drop, "10.0.0.1", HTTP_X_FORWARDED_FOR=real).status_code == 200
        answers = [
            join(Client(), drop, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {real}")
            for n in range(5)
        ]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert "Too many places" in answers[-1].json()["message"]
    assert "dropq" not in answers[-1].cookies
    with at(1):  # another address is not affected: the fifth place in line
        assert (
            join(Client(), drop, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.10").json()["size"]
            == 5
        )


def test_a_ticket_copied_into_another_browser_does_not_carry_its_place(drop, work):
    first, second = Client(), Client()
    name = "dropq"
    with at(2):
        join(first, drop, address(1))
        first.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1}, REMOTE_ADDR=address(1))
        waiting = first.post("/shop/checkout/", checkout_form("ana@example.com"))
        assert "You are in the queue" in waiting.content.decode()
        assert "You are number 1 in the queue" in waiting.content.decode()  # where they stand
        ticket_id = first.session[SESSION_IDS][str(drop.pk)][1]
        assert queue.unsign(queue.schedule_of(drop), first.cookies[name].value).id == ticket_id
        second.cookies[name] = first.cookies[name].value  # the same ticket, another session
        second.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1}, REMOTE_ADDR=address(2))
    assert second.session[SESSION_IDS][str(drop.pk)][1] != ticket_id
    # And the first session keeps its own, whatever cookie it shows later.
    with at(3):
        first.cookies[name] = "forged"
        first.post("/shop/checkout/", checkout_form("ana@example.com"))
    assert first.session[SESSION_IDS][str(drop.pk)][1] == ticket_id


def test_an_admitted_collector_still_meets_the_per_collector_limit(client, settings):
    edition = ArtworkFactory(is_edition=True, edition_size=5, max_per_order=2, price=Decimal(90))
    drop = make_drop(edition, window=WINDOW, limit=1)
    with at(1):
        join(client, drop)
    with at(2 * WINDOW + 1):
        assert status(client, drop).json()["state"] == "admitted"
        client.post("/shop/cart/add/", {"artwork": edition.pk, "quantity": 1})
        assert client.post("/shop/checkout/", checkout_form("ana@example.com")).status_code == 302
        other = Client()  # the same collector (email) in a second browser
        other.post("/shop/cart/add/", {"artwork": edition.pk, "quantity": 1})
        refused = other.post("/shop/checkout/", checkout_form("ANA@example.com"), follow=True)
    assert "at most 1" in refused.content.decode()
    assert Order.objects.filter(lines__artwork=edition).count() == 1


# --- Redis down ---------------------------------------------------------------------------------


@pytest.fixture
def redis_down(settings):
    """The cache and the rate-limit counters point at a port where nothing listens."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    caches = copy.deepcopy(settings.CACHES)
    for alias in ("default", "ratelimit"):
        caches[alias]["LOCATION"] = url
    settings.CACHES = caches
    yield
    ratelimit_cache.outage.down = False  # the next test starts with Redis up


def test_with_redis_down_the_join_still_gives_a_ticket_and_says_what_it_cannot_tell(
    client, work, drop, redis_down
):
    with at(2):
        joined = join(client, drop)
        polled = status(client, drop)
        page = client.get(f"/drop-queue/{drop.pk}/")
    assert joined.status_code == 200 and polled.status_code == 200 and page.status_code == 200
    body = joined.json()
    assert body["position"] is None and body["state"] == "waiting"
    assert "cannot count who is ahead of you" in body["message"]
    ticket = queue.unsign(queue.schedule_of(drop), client.cookies["dropq"].value)
    assert ticket is not None  # the place is in the signed ticket itself
    assert START.timestamp() + WINDOW <= ticket.score < START.timestamp() + 2 * WINDOW
    assert body["wait_seconds"] == pytest.approx(ticket.score - START.timestamp() - 2, abs=0.01)
    # The shop admits on the ticket's own time: waiting before it, buying after it. No 500.
    with at(3):
        client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        waiting = client.post("/shop/checkout/", checkout_form("ana@example.com"))
    assert waiting.status_code == 200 and "You are in the queue" in waiting.content.decode()
    with at(2 * WINDOW + 1):
        bought = client.post("/shop/checkout/", checkout_form("ana@example.com"))
    assert bought.status_code == 302 and Order.objects.count() == 1


# --- The drop page stays the same for everyone ----------------------------------------------------


def test_the_drop_page_stays_publicly_cacheable_with_the_queue_on_it(client, drop, settings):
    settings.PUBLIC_CACHE_SECONDS = 300
    with at(1):
        plain = client.get(drop.url)
        join(client, drop)  # a visitor holding a ticket gets the very same page
        with_ticket = client.get(drop.url)
    for response in (plain, with_ticket):
        assert response.status_code == 200
        assert "public" in response["Cache-Control"] and "s-maxage" in response["Cache-Control"]
        assert not response.cookies
    html = plain.content.decode()
    assert html == with_ticket.content.decode()
    assert f'data-join-url="/drop-queue/{drop.pk}/join/"' in html
    assert "js/drop-queue.js" in html and "<script>" not in html
    assert f'action="/drop-queue/{drop.pk}/join/"' in html  # the no-JS way in


def test_the_embedded_default_keeps_the_line_in_process(settings):
    settings.REDIS_URL = ""
    line = queue.line()
    assert isinstance(line, queue.LocalLine)
    key = f"embedded:{uuid.uuid4().hex}"
    assert line.place(key, "b", 2.0, 60) == (0, 1)
    assert line.place(key, "a", 1.0, 60) == (0, 2)
    assert line.place(key, "b", 0.5, 60) == (1, 2)  # a place never moves once taken
    assert line.join(key, "c", 3.0, 60, "203.0.113.1", 2) == (2, 3)
    assert line.join(key, "d", 4.0, 60, "203.0.113.1", 2) == (3, 4)
    assert line.join(key, "e", 5.0, 60, "203.0.113.1", 2) is None  # past the cap: no place
    assert line.size(key) == 4
    assert line.claim(key, "a", "session-1", 60) == "session-1"
    assert line.claim(key, "a", "session-2", 60) == "session-1"
