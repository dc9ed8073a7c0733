"""Run the project as a separate process, the way a newcomer or production would run it."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Variables the test settings put into this process's environment; a child starts without them.
_TEST_ONLY = ("DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER", "DJANGO_SETTINGS_MODULE")


def clean_env(**overrides: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in _TEST_ONLY and not k.startswith("PYTEST")
    }
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


@contextmanager
def serve(env: dict[str, str], log: Path | None = None) -> Iterator[str]:
    """Serve the site with ``runserver`` (as ``make run`` does) and yield its base URL.

    As ``make run`` does, the site's address (``WAGTAILADMIN_BASE_URL``) is the served one unless
    ``env`` names another. With ``log``, the server's stdout and stderr (requests, tracebacks,
    console emails) are written to that file.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    output = log.open("w") if log else None
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env={"WAGTAILADMIN_BASE_URL": base, **env},
        stdout=output or subprocess.DEVNULL,
        stderr=output or subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz/", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    reason = log.read_text() if log else process.stderr.read()
                    raise RuntimeError(f"server did not start: {reason}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        if output:
            output.close()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET a URL; return status and body, for error statuses too."""
    try:
        request = urllib.request.Request(url, headers=headers or {})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
