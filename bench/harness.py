"""What the benchmarks share: a throwaway database, gunicorn on loopback, per-client addresses.

Everything binds to 127.0.0.1 (clients to other 127/8 addresses, all on the loopback interface).
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parents[1]


# --- the benchmark's own database --------------------------------------------------------------
def admin_url(database_url: str) -> tuple[str, str]:
    """The same server's ``postgres`` database, and the benchmark database's name."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql", path="/postgres")), parts.path.lstrip("/")


def recreate_database(database_url: str) -> None:
    url, name = admin_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(database_url: str) -> None:
    url, name = admin_url(database_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# A UK delivery address and phone, as the checkout form asks for them.
CHECKOUT_ADDRESS = {
    "name": "Bench Buyer",
    "line1": "1 Quay Street",
    "city": "Bristol",
    "postal_code": "BS1 4DJ",
    "phone": "+44 117 496 0123",
}


# --- gunicorn ------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(
    env: dict[str, str],
    log: Path,
    *,
    workers: int,
    threads: int = 1,
    access_log: Path | None = None,
) -> tuple[subprocess.Popen, str]:
    """Serve ``artspot.wsgi`` on a free loopback port; return the process and its base URL.

    ``access_log``: one line per request, ``METHOD PATH STATUS MICROSECONDS`` (the time spent in
    the worker, without the wait in the backlog), for :func:`server_times`."""
    port = free_port()
    access = (
        ["--access-logfile", str(access_log), "--access-logformat", "%(m)s %(U)s %(s)s %(D)s"]
        if access_log
        else []
    )
    worker_class = ["--worker-class", "gthread", "--threads", str(threads)] if threads > 1 else [
        "--worker-class", "sync"
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "artspot.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), *worker_class, "--backlog", "2048", "--timeout", "60",
             "--error-logfile", "-", "--log-level", "warning", *access],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{base}/healthz/", timeout=2).status_code == 200:
                return process, base
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_gunicorn(process)
            raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def server_times(access_log: Path, path_pattern: str) -> list[float]:
    """Seconds each request whose path matches ``path_pattern`` spent in a worker."""
    import re

    wanted = re.compile(path_pattern)
    times = []
    for line in access_log.read_text(errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 4 and wanted.fullmatch(parts[1]) and parts[3].isdigit():
            times.append(int(parts[3]) / 1_000_000)
    return times


def stop_gunicorn(process: subprocess.Popen) -> None:
    """The master and its workers are one process group: end them all, by that group only."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


# --- clients ------------------------------------------------------------------------------
class SourceAddressAdapter(HTTPAdapter):
    """Connect from a given local address, so each simulated person has an address of its own."""

    def __init__(self, source_ip: str, **kwargs):
        self.source_ip = source_ip
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _make_share(share: list[tuple[str, list[int]]]) -> int:
    from core import renditions

    return sum(renditions.make(ids, role) for role, ids in share)


def make_renditions_ahead(processes: int = 2) -> tuple[int, float]:
    """Every rendition the live site shows, made now in ``processes`` forked processes, as a
    deploy's Celery workers make them after ``load_demo``: the pages measured then never show
    an original in a rendition's place, and no web worker spends its time making them.
    Existing renditions are kept (a second call is quick). Returns images looked at, seconds."""
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections

    from core.demo import rendition_jobs

    started = time.monotonic()
    shares: list[list[tuple[str, list[int]]]] = [[] for _ in range(processes)]
    for role, ids in rendition_jobs().items():
        for n in range(processes):
            shares[n].append((role, ids[n::processes]))
    connections.close_all()  # each forked process opens its own
    with ProcessPoolExecutor(processes) as pool:
        done = sum(pool.map(_make_share, shares))
    return done, time.monotonic() - started
