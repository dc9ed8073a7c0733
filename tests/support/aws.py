"""AWS for the test suite: moto's server mode on loopback, reached by boto3 as the real thing.

``moto_server`` starts one ``moto_server`` process per test session on a free loopback port and
yields its endpoint URL. ``aws_env`` points boto3 (and anything built on it) at that server with
dummy credentials, so no request can leave the machine. Each test that uses AWS calls
``reset_moto(endpoint)`` (or the ``moto`` fixture does it) so it starts with no buckets, no sent
mail and no invalidations.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import free_port

REGION = "eu-west-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def _wait_until_up(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.2)


def reset_moto(endpoint: str) -> None:
    """Forget every resource the server holds (moto's own reset API)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=5).close()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """One moto server for the session; yields its endpoint, e.g. ``http://127.0.0.1:51234``."""
    port = free_port()
    executable = Path(sys.executable).with_name("moto_server")
    process = subprocess.Popen(
        [str(executable), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(process, url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def moto(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A freshly reset moto server, with boto3 pointed at it for this test; yields its endpoint."""
    reset_moto(moto_server)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    # Every boto3 client in this process goes to moto, whatever service it is for.
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    assert os.environ["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    return moto_server
