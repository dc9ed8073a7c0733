"""Single-request times of browse, each filter and sort, a deep page, search and an artist page
at 1,000 and at 10,000 works: p50/p99, queries, and how much each grows.

Run by hand (not a test):

    .venv/bin/python bench/scale.py                      # 1,000 then 10,000 works
    .venv/bin/python bench/scale.py --requests 50 --out bench/scale.json

The database (``--database-url``, default ``BENCH_DATABASE_URL`` or ``artspot_scale_bench`` on
127.0.0.1; its name must contain ``bench``) is migrated and given the demo content when it has
none (``--fresh`` starts it again), then grown with the same bulk generator as ``load_demo
--artworks`` (``artworks.catalogue``) to each size in turn, and analysed. Requests go through
Django's test client in this process (``DEBUG`` off, the dev settings, ``REDIS_URL`` from the
environment when set): one request at a time, so the figures are the server's own time for a
page, without the network or a queue. Every rendition the pages show is made ahead (as a
deploy's workers make them); each URL is requested once first (caches warmed), then
``--requests`` times with a parameter no page reads (``_bench=n``), so a page cache, if one is
installed, misses every time.

Targets (issue 12): at 10,000 works browse (any filter, sort or page) and search p50 < 60 ms;
no page slower than 1.5x its time at 1,000 works.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import make_renditions_ahead, percentile, recreate_database  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/artspot_scale_bench"
SIZES = (1_000, 10_000)
BROWSE = {
    "browse": "",
    "sort: price low-high": "sort=price",
    "sort: price high-low": "sort=-price",
    "filter: medium": "medium=ceramics",
    "filter: size": "size=large",
    "filter: orientation": "orientation=square",
    "filter: price range": "price_min=1000&price_max=2000",
    "filter: available": "availability=available",
    "filter: sold": "availability=sold",
    "filter: theme": "tag=coastal",
    "filter: artist": "artist={artist}",
    "combined filters": "medium=painting&availability=available&price_max=9000&sort=price",
    "page 2": "page=2",
}
TARGET_MS = 60.0
GROWTH_LIMIT = 1.5


def setup_django(database_url: str, fresh: bool) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artspot.settings.dev")
    os.environ["DEBUG"] = "false"
    os.environ["RATELIMIT_ENABLE"] = "false"
    # Cache misses are the figure: the origin page cache would answer the clean page whatever
    # parameter is added (core/page_cache.py), so it is off here.
    os.environ["PAGE_CACHE_SECONDS"] = "0"
    if fresh:
        recreate_database(database_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    from artworks.models import ArtworkIndexPage

    if not ArtworkIndexPage.objects.exists():
        print("Loading the demo content (once for this database) …", flush=True)
        call_command("load_demo", verbosity=1)
    # The catalogue's works share the demo's images: every rendition a page shows, made once.
    images, seconds = make_renditions_ahead()
    print(f"Renditions made ahead for {images} images in {seconds:.0f} s", flush=True)


def grow(size: int) -> None:
    from django.db import connection

    from artworks.catalogue import ensure_catalogue

    started = time.monotonic()
    added = ensure_catalogue(size, max(24, size // 10))
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE artworks_artwork, artworks_artworkunit, artworks_artworktag, "
            "artworks_artworkimage, artworks_artworkcontributor, wagtailcore_page, "
            "artists_artistpage, taggit_tag"
        )
    print(f"{size:,} works ({added:,} added in {time.monotonic() - started:.0f} s)", flush=True)


def urls() -> dict[str, str]:
    from django.db.models import Count

    from artists.models import ArtistPage
    from artworks.models import Artwork

    artist = (
        ArtistPage.objects.live()
        .annotate(works=Count("artworks"))
        .order_by("-works", "path")
        .first()
    )
    pages = {
        name: f"/artworks/?{query.format(artist=artist.slug)}".rstrip("?")
        for name, query in BROWSE.items()
    }
    last = max(1, -(-Artwork.objects.public().count() // 24))
    pages["deep page (last)"] = f"/artworks/?page={last}"
    pages["search: painting"] = "/search/?query=painting"
    pages["search: artworks only"] = "/search/?query=harbour&type=artworks"
    pages["artist page (most works)"] = artist.url
    return pages


def measure(pages: dict[str, str], requests: int) -> dict[str, dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    results = {}
    for name, url in pages.items():
        response = client.get(url)  # caches warmed, as on a running site
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        times, sql_times, queries = [], [], 0
        for n in range(requests):
            bust = f"{url}{'&' if '?' in url else '?'}_bench={n}"
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(bust)
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{bust} answered {response.status_code}")
            queries = len(captured)
            sql_times.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        results[name] = {
            "url": url,
            "p50_ms": round(percentile(times, 0.5), 1),
            "p99_ms": round(percentile(times, 0.99), 1),
            "queries": queries,
            "sql_p50_ms": round(percentile(sql_times, 0.5), 1),
        }
        print(
            f"  {name:28} {results[name]['p50_ms']:7.1f} ms p50, "
            f"SQL {results[name]['sql_p50_ms']:6.1f} ms",
            flush=True,
        )
    return results


def report(by_size: dict[int, dict[str, dict]]) -> dict:
    small, large = min(by_size), max(by_size)
    header = f"{'page':28} | " + " | ".join(
        f"{size:>6,}: p50 / p99 ms, q" for size in sorted(by_size)
    )
    print("\n" + header + " | growth (p50)")
    print("-" * len(header) + "-+--------------")
    rows = {}
    for name in by_size[small]:
        cells = []
        for size in sorted(by_size):
            r = by_size[size][name]
            cells.append(f"{r['p50_ms']:>7.1f} / {r['p99_ms']:>7.1f}, {r['queries']:>2}")
        growth = by_size[large][name]["p50_ms"] / max(by_size[small][name]["p50_ms"], 0.1)
        timed = name.startswith(("browse", "sort", "filter", "combined", "page", "deep", "search"))
        slow = timed and by_size[large][name]["p50_ms"] >= TARGET_MS
        flag = " GROWS" if growth > GROWTH_LIMIT else ""
        flag += " SLOW" if slow else ""
        print(f"{name:28} | " + " | ".join(cells) + f" | {growth:5.2f}x{flag}")
        rows[name] = {
            "growth": round(growth, 2),
            "over_target": slow,
            **{str(size): by_size[size][name] for size in by_size},
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--out", default=str(ROOT / "bench" / "scale.json"))
    args = parser.parse_args()
    if "bench" not in args.database_url.rsplit("/", 1)[-1]:
        parser.error("the database's name must contain 'bench' (it is grown, or dropped)")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    setup_django(args.database_url, args.fresh)
    by_size = {}
    for size in sizes:
        grow(size)
        by_size[size] = measure(urls(), args.requests)
    rows = report(by_size)
    out = {
        "sizes": sizes,
        "requests_per_page": args.requests,
        "target_p50_ms": TARGET_MS,
        "growth_limit": GROWTH_LIMIT,
        "load_average": os.getloadavg(),
        "pages": rows,
    }
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"\nWrote {args.out}")


if __name__ == "__main__":
    main()
