"""Drop day: 500 collectors arrive in the first seconds of a drop, over real HTTP.

    .venv/bin/python bench/drop_day.py [--collectors 500] [--spread 5] [--workers 2]

What it does, from nothing to a report, then cleans up after itself:

1. creates its own PostgreSQL database (``artspot_bench_drop``; dropped and re-created, so the
   name must contain "bench") and empties its own Redis database (``redis://…/11``), migrates,
   and makes the drop with the project's factories: 19 unique works and one edition of 10
   (20 works, 29 units), per-collector limit 1, the randomised entry window on (10 s);
2. starts gunicorn (``artspot.wsgi``, ``artspot.settings.dev`` with ``DEBUG=false``, PostgreSQL
   and Redis: cache, sessions' cache, rate-limit counters, Celery broker) on 127.0.0.1 only,
   opens every work's page once (renditions), then moves the drop's start a few seconds ahead;
3. each collector arrives at a random moment in the first ``--spread`` seconds after the start,
   with its own HTTP session and its own loopback address, and does what a browser with the
   drop page open does: the page itself comes from the CDN (it is publicly cacheable: the
   benchmark checks its ``Cache-Control`` once and serves that copy, as CloudFront would), and
   its script (``js/drop-queue.js``) POSTs ``/drop-queue/<id>/join/`` for a ticket, then asks
   ``/drop-queue/<id>/status/`` again when the answer's ``poll_in`` says, until it is admitted.
   Then it opens the work's page, adds it to the cart, POSTs the checkout form (email,
   country); on a waiting-room page it waits until its admission time and re-POSTs, as that
   page's script does; then opens the local test-payment page and pays with the test card.
   Some collectors misbehave on purpose: ``--greedy`` ask for 2 of the edition first (then 1),
   ``--pairs`` people use two browsers with one email for the edition, ``--double`` double-click
   the admitted checkout (two POSTs at once);
4. prints units sold against units available, oversold (0), over-limit purchases (0: paid units
   of a work per email above the limit), 5xx (0), how many collectors who arrived in the entry
   window had their ticket inside it (all), the ticket request's p50/p99 (< 100 ms), the
   buyers' mean arrival percentile (0.5 ± 0.1: no edge for arriving first), p50/p99 latency of
   the purchase path; writes the same figures as JSON (``--json``); stops gunicorn, drops the
   database and empties its Redis database again (``--keep-db`` keeps both).

The checkout view is rate-limited to 20 POSTs a minute per IP address. The limiter stays on:
each collector connects from its own loopback address (127.2.x.y; Linux routes all of 127/8 to
the loopback interface), as real collectors come from their own addresses. A 429 is reported,
never hidden. The run is bounded by ``--time-limit`` seconds and every request by 30 s; it stops
by itself. Celery tasks (confirmation emails…) are queued in Redis; no worker runs them.

Exit status 0 only if every collector finished in time, units sold equals units available
(demand is far above supply), nothing was oversold, nobody bought above the limit, no request
got a 5xx, nobody was rate-limited, every collector arriving in the window got a ticket inside
it, the ticket p99 is under 100 ms and the buyers' mean arrival percentile is 0.5 ± 0.1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests
from harness import (
    CHECKOUT_ADDRESS,
    SourceAddressAdapter,
    admin_url,
    drop_database,
    percentile,
    recreate_database,
    server_times,
    start_gunicorn,
    stop_gunicorn,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REQUEST_TIMEOUT = 30
EDITION_SIZE = 10
ENTRY_WINDOW_SECONDS = 10  # the drop page's default
PER_COLLECTOR_LIMIT = 1
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WAIT_SECONDS = re.compile(r'data-wait-seconds="([0-9.]+)"')
ADMIT_AT = re.compile(r'<time datetime="([^"]+)"')
FLASH = re.compile(r'<p class="notice notice--[a-z]+">([^<]+)</p>')  # shop/includes/messages
PURCHASE_STEPS = ("add", "checkout", "pay")
ACCEPT_JSON = {"Accept": "application/json"}


# --- setup --------------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collectors", type=int, default=500, help="collectors (500)")
    parser.add_argument(
        "--spread", type=float, default=5.0, help="they arrive within this many seconds (5)"
    )
    parser.add_argument("--uniques", type=int, default=19, help="unique works (19) + 1 edition")
    parser.add_argument(
        "--edition-share", type=float, default=0.4, help="share who want the edition (0.4)"
    )
    parser.add_argument("--greedy", type=float, default=0.1, help="share asking for 2 (0.1)")
    parser.add_argument("--pairs", type=int, default=25, help="two-browser people (25)")
    parser.add_argument("--double", type=float, default=0.05, help="share double-clicking (0.05)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (1: sync workers)"
    )
    parser.add_argument(
        "--admit-rate",
        type=float,
        default=2.0,
        help="DROP_QUEUE_ADMIT_PER_SECOND: collectors let through to checkout a second (2)",
    )
    parser.add_argument("--admit-batch", type=int, default=2, help="DROP_QUEUE_ADMIT_BATCH (2)")
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / "var" / "bench" / "drop_day.json",
        help="where to write the figures (var/bench/drop_day.json)",
    )
    parser.add_argument(
        "--entry-window",
        type=int,
        default=ENTRY_WINDOW_SECONDS,
        help=f"the drop's randomised entry window in seconds ({ENTRY_WINDOW_SECONDS})",
    )
    parser.add_argument("--lead", type=float, default=8.0, help="seconds until the start (8)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed for the collectors")
    parser.add_argument("--time-limit", type=float, default=420, help="seconds for the run (420)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/artspot_bench_drop"
        ),
        help="the database to (re)create; its name must contain 'bench'",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11"),
        help="a Redis database of its own; it is emptied first (not database 0)",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    args = parser.parse_args()
    if args.collectors < 1 or args.uniques < 1 or args.spread <= 0:
        parser.error("--collectors and --uniques must be at least 1, --spread above 0")
    if 2 * args.pairs > args.collectors:
        parser.error("--pairs uses two collectors each; too many for --collectors")
    if "bench" not in urlsplit(args.database_url).path:
        parser.error("refusing to drop and re-create a database whose name lacks 'bench'")
    if urlsplit(args.redis_url).path.strip("/") in ("", "0"):
        parser.error("refusing to empty Redis database 0; give the benchmark one of its own")
    return args


def server_env(args: argparse.Namespace, var_dir: Path) -> dict[str, str]:
    """What both this process (for Django) and gunicorn run with."""
    env = {k: v for k, v in os.environ.items() if k != "CELERY_TASK_ALWAYS_EAGER"}
    env.update(
        DJANGO_SETTINGS_MODULE="artspot.settings.dev",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        ARTSPOT_VAR_DIR=str(var_dir),
        DEBUG="false",
        LOG_LEVEL="WARNING",
        PUBLIC_CACHE_SECONDS="300",  # as in production: CloudFront may keep public pages
        DROP_QUEUE_ADMIT_PER_SECOND=str(args.admit_rate),
        DROP_QUEUE_ADMIT_BATCH=str(args.admit_batch),
    )
    return env


@dataclass(frozen=True)
class Work:
    pk: int
    slug: str
    title: str
    units: int
    is_edition: bool


@dataclass(frozen=True)
class Drop:
    pk: int
    works: list[Work]
    url: str


def build_data(args: argparse.Namespace) -> Drop:
    """Migrate; then the drop's works and the drop itself, from the project's factories."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from django.utils import timezone

    from artists.factories import ArtistPageFactory
    from artworks.factories import ArtworkFactory
    from artworks.models import Medium
    from drops.factories import DropPageFactory

    artists = [ArtistPageFactory() for _ in range(5)]
    made = [
        ArtworkFactory(
            title=f"Drop day unique {n + 1}",
            artist=artists[n % len(artists)],
            price=Decimal(1200 + 100 * n),
        )
        for n in range(args.uniques)
    ]
    made.append(
        ArtworkFactory(
            title="Drop day edition",
            artist=artists[0],
            medium=Medium.PRINT,
            is_edition=True,
            edition_size=EDITION_SIZE,
            max_per_order=2,
            price=Decimal("350.00"),
        )
    )
    drop = DropPageFactory(
        title="Drop day",
        starts_at=timezone.now() + timedelta(hours=1),  # moved to a few seconds ahead later
        per_collector_limit=PER_COLLECTOR_LIMIT,
        entry_window_seconds=args.entry_window,
        works=made,
    )
    works = [Work(a.pk, a.slug, a.title, a.units.count(), a.is_edition) for a in made]
    return Drop(drop.pk, works, drop.url)


def start_drop_in(drop: Drop, seconds: float) -> datetime:
    from django.db import connection
    from django.utils import timezone

    from drops.models import DropPage

    starts_at = timezone.now() + timedelta(seconds=seconds)
    DropPage.objects.filter(pk=drop.pk).update(starts_at=starts_at)
    connection.close()
    return starts_at


# --- collectors ---------------------------------------------------------------------------------
@dataclass
class Collector:
    n: int
    email: str
    work: Work
    quantity: int  # asked for first (2: greedy), then 1 if refused
    double_click: bool
    source_ip: str
    arrive_at: float  # seconds after the start
    kind: str  # plain / greedy / two browsers / double-click
    log: list[tuple[str, int, float]] = field(default_factory=list)  # step, status, seconds
    outcome: str = "not run"
    refused_two: bool = False  # asked for 2 and the cart said no
    checkout_at: float | None = None  # wall clock of the first checkout POST
    admit_at: float | None = None  # the admission time the waiting room gave
    holds: int = 0  # checkout answers that granted a hold (2: a double click held twice)
    double_clicks: int = 0
    finished_at: float | None = None
    ticket_at: float | None = None  # wall clock when the join answered with a ticket
    join_status: int | None = None  # the join's last answer
    position: int | None = None  # place in line once final
    admitted_at: float | None = None  # wall clock when the queue said "admitted"

    def session(self) -> requests.Session:
        session = requests.Session()
        session.mount("http://", SourceAddressAdapter(self.source_ip))
        return session


def plan_collectors(args: argparse.Namespace, works: list[Work]) -> list[Collector]:
    """Who wants what, seeded: a plain majority and the three kinds of misbehaviour."""
    rng = random.Random(args.seed)
    edition = next(w for w in works if w.is_edition)
    uniques = [w for w in works if not w.is_edition]
    collectors: list[Collector] = []

    def ip(person: int) -> str:
        return f"127.2.{person // 250}.{person % 250 + 1}"

    def add(email, work, quantity, double, person, kind):
        arrive = rng.uniform(0, args.spread)
        collectors.append(
            Collector(len(collectors), email, work, quantity, double, ip(person), arrive, kind)
        )

    person = 0
    for _ in range(args.pairs):  # one person, two browsers (one address), the same email
        email = f"pair{person}@bench.test"
        add(email, edition, 1, False, person, "two browsers")
        add(email, edition, 1, False, person, "two browsers")
        person += 1
    while len(collectors) < args.collectors:
        email = f"collector{person}@bench.test"
        roll = rng.random()
        if roll < args.greedy:
            add(email, edition, 2, False, person, "greedy")
        else:
            wants_edition = rng.random() < args.edition_share
            work = edition if wants_edition else rng.choice(uniques)
            double = roll < args.greedy + args.double
            add(email, work, 1, double, person, "double-click" if double else "plain")
        person += 1
    return collectors


class Browser:
    """One collector's browser: a session, the CSRF token, and a timed log of every request."""

    def __init__(self, collector: Collector, base: str, deadline: float):
        self.c = collector
        self.base = base
        self.deadline = deadline
        self.http = collector.session()
        self.csrf = ""

    def request(self, step: str, method: str, path: str, http=None, **kwargs):
        if time.monotonic() > self.deadline:
            raise TimeoutError("time limit")
        started = time.perf_counter()
        response = (http or self.http).request(
            method,
            self.base + path,
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
            **kwargs,
        )
        self.c.log.append((step, response.status_code, time.perf_counter() - started))
        return response

    def join_queue(self, drop_id: int) -> dict | None:
        """What ``js/drop-queue.js`` does on the drop page: join, then ask again when told."""
        c = self.c
        body: dict = {}
        for attempt in range(30):
            try:
                answer = self.request(
                    "join", "POST", f"/drop-queue/{drop_id}/join/", headers=ACCEPT_JSON
                )
            except requests.RequestException:
                time.sleep(min(30, 2 ** (attempt + 1)))  # the script backs off and retries
                continue
            c.join_status = answer.status_code
            if answer.status_code == 200:
                c.ticket_at = time.time()
                body = answer.json()
                break
            if answer.status_code == 409:
                time.sleep(answer.json()["retry_in"])
                continue
            if answer.status_code >= 500:
                time.sleep(min(30, 2 ** (attempt + 1)))
                continue
            return None  # refused: the page shows the message
        else:
            return None
        while body.get("state") != "admitted":
            if body.get("final"):
                c.position = body["position"]
            time.sleep(body.get("poll_in") or 1)
            polled = self.request(
                "status", "GET", f"/drop-queue/{drop_id}/status/", headers=ACCEPT_JSON
            )
            if polled.status_code != 200:
                time.sleep(1)
                continue
            body = polled.json()
        c.position = body["position"] or c.position
        c.admitted_at = time.time()
        return body

    def notice(self) -> str:
        """The flash message the cart page shows (why something was refused)."""
        page = self.request("cart", "GET", "/shop/cart/")
        messages = FLASH.findall(page.text)
        return messages[-1].strip() if messages else ""

    def add_to_cart(self, quantity: int) -> str:
        self.request(
            "add",
            "POST",
            "/shop/cart/add/",
            data={
                "artwork": self.c.work.pk,
                "quantity": quantity,
                "csrfmiddlewaretoken": self.csrf,
            },
        )
        return self.notice()

    def checkout_form(self) -> dict[str, str]:
        return {
            "email": self.c.email,
            "country": "GB",
            **CHECKOUT_ADDRESS,
            "csrfmiddlewaretoken": self.csrf,
        }

    def checkout(self):
        """POST the checkout form, waiting in the waiting room as its script does."""
        for attempt in range(6):
            if attempt == 0:
                self.c.checkout_at = time.time()
            if self.c.double_click:  # the click, and the page's own re-submits, twice over
                response = self.double_click()
            else:
                response = self.request(
                    "checkout", "POST", "/shop/checkout/", data=self.checkout_form()
                )
            wait = WAIT_SECONDS.search(response.text) if response.status_code == 200 else None
            if wait is None:
                return response
            admit = ADMIT_AT.search(response.text)
            if admit and self.c.admit_at is None:
                self.c.admit_at = datetime.fromisoformat(admit.group(1)).timestamp()
            time.sleep(float(wait.group(1)) + 0.05)  # the page re-submits 50 ms after its time
        return response

    def double_click(self):
        """Two POSTs of the same form at once, from the same session (a double click)."""
        twin = requests.Session()
        twin.mount("http://", SourceAddressAdapter(self.c.source_ip))
        twin.cookies.update(self.http.cookies)
        answers: list = [None, None]

        def send(i, http):
            answers[i] = self.request(
                "checkout", "POST", "/shop/checkout/", http=http, data=self.checkout_form()
            )

        other = threading.Thread(target=send, args=(1, twin), daemon=True)
        other.start()
        send(0, self.http)
        other.join(REQUEST_TIMEOUT + 1)
        self.c.double_clicks += 1
        held = [a for a in answers if a is not None and self._held(a)]
        self.c.holds = max(self.c.holds, len(held))
        return held[0] if held else answers[0]

    @staticmethod
    def _held(response) -> bool:
        return response.status_code == 302 and "/shop/test-payment/" in response.headers.get(
            "Location", ""
        )

    def pay(self, location: str) -> bool:
        path = urlsplit(location).path
        page = self.request("payment page", "GET", path)
        match = CSRF_INPUT.search(page.text)
        token = match.group(1) if match else self.csrf
        paid = self.request(
            "pay",
            "POST",
            path,
            data={
                "csrfmiddlewaretoken": token,
                "name": f"Collector {self.c.n}",
                "line1": f"{self.c.n} Gallery Road",
                "city": "London",
                "postal_code": "E1 6AN",
                "card": "4242424242424242",
                "pay": "1",
            },
        )
        return paid.status_code == 302 and "paid=1" in paid.headers.get("Location", "")

    def run(self, drop_id: int) -> None:
        c = self.c
        # The drop page comes from the CDN (checked publicly cacheable once, in main); its script
        # joins the queue and waits for this collector's turn.
        if self.join_queue(drop_id) is None:
            c.outcome = f"error: no ticket (join HTTP {c.join_status})"
            return
        page = self.request("page", "GET", f"/artworks/{c.work.slug}/")
        if page.status_code != 200:
            c.outcome = f"error: artwork page {page.status_code}"
            return
        # The cached page carries no token: the browser's script asks for one (core.csrf).
        token = self.request("token", "GET", "/csrf/")
        if token.status_code != 200:
            c.outcome = f"error: token {token.status_code}"
            return
        self.csrf = token.json()["token"]
        message = self.add_to_cart(c.quantity)
        if c.quantity > 1 and "at most" in message:
            c.refused_two = True
            message = self.add_to_cart(1)
        if "is in your cart" not in message:
            c.outcome = f"refused at cart: {_reason(message)}"
            return
        response = self.checkout()
        location = response.headers.get("Location", "")
        if self._held(response):
            c.holds = max(c.holds, 1)
            c.outcome = "bought" if self.pay(location) else "payment failed"
        elif response.status_code == 302 and location.startswith("/shop/cart/"):
            c.outcome = "refused at checkout: " + _reason(self.notice())
        elif response.status_code == 429:
            c.outcome = "rate-limited"
        else:
            c.outcome = f"error: checkout HTTP {response.status_code}"


def _reason(message: str) -> str:
    """The gist of a refusal: sold, on hold, over the limit, …"""
    text = message.lower()
    for key, reason in (
        ("at most", "over the limit"),
        ("on hold", "on hold"),
        ("sold", "sold"),
        ("can be bought", "not enough left"),
        ("empty", "cart empty"),
        ("coming soon", "not on sale yet"),
    ):
        if key in text:
            return reason
    return message[:60] or "no message"


def probe_floor(base: str, starts_at: datetime, seconds: float, found: list[float]) -> None:
    """A control: ``/healthz/`` (answered before any view, no I/O) every 100 ms while the
    collectors join, so the report shows what this machine gives any request at that moment."""
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter("127.3.0.1"))
    delay = starts_at.timestamp() - time.time()
    if delay > 0:
        time.sleep(delay)
    until = time.time() + seconds
    while time.time() < until:
        started = time.perf_counter()
        try:
            session.get(f"{base}/healthz/", timeout=REQUEST_TIMEOUT)
            found.append(time.perf_counter() - started)
        except requests.RequestException:
            pass
        time.sleep(0.1)


def run_collectors(
    collectors: list[Collector], base: str, drop: Drop, starts_at: datetime, deadline: float
) -> bool:
    """One thread per collector, each sleeping until its arrival; True if all finished in time."""
    start = starts_at.timestamp()

    def arrive(collector: Collector) -> None:
        delay = start + collector.arrive_at - time.time()
        if delay > 0:
            time.sleep(delay)
        try:
            Browser(collector, base, deadline).run(drop.pk)
        except Exception as error:  # a failed request is a result to report, not a crash
            collector.outcome = f"error: {type(error).__name__}: {error}"[:120]
        collector.finished_at = time.time()

    threads = [
        threading.Thread(target=arrive, args=(c,), daemon=True, name=f"collector-{c.n}")
        for c in collectors
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    unfinished = [t for t in threads if t.is_alive()]
    for collector, thread in zip(collectors, threads, strict=True):
        if thread.is_alive():
            collector.outcome = "unfinished"
    return not unfinished


# --- checks and report --------------------------------------------------------------------------
def database_check(drop: Drop) -> dict[str, int]:
    from django.db import connection
    from django.db.models import Count
    from django.db.models.functions import Lower

    from artworks.models import ArtworkUnit
    from shop.models import Order, OrderLine
    from shop.models.orders import PAID_STATUSES

    ids = [w.pk for w in drop.works]
    paid = OrderLine.objects.filter(artwork_id__in=ids, order__payment_status__in=PAID_STATUSES)
    units_sold = ArtworkUnit.objects.filter(artwork_id__in=ids, sold_at__isnull=False).count()
    shared_units = paid.values("unit").annotate(n=Count("order", distinct=True)).filter(n__gt=1)
    per_work = dict(paid.values_list("artwork").annotate(n=Count("pk")))
    over_units = sum(max(0, per_work.get(w.pk, 0) - w.units) for w in drop.works)
    per_collector = (
        paid.annotate(collector=Lower("order__email"))
        .values("collector", "artwork")
        .annotate(n=Count("pk"))
        .filter(n__gt=PER_COLLECTOR_LIMIT)
    )
    result = {
        "units sold": units_sold,
        "paid lines": paid.count(),
        "oversold": shared_units.count() + over_units,
        "over limit": sum(row["n"] - PER_COLLECTOR_LIMIT for row in per_collector),
        "paid orders": Order.objects.filter(payment_status__in=PAID_STATUSES).count(),
        "unpaid orders": Order.objects.exclude(payment_status__in=PAID_STATUSES).count(),
    }
    connection.close()
    return result


def ranks(values: list[float]) -> list[float]:
    """Ranks from 1, ties sharing their average rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    result = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            result[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return result


def spearman(x: list[float], y: list[float]) -> float:
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    return cov / var if var else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report(
    args,
    drop: Drop,
    collectors: list[Collector],
    starts_at,
    finished: bool,
    floor: list[float],
    in_worker: list[float],
) -> bool:
    units = sum(w.units for w in drop.works)
    db = database_check(drop)
    outcomes = Counter(c.outcome for c in collectors)
    statuses = Counter(status for c in collectors for _, status, _ in c.log)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    rate_limited = statuses[429]
    by_step: dict[str, list[float]] = defaultdict(list)
    for c in collectors:
        for step, _, seconds in c.log:
            by_step[step].append(seconds)
    purchase = [s for step in PURCHASE_STEPS for s in by_step[step]]
    double_holds = sum(1 for c in collectors if c.double_click and c.holds > 1)
    bought = [c for c in collectors if c.outcome == "bought"]
    wanted: dict[int, set[str]] = defaultdict(set)
    for c in collectors:
        wanted[c.work.pk].add(c.email)
    # What can sell at most: each work's units, or fewer if fewer people want it.
    sellable = sum(min(w.units, len(wanted[w.pk])) for w in drop.works)

    print()
    print("Drop day — gunicorn + PostgreSQL + Redis on 127.0.0.1")
    print(
        f"  {len(collectors)} collectors arrive within {args.spread:g} s of the start of a drop of "
        f"{len(drop.works)} works ({len(drop.works) - 1} unique, one edition of {EDITION_SIZE}); "
        f"limit {PER_COLLECTOR_LIMIT} per collector and work; entry window "
        f"{args.entry_window} s"
    )
    kinds = Counter(c.kind for c in collectors)
    print(f"  collectors: {dict(kinds)}")
    print(
        f"  gunicorn {args.workers} workers × {args.threads} threads "
        f"({'gthread' if args.threads > 1 else 'sync'}), artspot.settings.dev with DEBUG=false"
    )
    print(
        "  rate limit: ON (checkout 20 POST/min per IP); each person connects from its own "
        "loopback address (127.2.x.y)"
    )
    print(
        f"  units sold            {db['units sold']} of {units} available"
        + (f" ({sellable} wanted by someone)" if sellable < units else "")
    )
    print(f"  oversold              {db['oversold']}")
    print(f"  over-limit purchases  {db['over limit']}")
    print(f"  5xx answers           {server_errors}")
    print(f"  rate-limited (429)    {rate_limited}")
    greedy = [c for c in collectors if c.kind == "greedy"]
    print(
        f"  asked for 2           {sum(c.refused_two for c in greedy)} of {len(greedy)} refused "
        "at the cart (then asked for 1)"
    )
    doubles = [c for c in collectors if c.double_clicks]
    print(
        f"  double clicks         {sum(c.double_clicks for c in doubles)} pairs of checkout "
        f"POSTs from {len(doubles)} collectors; {double_holds} held twice"
    )
    print(f"  outcomes              {dict(outcomes.most_common())}")
    print(f"  orders                {db['paid orders']} paid, {db['unpaid orders']} not paid")
    print(f"  requests              {sum(statuses.values())} {dict(sorted(statuses.items()))}")
    if purchase:
        print(
            f"  purchase path latency p50 {ms(percentile(purchase, 0.5))}, "
            f"p99 {ms(percentile(purchase, 0.99))} "
            f"(add to cart, checkout and pay POSTs: {len(purchase)} requests)"
        )
    for step in ("join", "status", "page", "add", "cart", "checkout", "payment page", "pay"):
        if by_step[step]:
            values = by_step[step]
            print(
                f"    {step:<13} n={len(values):<4} p50 {ms(percentile(values, 0.5)):>8}  "
                f"p99 {ms(percentile(values, 0.99)):>8}  max {ms(max(values)):>8}"
            )
    start = starts_at.timestamp()
    ends = [c.finished_at for c in collectors if c.finished_at]
    if ends:
        busy = max(ends) - start
        print(
            f"  throughput            {sum(statuses.values()) / busy:.0f} requests/s "
            f"(the last collector finished {busy:.1f} s after the start)"
        )
    window_end = start + args.entry_window
    # The queue: every collector who arrives in the window should hold a ticket inside it.
    arrived = [c for c in collectors if c.arrive_at < args.entry_window]
    ticketed = [c for c in arrived if c.ticket_at is not None and c.ticket_at < window_end]
    joins = by_step["join"]
    join_p50 = percentile(joins, 0.5) if joins else float("nan")
    join_p99 = percentile(joins, 0.99) if joins else float("nan")
    print(
        f"  tickets in the window {len(ticketed)} of {len(arrived)} collectors who arrived in it "
        f"(+0 to +{args.entry_window} s) held a ticket before it closed"
    )
    if joins:
        print(
            f"  ticket request        n={len(joins)} p50 {ms(join_p50)}, p99 {ms(join_p99)}, "
            f"max {ms(max(joins))} (target p99 < 100 ms)"
        )
    if in_worker:
        print(
            f"    in the worker       n={len(in_worker)} p50 {ms(percentile(in_worker, 0.5))}, "
            f"p99 {ms(percentile(in_worker, 0.99))} (gunicorn's own time, without the backlog)"
        )
    if floor:
        print(
            f"  control: /healthz/    n={len(floor)} p50 {ms(percentile(floor, 0.5))}, "
            f"p99 {ms(percentile(floor, 0.99))} while the collectors joined (no I/O: the "
            "machine's floor for any request then)"
        )
    placed = [c for c in collectors if c.position is not None]
    rho = (
        spearman([c.arrive_at for c in placed], [float(c.position) for c in placed])
        if len(placed) > 2
        else float("nan")
    )
    print(
        f"  queue order           {len(placed)} places; Spearman(arrival, place) = {rho:+.3f} "
        "(0: arrival order does not matter); "
        f"admitted at {args.admit_rate:g}/s in batches of {args.admit_batch}"
    )
    mean_percentile = float("nan")
    early = 0
    if bought:
        arrival_rank = ranks([c.arrive_at for c in collectors])
        percentiles = [(arrival_rank[c.n] - 0.5) / len(collectors) for c in bought]
        mean_percentile = sum(percentiles) / len(percentiles)
        early = sum(1 for p in percentiles if p < 0.25)
        print(
            f"  buyers' mean arrival percentile {mean_percentile:.2f} "
            f"(0.50 ± 0.10: no edge for arriving first); {early} of {len(bought)} buyers were in "
            "the first quarter to arrive"
        )
    print(f"  finished in time      {'yes' if finished else 'NO'}")
    sold_ok = db["units sold"] == sellable
    fair = (
        len(ticketed) == len(arrived)
        and bool(joins)
        and join_p99 < 0.1
        and abs(mean_percentile - 0.5) <= 0.1
    )
    ok = (
        finished
        and sold_ok
        and db["units sold"] == db["paid lines"]
        and db["oversold"] == 0
        and db["over limit"] == 0
        and double_holds == 0
        and server_errors == 0
        and rate_limited == 0
        and fair
    )
    figures = {
        "collectors": len(collectors),
        "spread_seconds": args.spread,
        "entry_window_seconds": args.entry_window,
        "gunicorn": {"workers": args.workers, "threads": args.threads},
        "admit_per_second": args.admit_rate,
        "admit_batch": args.admit_batch,
        "units": units,
        "units_sold": db["units sold"],
        "oversold": db["oversold"],
        "over_limit": db["over limit"],
        "server_errors": server_errors,
        "rate_limited": rate_limited,
        "double_holds": double_holds,
        "arrived_in_window": len(arrived),
        "tickets_in_window": len(ticketed),
        "ticket_ms": {
            "n": len(joins),
            "p50": round(join_p50 * 1000, 1),
            "p99": round(join_p99 * 1000, 1),
            "max": round(max(joins) * 1000, 1) if joins else None,
        },
        "ticket_ms_in_worker": {
            "n": len(in_worker),
            "p50": round(percentile(in_worker, 0.5) * 1000, 1) if in_worker else None,
            "p99": round(percentile(in_worker, 0.99) * 1000, 1) if in_worker else None,
        },
        "healthz_ms_during_joins": {
            "n": len(floor),
            "p50": round(percentile(floor, 0.5) * 1000, 1) if floor else None,
            "p99": round(percentile(floor, 0.99) * 1000, 1) if floor else None,
        },
        "load_average": os.getloadavg()[0],
        "spearman_arrival_place": round(rho, 4),
        "buyers": len(bought),
        "buyers_mean_arrival_percentile": round(mean_percentile, 4),
        "buyers_in_first_quarter": early,
        "steps_ms": {
            step: {
                "n": len(values),
                "p50": round(percentile(values, 0.5) * 1000, 1),
                "p99": round(percentile(values, 0.99) * 1000, 1),
            }
            for step, values in sorted(by_step.items())
        },
        "outcomes": dict(outcomes),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "finished": finished,
        "pass": ok,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"  figures written to    {args.json}")
    return ok


def main() -> int:
    args = parse_args()
    var_dir = Path(tempfile.mkdtemp(prefix="artspot-bench-drop-"))
    (var_dir / "static").mkdir()  # whitenoise looks for collected static files
    env = server_env(args, var_dir)
    os.environ.update(env)
    log = var_dir / "gunicorn.log"
    gunicorn = None
    ok = False
    try:
        print(
            f"Creating {admin_url(args.database_url)[1]}, emptying {args.redis_url} …", flush=True
        )
        recreate_database(args.database_url)
        redis.Redis.from_url(args.redis_url).flushdb()
        drop = build_data(args)
        from django.db import connection

        connection.close()
        print(f"Starting gunicorn ({args.workers} workers × {args.threads} threads) …", flush=True)
        access_log = var_dir / "access.log"
        gunicorn, base = start_gunicorn(
            env, log, workers=args.workers, threads=args.threads, access_log=access_log
        )
        for work in drop.works:  # a live site has its renditions already
            requests.get(f"{base}/artworks/{work.slug}/", timeout=REQUEST_TIMEOUT)
        collectors = plan_collectors(args, drop.works)
        starts_at = start_drop_in(drop, args.lead)
        # The drop page is served by the CDN: the same copy for everyone, if it may be shared.
        page = requests.get(f"{base}{drop.url}", timeout=REQUEST_TIMEOUT)
        cache_control = page.headers.get("Cache-Control", "")
        print(f"Drop page: {page.status_code}, Cache-Control: {cache_control}", flush=True)
        if "public" not in cache_control or f"/drop-queue/{drop.pk}/join/" not in page.text:
            raise SystemExit("The drop page is not publicly cacheable or has no queue on it.")
        deadline = time.monotonic() + args.lead + args.time_limit
        print(
            f"The drop opens in {args.lead:g} s; {len(collectors)} collectors arrive in the "
            f"first {args.spread:g} s …",
            flush=True,
        )
        floor: list[float] = []
        prober = threading.Thread(
            target=probe_floor, args=(base, starts_at, args.spread, floor), daemon=True
        )
        prober.start()
        finished = run_collectors(collectors, base, drop, starts_at, deadline)
        in_worker = server_times(access_log, r"/drop-queue/\d+/join/")
        ok = report(args, drop, collectors, starts_at, finished, floor, in_worker)
        if not ok:
            print(f"\ngunicorn log (tail):\n{log.read_text(errors='replace')[-3000:]}")
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: S110 - Django may not have been set up
            pass
        if not args.keep_db:
            drop_database(args.database_url)
            redis.Redis.from_url(args.redis_url).flushdb()  # the queued emails, the sessions
        shutil.rmtree(var_dir, ignore_errors=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
