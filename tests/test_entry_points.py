"""The container's processes (scripts/web, worker, beat, relay, migrate) on this machine.

Each runs exactly as the image runs it (production settings, local PostgreSQL and Redis), starts,
does its work, and stops cleanly on SIGTERM with the work in hand finished. "Work in hand" is made
slow without test-only code: the test holds a PostgreSQL lock on the table the request or task
reads, sees in ``pg_stat_activity`` that the process waits on it, sends SIGTERM, and only then
releases the lock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.support.processes import ROOT, clean_env, fetch, free_port
from tests.support.production import FULL_PRODUCTION_ENV
from tests.support.worker import database_url

# django_db: so pytest-django creates the test database, which the processes share (committed
# demo content); the tests write through their own connections.
pytestmark = [pytest.mark.django_db, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def test_database(django_db_setup, django_db_blocker) -> str:
    """The migrated test database (with the demo content), as a URL for a child process."""
    with django_db_blocker.unblock():
        return database_url()


@pytest.fixture
def production_env(test_database, tmp_path) -> dict[str, str]:
    from django.conf import settings

    return clean_env(
        **{
            **FULL_PRODUCTION_ENV,
            "DATABASE_URL": test_database,
            "REDIS_URL": settings.REDIS_URL,
            "ALLOWED_HOSTS": "127.0.0.1",
        },
        # The image puts its virtualenv first on PATH; here, this interpreter's.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        PYTHONUNBUFFERED="1",
        TMPDIR=str(tmp_path),
        LOG_LEVEL="INFO",
    )


@contextmanager
def started(script: str, env: dict[str, str], log: Path, *args: str) -> Iterator[Process]:
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [str(ROOT / "scripts" / script), *args],
            cwd="/",  # the script finds the project itself
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    process = Process(popen, log)
    try:
        yield process
    finally:
        if popen.poll() is None:
            popen.kill()
            popen.wait(timeout=10)


class Process:
    def __init__(self, popen: subprocess.Popen, log: Path) -> None:
        self.popen, self.log = popen, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.popen.poll() is not None:
                raise AssertionError(f"exited while waiting for {what}:\n{self.output()[-4000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.output()[-4000:]}")
            time.sleep(0.1)

    def wait_for_line(self, text: str, timeout: float = 30) -> None:
        self.wait_for(lambda: text in self.output(), repr(text), timeout)

    def terminate_and_wait(self, timeout: float = 30) -> int:
        self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=timeout)


class TableLock:
    """Holds ACCESS EXCLUSIVE on a table until released: every reader of it waits."""

    def __init__(self, url: str, table: str) -> None:
        self.url, self.table = url, table
        self.holder = psycopg.connect(url)
        self.database = self.holder.info.dbname
        self.holder.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')

    def waiting(self) -> int:
        """Sessions of other processes waiting for a lock in this database."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND wait_event_type = 'Lock' AND pid <> %s",
                (self.database, self.holder.info.backend_pid),
            ).fetchone()
        return row[0]

    def release(self) -> None:
        if not self.holder.closed:
            self.holder.rollback()
            self.holder.close()


@contextmanager
def locked(url: str, table: str) -> Iterator[TableLock]:
    lock = TableLock(url, table)
    try:
        yield lock
    finally:
        lock.release()


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, dict(response.headers), response.read().decode()


def _answers(url: str) -> bool:
    try:
        return fetch(url)[0] == 200
    except OSError:  # not listening yet
        return False


# --- web --------------------------------------------------------------------------------------
def test_web_serves_readyz_and_finishes_a_request_in_flight_on_sigterm(production_env, tmp_path):
    port = free_port()
    env = {**production_env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1"}
    base = f"http://127.0.0.1:{port}"
    with started("web", env, tmp_path / "web.log") as web:
        web.wait_for(lambda: _answers(f"{base}/healthz/"), "/healthz/ to answer")

        request_id = f"deploy-test-{uuid.uuid4().hex}"
        status, headers, body = _get(f"{base}/readyz/", {"X-Request-ID": request_id})
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        # Issue 9: no Server header naming the software or its version.
        server = headers.get("Server", "")
        assert "gunicorn" not in server.lower()
        assert not any(ch.isdigit() for ch in server), server
        # One JSON access log line for it, carrying the request id.
        web.wait_for_line(request_id)
        access = [
            json.loads(line)
            for line in web.output().splitlines()
            if line.startswith("{") and request_id in line
        ]
        assert any(
            a["logger"] == "gunicorn.access" and a["path"] == "/readyz/" and a["status"] == 200
            for a in access
        ), access

        # The image's HEALTHCHECK command answers for this process.
        assert _healthcheck(env) == 0

        # A request slowed by the database is in flight when SIGTERM arrives.
        answer: dict = {}

        def sitemap() -> None:
            try:
                answer["status"], _, answer["body"] = _get(
                    f"{base}/sitemap.xml", {"X-Forwarded-Proto": "https"}
                )
            except Exception as error:
                answer["error"] = error

        with locked(production_env["DATABASE_URL"], "wagtailcore_page") as lock:
            client = threading.Thread(target=sitemap)
            client.start()
            web.wait_for(lambda: lock.waiting() > 0, "the request to wait on the lock")
            web.popen.send_signal(signal.SIGTERM)
            time.sleep(1)
            assert web.popen.poll() is None, "gunicorn quit with a request in flight"
        client.join(timeout=30)
        assert answer.get("status") == 200, answer
        assert "<sitemapindex" in answer["body"]  # the whole answer, after the lock let go
        assert web.popen.wait(timeout=30) == 0, web.output()[-3000:]
        # It stopped listening: a new connection is refused, and the health check says so.
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base}/healthz/", timeout=2)
        assert _healthcheck(env) == 1


def _healthcheck(env: dict[str, str]) -> int:
    return subprocess.run(
        [str(ROOT / "scripts" / "healthcheck")], env=env, capture_output=True, timeout=30
    ).returncode


def test_web_refuses_a_bad_thread_count_with_a_clear_message(production_env, tmp_path):
    env = {**production_env, "PORT": str(free_port()), "GUNICORN_THREADS": "lots"}
    with started("web", env, tmp_path / "web.log") as web:
        assert web.popen.wait(timeout=30) != 0
        assert "GUNICORN_THREADS must be a whole number, not 'lots'" in web.output()


def test_workers_follow_the_containers_cpu_quota(tmp_path):
    from artspot.gunicorn_conf import cpu_count

    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # 1.5 vCPUs
    assert cpu_count(cpu_max) == 2
    cpu_max.write_text("max 100000\n")  # no quota: the CPUs this process may run on
    assert cpu_count(cpu_max) == len(os.sched_getaffinity(0))
    assert cpu_count(tmp_path / "missing") == len(os.sched_getaffinity(0))


# --- worker -----------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_worker_finishes_the_task_in_hand_on_sigterm(production_env, tmp_path):
    from artspot.celery import app

    app.control.purge()  # nothing left over from other tests reaches this worker
    name = f"deploy-{uuid.uuid4().hex[:8]}@%h"
    env = {**production_env, "CELERY_WORKER_CONCURRENCY": "1"}
    with started("worker", env, tmp_path / "worker.log", "-n", name) as worker:
        worker.wait_for_line("ready.", timeout=40)
        with locked(production_env["DATABASE_URL"], "core_outboxmessage") as lock:
            result = app.send_task("core.tasks.prune_outbox")
            worker.wait_for(lambda: lock.waiting() > 0, "the task to wait on the lock")
            worker.popen.send_signal(signal.SIGTERM)
            time.sleep(1)
            assert worker.popen.poll() is None, "the worker quit with a task in hand"
        assert worker.popen.wait(timeout=30) == 0, worker.output()[-3000:]
        assert f"Task core.tasks.prune_outbox[{result.id}] succeeded" in worker.output()


# --- beat -------------------------------------------------------------------------------------
def test_beat_sends_the_schedule_and_stops_on_sigterm(production_env, tmp_path):
    from artspot.celery import app

    try:
        with started("beat", production_env, tmp_path / "beat.log") as beat:
            # The outbox relay is due every 5 seconds.
            beat.wait_for_line("Sending due task relay-outbox", timeout=20)
            # SIGTERM in the middle of the tick that sends it: beat ends that tick, then stops.
            assert beat.terminate_and_wait() == 0, beat.output()[-3000:]
            assert "beat: Shutting down" in beat.output()
            assert "Traceback" not in beat.output()
        assert (tmp_path / "artspot-celerybeat-schedule").exists() or any(
            tmp_path.glob("artspot-celerybeat-schedule*")
        )
    finally:
        app.control.purge()  # what beat sent is for no worker of this test run


# --- relay ------------------------------------------------------------------------------------
def test_relay_finishes_its_pass_on_sigterm(production_env, tmp_path):
    from artspot.celery import app

    url = production_env["DATABASE_URL"]
    # The relay's pass takes every waiting row: the session's own (from loading the demo) are set
    # aside for this test, so the pass is one message, and put back afterwards.
    with psycopg.connect(url) as conn:
        aside = [
            row[0]
            for row in conn.execute(
                "UPDATE core_outboxmessage SET relayed_at = now() WHERE relayed_at IS NULL "
                "RETURNING id"
            )
        ]
        (pk,) = conn.execute(
            "INSERT INTO core_outboxmessage (task, args, kwargs, options, created_at, attempts, "
            "last_error) VALUES ('core.tasks.prune_outbox', '[]', '{}', '{}', now(), 0, '') "
            "RETURNING id"
        ).fetchone()
    try:
        # Locked before the relay starts, so its first pass is the one in flight.
        with (
            locked(url, "core_outboxmessage") as lock,
            started("relay", production_env, tmp_path / "relay.log") as relay,
        ):
            relay.wait_for(lambda: lock.waiting() > 0, "the relay to wait on the lock")
            relay.popen.send_signal(signal.SIGTERM)
            time.sleep(1)
            assert relay.popen.poll() is None, "the relay quit in the middle of a pass"
            lock.release()
            assert relay.popen.wait(timeout=30) == 0, relay.output()[-3000:]
            assert "Relayed 1 message(s)" in relay.output()
            assert "Relay stopped." in relay.output()
        with psycopg.connect(url, autocommit=True) as conn:
            (relayed_at,) = conn.execute(
                "SELECT relayed_at FROM core_outboxmessage WHERE id = %s", (pk,)
            ).fetchone()
        assert relayed_at is not None
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DELETE FROM core_outboxmessage WHERE id = %s", (pk,))
            conn.execute(
                "UPDATE core_outboxmessage SET relayed_at = NULL WHERE id = ANY(%s)", (aside,)
            )
        app.control.purge()


# --- migrate ----------------------------------------------------------------------------------
def test_migrate_applies_migrations_and_exits(production_env):
    result = subprocess.run(
        [str(ROOT / "scripts" / "migrate")],
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "No migrations to apply." in result.stdout
