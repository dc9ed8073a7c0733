"""Start and stop real Celery worker processes for integration tests.

The worker runs ``python -m celery -A artspot worker --pool=solo`` with the test process's
database and Redis and ``CELERY_TASK_ALWAYS_EAGER=false``, using ``tests.support.worker_settings``
(email to files, optional short visibility timeout). Its log goes to a file, shown on failure.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .processes import ROOT, clean_env


def database_url() -> str:
    """The test database (``test_…``) as a URL a child process can use."""
    from django.db import connection

    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(email_dir: Path, **overrides: str) -> dict[str, str]:
    from django.conf import settings

    return clean_env(
        DJANGO_SETTINGS_MODULE="tests.support.worker_settings",
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="false",
        ARTSPOT_TEST_EMAIL_DIR=str(email_dir),
        LOG_LEVEL="INFO",
        **overrides,
    )


@dataclass
class Worker:
    process: subprocess.Popen
    name: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, nothing acknowledged or requeued on the way out."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def start_worker(env: dict[str, str], log_dir: Path) -> Worker:
    name = f"test-{uuid.uuid4().hex[:8]}@%h"
    log = log_dir / f"worker-{name.split('@')[0]}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "artspot", "worker", "--pool=solo",
             "--concurrency=1", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--loglevel=INFO", "-n", name],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    return Worker(process, name, log)


def wait_for(
    condition: Callable[[], object],
    what: str,
    workers: list[Worker],
    timeout: float = 30,
    interval: float = 0.2,
) -> None:
    """Poll `condition` until true; fail early (with the log) if a worker that should run dies."""
    deadline = time.monotonic() + timeout
    while not condition():
        for worker in workers:
            if not worker.alive():
                raise AssertionError(f"worker exited while waiting for {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            logs = "\n".join(worker.output()[-4000:] for worker in workers)
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")
        time.sleep(interval)


def wait_until_ready(worker: Worker, timeout: float = 40) -> None:
    """The worker consumes from the task queue (so it has declared it on the broker)."""
    from artspot.celery import app

    hostname = worker.name.replace("%h", _hostname())

    def answers() -> bool:
        return bool(app.control.ping(destination=[hostname], timeout=0.5))

    wait_for(answers, f"{hostname} to answer a ping", [worker], timeout=timeout, interval=0)


def _hostname() -> str:
    import socket

    return socket.gethostname()


@contextmanager
def running_workers() -> Iterator[list[Worker]]:
    """Collects the workers a test starts and always kills them at the end."""
    workers: list[Worker] = []
    try:
        yield workers
    finally:
        for worker in workers:
            worker.kill()
