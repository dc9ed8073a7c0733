"""gunicorn configuration for the web process (``scripts/web`` loads it with
``--config python:artspot.gunicorn_conf``).

Every value comes from the environment with a production default:

* ``HOST`` / ``PORT``: where to listen (``0.0.0.0:8000``; App Runner sets ``PORT``);
* ``WEB_CONCURRENCY``: worker processes (default ``2 * CPUs + 1``, CPUs read from the container's
  cgroup quota, so a 1-vCPU task on a big host does not start dozens of workers);
* ``GUNICORN_THREADS``: threads per worker (4);
* ``GUNICORN_TIMEOUT``: seconds before a silent worker is restarted (30);
* ``GUNICORN_GRACEFUL_TIMEOUT``: on SIGTERM, seconds the requests in flight get to finish (25,
  below the 30 s App Runner and ECS wait before SIGKILL).

Access log: one JSON object per request on stdout, with the request id (``X-Request-ID``).
No ``Server`` header names gunicorn or its version.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path

import gunicorn.http.wsgi
from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

# The Server header names no software or version (gunicorn sends "Server: gunicorn" otherwise).
gunicorn.http.wsgi.SERVER = "ArtSpot"


def _int_env(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def cpu_count(cgroup_cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """CPUs this process may use: the cgroup v2 quota when there is one, else its affinity."""
    try:
        quota, period = cgroup_cpu_max.read_text().split()[:2]
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return len(os.sched_getaffinity(0)) or 1


class JsonLogger(glogging.Logger):
    """gunicorn's logger with JSON lines: the access log (one object per request) and its own."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        for handler in self.error_log.handlers:
            handler.setFormatter(formatter)

    def access(self, resp, req, environ, request_time) -> None:
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in resp.headers}
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING", ""),
            "status": int(status),
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            # django-guid answers with the id it used (the caller's X-Request-ID or a new one).
            "request_id": headers.get("x-request-id") or environ.get("HTTP_X_REQUEST_ID") or "-",
            "remote_addr": environ.get("REMOTE_ADDR", "-"),
            "user_agent": environ.get("HTTP_USER_AGENT", ""),
            "referer": environ.get("HTTP_REFERER", ""),
        }
        try:
            self.access_log.info(json.dumps(line))
        except Exception:  # a log line must never fail a request
            self.exception("Could not write the access log line")


bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{_int_env('PORT', 8000)}"]  # noqa: S104 (in a container)
workers = _int_env("WEB_CONCURRENCY", 2 * cpu_count() + 1)
worker_class = "gthread"
threads = _int_env("GUNICORN_THREADS", 4)
timeout = _int_env("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int_env("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = 5
# A worker is replaced after this many requests (jittered), so a slow leak cannot grow forever.
max_requests = 2000
max_requests_jitter = 200
# The workers' heartbeat files in memory: a container's disk may be slow or read-only.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = JsonLogger
# No control socket (gunicornc): a container has no operator shell, and the default path under
# $HOME would be shared by every gunicorn the same user runs.
control_socket_disable = True
