"""Worker memory under a long mix of public pages: RSS after 5,000 and after 20,000 requests.

gunicorn (2 sync workers, ``DEBUG`` off, Redis caches, the page cache on) serves a mix of public
pages: home, browse pages and sorts, every page kind and searches, anonymous (page-cache hits
after a first view) and, for about a quarter, with a session cookie (rendered every time, as for
a signed-in collector). Renditions are made ahead, as a deploy's workers make them. The
resident memory of each worker is read from /proc after a warm-up, after ``--first`` and after
``--second`` requests in all; the growth between the last two is the figure (target: under
20%). Uses the database ``bench/pages.py`` loaded (``--database-url``; run that first, or pass
``--load`` to load it here).

    .venv/bin/python bench/memory.py
    .venv/bin/python bench/memory.py --first 2000 --second 8000
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ROOT, start_gunicorn, stop_gunicorn
from bench.pages import BENCH_VAR, DEFAULT_DB, DEFAULT_REDIS, prepare, server_env

SEARCH_WORDS = ["blue", "red", "sea", "light", "study", "night", "garden", "river", "paper", "oil"]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument("--first", type=int, default=5000)
    parser.add_argument("--second", type=int, default=20000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--load", action="store_true", help="(re)load the database first")
    parser.add_argument("--json", default=str(ROOT / "var" / "bench-memory.json"))
    args = parser.parse_args()
    args.reuse_db = not args.load
    return args


def worker_rss(master_pid: int) -> dict[int, int]:
    """Resident set size (KiB) of each gunicorn worker (children of the master)."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    sizes = {}
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes[int(pid)] = int(line.split()[1])
    return sizes


def addresses(urls: dict[str, str]):
    """Endless mix of (path, signed in): known pages, browse pages and searches. Anonymous
    visitors are answered from the page cache after a page's first view; a quarter of the
    requests carry a session cookie, as a signed-in collector's do, and render every time."""
    fixed = list(urls.values())
    for n in itertools.count():
        yield fixed[n % len(fixed)], n % 4 == 0
        if n % 3 == 0:
            yield f"/artworks/?page={n % 13 + 1}&sort={'price' if n % 2 else 'newest'}", n % 2 == 0
        if n % 5 == 0:
            words = f"{SEARCH_WORDS[n % len(SEARCH_WORDS)]}+{SEARCH_WORDS[n % 7]}"
            yield f"/search/?query={words}", n % 4 == 1


def drive(base: str, source, count: int, connections: int) -> int:
    """Send ``count`` GETs over ``connections`` keep-alive connections; how many failed."""
    parts = urlsplit(base)
    lock = threading.Lock()
    failures = [0]
    remaining = [count]

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while True:
            with lock:
                if remaining[0] <= 0:
                    break
                remaining[0] -= 1
                path, signed_in = next(source)
            conn.request("GET", path, headers={"Cookie": "sessionid=bench"} if signed_in else {})
            response = conn.getresponse()
            response.read()
            if response.status >= 500:
                with lock:
                    failures[0] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures[0]


def main() -> None:
    args = parse_args()
    var_dir = BENCH_VAR
    var_dir.mkdir(parents=True, exist_ok=True)
    urls = prepare(args, var_dir)
    process, base = start_gunicorn(
        server_env(args, var_dir, page_cache=True), var_dir / "gunicorn.log", workers=2
    )
    source = addresses(urls)
    figures: dict[str, object] = {}
    try:
        started = time.monotonic()
        failures = drive(base, source, args.warmup, args.connections)
        figures["after_warmup"] = worker_rss(process.pid)
        failures += drive(base, source, args.first - args.warmup, args.connections)
        figures[f"after_{args.first}"] = worker_rss(process.pid)
        failures += drive(base, source, args.second - args.first, args.connections)
        figures[f"after_{args.second}"] = worker_rss(process.pid)
        figures["seconds"] = round(time.monotonic() - started, 1)
        figures["5xx"] = failures
    finally:
        stop_gunicorn(process)
    first, second = figures[f"after_{args.first}"], figures[f"after_{args.second}"]
    growth = {pid: (second[pid] - first[pid]) / first[pid] for pid in first if pid in second}
    figures["growth"] = growth
    print(f"{'worker':>8} {'warm-up MiB':>12} {args.first:>10} {args.second:>10} {'growth':>8}")
    for pid in first:
        print(
            f"{pid:>8} {figures['after_warmup'].get(pid, 0) / 1024:12.1f} "
            f"{first[pid] / 1024:10.1f} {second.get(pid, 0) / 1024:10.1f} "
            f"{100 * growth.get(pid, 0):7.1f}%"
        )
    print(f"{args.second} requests in {figures['seconds']} s, {figures['5xx']} 5xx")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({"args": vars(args), **figures}, indent=2, default=str))
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
