"""Public pages against a static file of the same size, served by the same gunicorn.

For each public page kind (home, browse, artwork, artist, collections, stories, drops, search,
sitemap …) and ``--runs`` runs:

* **cold**: one request at a time right after the caches are emptied (Redis: renditions, offers,
  menus; no page cache), ``--cold`` samples: p50 / p99 in ms;
* **warm**: the server with the page cache off, under load (every request renders the page from
  warm caches): req/s, p50, p99;
* **page cache**: the same server with the page cache on (every request after the first is a
  hit): req/s, p50, p99;
* **static**: a static file (WhiteNoise) with the page's own bytes, under the same load, on the
  same server, in the same run: the ratios are page req/s over static req/s.

Queries per page (cold and warm) are counted in this process with Django's test client.

Load: ``wrk`` (``-c`` connections, 2 threads) when installed, else a small Python generator
(threads with keep-alive connections). Server: gunicorn, 2 sync workers, ``DEBUG`` off, Redis for
the caches, its own database (``--database-url``, name containing ``bench``) and Redis database,
on 127.0.0.1 only. Prints a table and writes JSON (``--json``).

    .venv/bin/python bench/pages.py                        # 3 runs, 5 s per measurement
    .venv/bin/python bench/pages.py --runs 1 --duration 2 --kinds home browse artwork
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    ROOT,
    make_renditions_ahead,
    percentile,
    recreate_database,
    start_gunicorn,
    stop_gunicorn,
)

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/artspot_bench_pages"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
# Media (originals and renditions), collected static files and logs of the benchmark's site.
BENCH_VAR = ROOT / "var" / "bench-pages"
KINDS = [
    "home",
    "browse",
    "browse_filtered",
    "artwork",
    "artists",
    "artist",
    "collections",
    "collection",
    "stories",
    "story",
    "drops",
    "drop",
    "search",
    "sitemap",
]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--cold", type=int, default=10, help="cold samples per page and run")
    parser.add_argument("--kinds", nargs="*", default=KINDS, choices=KINDS)
    parser.add_argument("--reuse-db", action="store_true", help="keep a database already loaded")
    parser.add_argument(
        "--no-renditions",
        action="store_true",
        help="load the demo without making its renditions (pages show the originals; quicker)",
    )
    parser.add_argument("--json", default=str(ROOT / "var" / "bench-pages.json"))
    parser.add_argument("--python-load", action="store_true", help="ignore wrk even if present")
    args = parser.parse_args()
    if "bench" not in urlsplit(args.database_url).path:
        parser.error("refusing to re-create a database whose name lacks 'bench'")
    if urlsplit(args.redis_url).path.strip("/") in ("", "0"):
        parser.error("refusing to empty Redis database 0; give the benchmark one of its own")
    return args


def server_env(args: argparse.Namespace, var_dir: Path, page_cache: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_TASK_ALWAYS_EAGER",)}
    env.update(
        DJANGO_SETTINGS_MODULE="artspot.settings.dev",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        ARTSPOT_VAR_DIR=str(var_dir),
        DEBUG="false",
        LOG_LEVEL="WARNING",
        RATELIMIT_ENABLE="false",
        PUBLIC_CACHE_SECONDS="300",
        PAGE_CACHE_SECONDS="600" if page_cache else "0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    return env


# --- data and the page addresses ----------------------------------------------------------------


def prepare(args: argparse.Namespace, var_dir: Path) -> dict[str, str]:
    """Migrate, load the demo (renditions made ahead), collect static; the URL of each kind."""
    os.environ.update(server_env(args, var_dir, page_cache=False))
    import django

    django.setup()
    from django.core.management import call_command

    if getattr(args, "no_renditions", False):
        os.environ["RENDITIONS_AHEAD"] = "false"
    if not args.reuse_db:
        recreate_database(args.database_url)
        call_command("migrate", verbosity=0, interactive=False)
        started = time.monotonic()
        call_command("load_demo", verbosity=0)
        made = "without" if getattr(args, "no_renditions", False) else "with"
        print(f"load_demo ({made} renditions): {time.monotonic() - started:.0f} s", flush=True)
    if not getattr(args, "no_renditions", False):
        images, seconds = make_renditions_ahead()
        print(f"renditions made ahead for {images} images: {seconds:.0f} s", flush=True)
    call_command("collectstatic", verbosity=0, interactive=False)

    from artists.models import ArtistIndexPage, ArtistPage
    from artworks.models import Artwork
    from curations.models import ArtworkCollectionPage, CollectionIndexPage
    from drops.models import DropIndexPage, DropPage
    from home.models import HomePage
    from stories.models import StoryIndexPage, StoryPage

    work = Artwork.objects.public().order_by("pk").first()
    home = HomePage.objects.get(depth=2)
    return {
        "home": home.url,
        "browse": "/artworks/",
        "browse_filtered": "/artworks/?medium=painting&sort=price",
        "artwork": f"/artworks/{work.slug}/",
        "artists": ArtistIndexPage.objects.live().first().url,
        "artist": ArtistPage.objects.live().filter(pk=work.artist_id).first().url,
        "collections": CollectionIndexPage.objects.live().first().url,
        "collection": ArtworkCollectionPage.objects.live().first().url,
        "stories": StoryIndexPage.objects.live().first().url,
        "story": StoryPage.objects.live().first().url,
        "drops": DropIndexPage.objects.live().first().url,
        "drop": DropPage.objects.live().first().url,
        "search": "/search/?query=blue",
        "sitemap": "/sitemap.xml",
    }


def count_queries(urls: dict[str, str]) -> dict[str, dict[str, int]]:
    """Queries of each page in this process: cold (caches emptied) and warm (second view)."""
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    counts = {}
    client = Client(HTTP_HOST="127.0.0.1")
    for kind, url in urls.items():
        for alias in ("default", "renditions"):
            caches[alias].clear()
        with CaptureQueriesContext(connection) as cold:
            status = client.get(url).status_code
        with CaptureQueriesContext(connection) as warm:
            client.get(url)
        counts[kind] = {"cold": len(cold), "warm": len(warm), "status": status}
    return counts


def write_static_twins(urls: dict[str, str], static_root: Path) -> dict[str, str]:
    """A static file with each page's own bytes, for WhiteNoise to serve: its URL."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    folder = static_root / "bench"
    folder.mkdir(parents=True, exist_ok=True)
    twins = {}
    for kind, url in urls.items():
        body = client.get(url).content
        (folder / f"{kind}.html").write_bytes(body)
        twins[kind] = f"/static/bench/{kind}.html"
    return twins


# --- load ------------------------------------------------------------------------------------


def wrk(url: str, duration: float, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50": ms("50%"),
        "p99": ms("99%"),
        "errors": int(errors.group(1)) if errors else 0,
    }


def python_load(url: str, duration: float, connections: int) -> dict[str, float]:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine = []
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status >= 400:
                errors[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 0.5) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "errors": errors[0],
    }


def drain(base: str, limit: float = 30.0) -> None:
    """Wait until the server has answered what the last load left queued (healthz is quick)."""
    parts = urlsplit(base)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=limit)
        started = time.perf_counter()
        conn.request("GET", "/healthz/")
        conn.getresponse().read()
        conn.close()
        if time.perf_counter() - started < 0.05:
            return


def cold(base: str, url: str, samples: int, redis_url: str) -> dict[str, float]:
    """One request at a time, each after the caches are emptied."""
    import redis

    store = redis.Redis.from_url(redis_url)
    parts = urlsplit(base)
    timings = []
    for _ in range(samples):
        store.flushdb()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        started = time.perf_counter()
        conn.request("GET", url)
        conn.getresponse().read()
        timings.append((time.perf_counter() - started) * 1000)
        conn.close()
    return {"p50": statistics.median(timings), "p99": percentile(timings, 0.99)}


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    load = python_load if args.python_load or not shutil.which("wrk") else wrk
    var_dir = BENCH_VAR
    if not args.reuse_db:
        shutil.rmtree(var_dir, ignore_errors=True)
    var_dir.mkdir(parents=True, exist_ok=True)
    urls = prepare(args, var_dir)
    urls = {kind: urls[kind] for kind in args.kinds}
    queries = count_queries(urls)
    from django.conf import settings

    twins = write_static_twins(urls, Path(settings.STATIC_ROOT))
    results: dict[str, list[dict]] = {kind: [] for kind in urls}
    logs = var_dir / "gunicorn.log"
    for run in range(args.runs):
        for page_cache in (False, True):
            process, base = start_gunicorn(server_env(args, var_dir, page_cache), logs, workers=2)
            try:
                for kind, url in urls.items():
                    row = results[kind][run] if page_cache else {}
                    if not page_cache:
                        row["cold"] = cold(base, url, args.cold, args.redis_url)
                        row["warm"] = load(base + url, args.duration, args.connections)
                        drain(base)
                        row["static_warm"] = load(
                            base + twins[kind], args.duration, args.connections
                        )
                        drain(base)
                        results[kind].append(row)
                    else:
                        load(base + url, 1, 2)  # fill the page cache
                        drain(base)
                        row["cached"] = load(base + url, args.duration, args.connections)
                        drain(base)
                        row["static_cached"] = load(
                            base + twins[kind], args.duration, args.connections
                        )
                        drain(base)
                    shown = {k: v for k, v in row.items() if k != "cold"}
                    print(f"run {run + 1} {kind}: {json.dumps(shown)}", flush=True)
            finally:
                stop_gunicorn(process)
    report(results, queries, args)


def _median(rows: list[dict], part: str, field: str) -> float:
    return statistics.median(row[part][field] for row in rows)


def _ratio(page: float, static: float) -> float:
    return page / static if static else float("nan")


def report(results: dict, queries: dict, args: argparse.Namespace) -> None:
    raw = Path(args.json).with_suffix(".raw.json")
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps({"queries": queries, "runs": results}, indent=2))
    table = []
    for kind, rows in results.items():
        warm_ratio = statistics.median(
            _ratio(r["warm"]["rps"], r["static_warm"]["rps"]) for r in rows
        )
        hit_ratio = statistics.median(
            _ratio(r["cached"]["rps"], r["static_cached"]["rps"]) for r in rows
        )
        table.append(
            {
                "page": kind,
                "queries_cold": queries[kind]["cold"],
                "queries_warm": queries[kind]["warm"],
                "cold_p50_ms": _median(rows, "cold", "p50"),
                "cold_p99_ms": _median(rows, "cold", "p99"),
                "warm_rps": _median(rows, "warm", "rps"),
                "warm_p50_ms": _median(rows, "warm", "p50"),
                "warm_p99_ms": _median(rows, "warm", "p99"),
                "hit_rps": _median(rows, "cached", "rps"),
                "hit_p50_ms": _median(rows, "cached", "p50"),
                "hit_p99_ms": _median(rows, "cached", "p99"),
                "static_rps": _median(rows, "static_cached", "rps"),
                "miss_ratio": warm_ratio,
                "hit_ratio": hit_ratio,
                "errors": sum(
                    r[p]["errors"] for r in rows for p in ("warm", "cached", "static_warm")
                ),
            }
        )
    head = (
        f"{'page':16} {'q cold':>6} {'q warm':>6} {'cold p50':>9} {'warm r/s':>9} "
        f"{'warm p99':>9} {'hit r/s':>8} {'hit p50':>8} {'hit p99':>8} {'static':>8} "
        f"{'miss %':>7} {'hit %':>6}"
    )
    print(f"\nmedian of {args.runs} run(s), {args.connections} connections, times in ms")
    print(head)
    for row in table:
        print(
            f"{row['page']:16} {row['queries_cold']:6d} {row['queries_warm']:6d} "
            f"{row['cold_p50_ms']:9.1f} {row['warm_rps']:9.1f} {row['warm_p99_ms']:9.1f} "
            f"{row['hit_rps']:8.0f} {row['hit_p50_ms']:8.2f} {row['hit_p99_ms']:8.2f} "
            f"{row['static_rps']:8.0f} {100 * row['miss_ratio']:6.1f}% "
            f"{100 * row['hit_ratio']:5.1f}%"
        )
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(
        json.dumps({"args": vars(args), "pages": table, "runs": results}, indent=2)
    )
    print(f"\nJSON: {args.json}")


if __name__ == "__main__":
    main()
