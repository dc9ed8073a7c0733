"""Checkout race: many collectors try to buy a few works at the same moment, over real HTTP.

    .venv/bin/python bench/checkout_race.py [--buyers 200] [--works 10] [--workers N]

What it does, from nothing to a report, then cleans up after itself:

1. creates its own PostgreSQL database (``artspot_bench`` by default; dropped and re-created,
   so the name must contain "bench"), migrates it and adds minimal data with the project's
   factories: ``works - 1`` unique works and one edition of 10;
2. starts gunicorn (``artspot.wsgi``, ``artspot.settings.dev`` with ``DEBUG=false``, several
   sync workers) on 127.0.0.1 only;
3. each buyer has its own HTTP session: it opens the work's page (for the CSRF token) and puts
   the work in its cart; then all buyers POST ``/shop/checkout/`` at once from a thread pool;
4. prints holds granted, units available, oversold (must be 0), 5xx answers (must be 0),
   checkout starts (POSTs answered) per second and the p50/p99 latency of the checkout POST;
   checks the database agrees; kills gunicorn and drops the database.

The checkout view is rate-limited to 20 POSTs a minute per IP address. The limiter stays on:
each buyer connects from its own loopback address (127.1.x.y; Linux routes all of 127/8 to
the loopback interface), as real buyers come from their own addresses. A 429 is counted and
reported, never hidden.

Exit status 0 only if every buyer finished within the time limit, nothing was oversold, no
request got a 5xx and (unless ``--same-address``) no buyer was rate-limited.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import requests
from harness import (
    CHECKOUT_ADDRESS,
    SourceAddressAdapter,
    admin_url,
    drop_database,
    percentile,
    recreate_database,
    start_gunicorn,
    stop_gunicorn,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EDITION_SIZE = 10
REQUEST_TIMEOUT = 30


# --- setup ------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buyers", type=int, default=200, help="concurrent buyers (200)")
    parser.add_argument("--works", type=int, default=10, help="works on sale, one an edition (10)")
    parser.add_argument(
        "--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers"
    )
    parser.add_argument(
        "--concurrency", type=int, default=50, help="requests in flight at once (50)"
    )
    parser.add_argument("--time-limit", type=float, default=180, help="seconds for the run (180)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/artspot_bench"
        ),
        help="the database to (re)create; its name must contain 'bench'",
    )
    parser.add_argument("--keep-db", action="store_true", help="do not drop the database after")
    parser.add_argument(
        "--same-address",
        action="store_true",
        help="all buyers from 127.0.0.1 (shows the per-IP rate limit refusing them)",
    )
    args = parser.parse_args()
    if args.works < 2 or args.buyers < 1:
        parser.error("--works must be at least 2 (one edition and a unique work), --buyers >= 1")
    if "bench" not in urlsplit(args.database_url).path:
        parser.error("refusing to drop and re-create a database whose name lacks 'bench'")
    return args


def server_env(database_url: str) -> dict[str, str]:
    """What both this process (for Django) and gunicorn run with."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="artspot.settings.dev",
        DATABASE_URL=database_url,
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    return env


@dataclass(frozen=True)
class Work:
    pk: int
    slug: str
    title: str
    units: int


def build_data(works: int) -> list[Work]:
    """Migrate, then ``works - 1`` unique works and one edition of 10 (factories, no images)."""
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)

    from artworks.factories import ArtworkFactory
    from artworks.models import Medium

    made = [
        ArtworkFactory(title=f"Bench unique {n + 1}", price=Decimal(900 + 100 * n), images=0)
        for n in range(works - 1)
    ]
    made.append(
        ArtworkFactory(
            title="Bench edition",
            medium=Medium.PRINT,
            is_edition=True,
            edition_size=EDITION_SIZE,
            max_per_order=2,
            price=Decimal("250.00"),
            images=0,
        )
    )
    return [Work(a.pk, a.slug, a.title, a.units.count()) for a in made]


# --- buyers -----------------------------------------------------------------------------------
def buyer_ip(n: int, same_address: bool = False) -> str:
    return "127.0.0.1" if same_address else f"127.1.{n // 250}.{n % 250 + 1}"


@dataclass
class Buyer:
    n: int
    work: Work
    session: requests.Session
    csrf: str = ""
    statuses: list[int] = field(default_factory=list)
    outcome: str = "not run"  # held / refused / rate-limited / error: … / unfinished
    latency: float | None = None


def new_buyer(n: int, work: Work, same_address: bool) -> Buyer:
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(buyer_ip(n, same_address)))
    return Buyer(n, work, session)


def prepare(buyer: Buyer, base: str) -> None:
    """Open the work's page, fetch a CSRF token as its script does, put the work in the cart."""
    page = buyer.session.get(f"{base}/artworks/{buyer.work.slug}/", timeout=REQUEST_TIMEOUT)
    buyer.statuses.append(page.status_code)
    if page.status_code != 200:
        raise RuntimeError(f"artwork page answered {page.status_code}")
    token = buyer.session.get(f"{base}/csrf/", timeout=REQUEST_TIMEOUT)
    buyer.statuses.append(token.status_code)
    if token.status_code != 200:
        raise RuntimeError(f"the token endpoint answered {token.status_code}")
    buyer.csrf = token.json()["token"]
    added = buyer.session.post(
        f"{base}/shop/cart/add/",
        {"artwork": buyer.work.pk, "quantity": 1, "csrfmiddlewaretoken": buyer.csrf},
        allow_redirects=False,
        timeout=REQUEST_TIMEOUT,
    )
    buyer.statuses.append(added.status_code)
    if added.status_code != 302:
        raise RuntimeError(f"add to cart answered {added.status_code}")


def check_out(buyer: Buyer, base: str) -> None:
    started = time.perf_counter()
    response = buyer.session.post(
        f"{base}/shop/checkout/",
        {"email": f"buyer{buyer.n}@bench.test", "country": "GB", **CHECKOUT_ADDRESS,
         "csrfmiddlewaretoken": buyer.csrf},
        allow_redirects=False, timeout=REQUEST_TIMEOUT,
    )  # fmt: skip
    buyer.latency = time.perf_counter() - started
    buyer.statuses.append(response.status_code)
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/shop/test-payment/" in location:
        buyer.outcome = "held"
    elif response.status_code == 302 and location.startswith("/shop/cart/"):
        buyer.outcome = "refused"
    elif response.status_code == 429:
        buyer.outcome = "rate-limited"
    else:
        buyer.outcome = f"error: HTTP {response.status_code}"


def run_phase(
    buyers: list[Buyer], step, base: str, concurrency: int, deadline: float
) -> tuple[float, bool]:
    """Run `step` for every buyer on a pool; (seconds taken, whether all finished in time)."""
    started = time.perf_counter()
    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="buyer")
    gate = threading.Event()  # all requests are queued before the first one is sent

    def go(buyer: Buyer) -> None:
        gate.wait()
        try:
            step(buyer, base)
        except Exception as error:  # a failed request is a result to report, not a crash
            buyer.outcome = f"error: {type(error).__name__}: {error}"[:200]

    futures = [pool.submit(go, buyer) for buyer in buyers]
    gate.set()
    _, pending = wait(futures, timeout=max(0.0, deadline - time.monotonic()))
    pool.shutdown(wait=False, cancel_futures=True)
    return time.perf_counter() - started, not pending


# --- checks and report ------------------------------------------------------------------------
def database_check(works: list[Work]) -> dict[int, tuple[int, int]]:
    """Per work: (orders holding or owning its units, units whose hold points at two orders)."""
    from django.db.models import Count

    from shop.models import FulfilmentStatus, OrderLine

    live = OrderLine.objects.exclude(order__fulfilment_status=FulfilmentStatus.CANCELLED)
    result = {}
    for work in works:
        lines = live.filter(artwork_id=work.pk)
        shared_units = (
            lines.values("unit").annotate(orders=Count("order", distinct=True)).filter(orders__gt=1)
        )
        result[work.pk] = (lines.values("order").distinct().count(), shared_units.count())
    return result


def report(args, works: list[Work], buyers: list[Buyer], seconds: float, finished: bool) -> bool:
    from django.db import connection

    units = sum(work.units for work in works)
    held = [b for b in buyers if b.outcome == "held"]
    outcomes = Counter(b.outcome for b in buyers)
    statuses = Counter(status for b in buyers for status in b.statuses)
    server_errors = sum(count for status, count in statuses.items() if status >= 500)
    oversold_http = sum(
        max(0, sum(1 for b in held if b.work == work) - work.units) for work in works
    )
    per_work = database_check(works)
    oversold_db = sum(max(0, per_work[w.pk][0] - w.units) + per_work[w.pk][1] for w in works)
    connection.close()
    latencies = [b.latency for b in buyers if b.latency is not None]
    answered = len(latencies)

    print()
    print("Checkout race — gunicorn + PostgreSQL on 127.0.0.1")
    print(
        f"  buyers {len(buyers)} over {len(works)} works ({len(works) - 1} unique, one edition "
        f"of {EDITION_SIZE}); gunicorn {args.workers} sync workers, artspot.settings.dev with "
        f"DEBUG=false; {args.concurrency} requests in flight at most"
    )
    if args.same_address:
        print("  rate limit: ON (checkout 20 POST/min per IP); all buyers share 127.0.0.1")
    else:
        print(
            "  rate limit: ON (checkout 20 POST/min per IP); every buyer connects from its own "
            "loopback address (127.1.x.y), so none of them reaches it"
        )
    print("  cache: in-process per gunicorn worker (no REDIS_URL); sessions in PostgreSQL")
    print(f"  holds granted         {len(held)}")
    print(f"  units available       {units}")
    print(f"  oversold              {oversold_http} (HTTP) / {oversold_db} (database)")
    print(f"  5xx answers           {server_errors}")
    print(f"  refused (sold/held)   {outcomes['refused']}")
    print(f"  rate-limited (429)    {outcomes['rate-limited']}")
    other = {k: v for k, v in outcomes.items() if k not in ("held", "refused", "rate-limited")}
    print(f"  other outcomes        {dict(other) or 'none'}")
    print(
        f"  checkout starts/s     {answered / seconds:.1f} "
        f"({answered} checkout POSTs answered in {seconds:.2f} s)"
    )
    if latencies:
        print(
            f"  checkout POST latency p50 {percentile(latencies, 0.50) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
            f"mean {statistics.fmean(latencies) * 1000:.0f} ms"
        )
    print(f"  finished in time      {'yes' if finished else 'NO'}")
    limited = outcomes["rate-limited"] and not args.same_address  # the run would be distorted
    return (
        finished and oversold_http == 0 and oversold_db == 0 and server_errors == 0 and not limited
    )


def main() -> int:
    args = parse_args()
    env = server_env(args.database_url)
    os.environ.update(env)
    log = Path(tempfile.mkstemp(prefix="artspot-bench-gunicorn-", suffix=".log")[1])
    deadline = time.monotonic() + args.time_limit
    gunicorn = None
    ok = False
    try:
        print(f"Creating {admin_url(args.database_url)[1]} and migrating …", flush=True)
        recreate_database(args.database_url)
        works = build_data(args.works)
        from django.db import connection

        connection.close()
        print(f"Starting gunicorn ({args.workers} workers) …", flush=True)
        gunicorn, base = start_gunicorn(env, log, workers=args.workers)
        deadline = time.monotonic() + args.time_limit  # the clock starts with the buyers
        buyers = [
            new_buyer(n, works[n % len(works)], args.same_address) for n in range(args.buyers)
        ]
        print(f"{len(buyers)} buyers open the works and fill their carts …", flush=True)
        _, prepared = run_phase(buyers, prepare, base, args.concurrency, deadline)
        ready = [b for b in buyers if b.csrf and b.outcome == "not run"]
        print(f"{len(ready)} buyers check out at once …", flush=True)
        seconds, finished = run_phase(ready, check_out, base, args.concurrency, deadline)
        for buyer in buyers:
            if buyer.outcome == "not run":
                buyer.outcome = "unfinished"
        ok = report(args, works, buyers, seconds, prepared and finished)
        if not ok:
            print(f"\ngunicorn log (tail):\n{log.read_text(errors='replace')[-3000:]}")
    finally:
        if gunicorn is not None:
            stop_gunicorn(gunicorn)
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: S110 - Django may not have been set up
                pass
            drop_database(args.database_url)
        log.unlink(missing_ok=True)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
