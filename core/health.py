"""Readiness checks for /readyz/: each returns (ok, detail) and never raises."""

import time
import uuid
from collections.abc import Callable

from django.core.cache import caches
from django.db import connection

from artspot.celery import app as celery_app

Check = Callable[[], tuple[bool, str]]


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return False, f"{type(exc).__name__}: {exc}".strip()
    return True, connection.vendor


def check_cache() -> tuple[bool, str]:
    # The cache ignores connection errors (a Redis outage must not break pages), so a write
    # followed by a read is the only way to tell that it really works.
    cache = caches["default"]
    key, token = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, token, timeout=10)
        round_trip = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    if round_trip != token:
        return False, "could not write and read back a value"
    return True, type(cache).__module__.split(".")[0]


def check_broker() -> tuple[bool, str]:
    if celery_app.conf.task_always_eager:
        return True, "tasks run in-process (embedded default)"
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, str(transport)


CHECKS: dict[str, Check] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> dict[str, dict]:
    results = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        ok, detail = check()
        results[name] = {
            "ok": ok,
            "detail": detail,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
    return results
