"""The small threaded HTTP server that `FakeStripe` and `FakeShipStation` are built on.

Each fake listens on 127.0.0.1 on a free port, answers from a background thread, keeps its state
in memory behind one lock, and logs every request it receives in `.requests`.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass
class Request:
    """One incoming HTTP request, as the fake's `handle` sees it."""

    method: str
    path: str
    query: str
    headers: Message
    body: bytes


@dataclass
class Response:
    """What the fake answers: a JSON-serialisable body (or raw bytes) with status and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class RecordedRequest:
    """A logged request: what the client sent and how the fake answered."""

    method: str
    path: str
    query: dict[str, Any]
    params: Any
    headers: dict[str, str]
    idempotency_key: str | None = None
    status: int | None = None
    replayed: bool = False


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    # HTTP/1.0: one request per connection, so no handler thread outlives `stop()` on keep-alive.
    protocol_version = "HTTP/1.0"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Request(self.command, split.path, split.query, self.headers, body)
        response = self.server.fake._dispatch(request)
        payload = response.payload()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; `.requests` is the log."""


class FakeServer:
    """Start/stop, URL, request log, thread-safety and failure injection shared by the fakes."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        # Tracebacks of bugs inside the fake itself; the pytest fixtures fail the test on any.
        self.errors: list[str] = []
        self._failures: list[tuple[int, int | None]] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. ``http://127.0.0.1:54321``."""
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 and serve from a daemon thread."""
        if self._httpd is not None:
            return self
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=type(self).__name__,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port. Safe to call twice."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- test controls ---------------------------------------------------------------------
    def fail_next(self, n: int = 1, status: int = 503, retry_after: int | None = None) -> None:
        """Answer the next `n` requests with `status` (429 always carries `Retry-After`).

        The failed requests are logged like any other, with their status.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        with self.lock:
            self._failures.extend([(status, retry_after)] * n)

    def calls(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Logged requests, optionally only those with this method and/or exact path."""
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    # --- for subclasses --------------------------------------------------------------------
    def record(self, request: Request) -> RecordedRequest:
        """Build the log entry for a request. Must not raise on malformed input."""
        raise NotImplementedError

    def handle(self, request: Request, record: RecordedRequest) -> Response:
        """Answer one request; called with `self.lock` held."""
        raise NotImplementedError

    def failure_response(self, status: int, retry_after: int | None) -> Response:
        """The body and headers of an injected failure."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response(status, {"error": "injected failure"}, headers)

    def _dispatch(self, request: Request) -> Response:
        with self.lock:
            try:
                record = self.record(request)
                self.requests.append(record)
                if self._failures:
                    response = self.failure_response(*self._failures.pop(0))
                else:
                    response = self.handle(request, record)
                record.status = response.status
            except Exception:  # a bug in the fake: answer 500 and let the fixture report it
                self.errors.append(traceback.format_exc())
                response = Response(500, {"error": "the fake server crashed; see fake.errors"})
            return response


def header_dict(headers: Mapping[str, str] | Message) -> dict[str, str]:
    """Headers as a plain dict (original capitalisation)."""
    return dict(headers.items())
