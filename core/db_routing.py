"""Read replicas: anonymous public pages read from the replica, everything else from the primary.

With ``DATABASE_REPLICA_URL`` set, settings add a ``replica`` database alias and
:class:`ReplicaRouter`. Whether a read may go to the replica is one fact of the current context
(a context variable), and the answer is no unless :class:`ReplicaReadsMiddleware` said yes for
the request being handled. The middleware does so only for an anonymous public page:

- ``GET`` or ``HEAD``, no session cookie and no ``Authorization`` header (a signed-in collector, a
  cart, a flash message or a checkout in progress all live in the session, so they read the
  primary and never meet the replica's lag);
- a path outside ``PRIMARY_DATABASE_PATHS`` (the admin, the shop's cart, checkout, orders and
  webhooks, drop sign-up, health checks).

Everything else reads the primary: other requests, Celery tasks (``task_prerun`` switches it off,
also for a task run eagerly inside a request), the outbox, management commands and anything
outside a request. Every write goes to the primary, and the first statement that changes anything
there (anything but a plain ``SELECT``) *pins* the rest of the context to it, so a request that
wrote reads what it wrote; so does a read inside an open transaction on the primary. Routing a
query for writing does not pin by itself: ``get_or_create`` (Wagtail's site settings on every
page) looks on the primary and only pins if it creates.

If the replica cannot be reached, reads fall back to the primary, with a warning in the log, and
the replica is not tried again for ``REPLICA_RETRY_SECONDS``: a replica outage slows the primary
down, it does not take pages down. (The check is made when a request first reads from the
replica, with Django's connection health check; a replica that dies in the middle of a request
can still fail that one request.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

REPLICA = "replica"
REPLICA_RETRY_SECONDS = 30.0
REPLICA_METHODS = ("GET", "HEAD")


class _Reads:
    """One request's (or block's) answer: may its reads still go to the replica?"""

    __slots__ = ("replica",)

    def __init__(self) -> None:
        self.replica = True


# Set by replica_reads(); None outside it (a task, a command, any other request): the primary.
_reads: ContextVar[_Reads | None] = ContextVar("replica_reads", default=None)
# Inside on_primary(): the primary, whatever the surrounding request may do.
_on_primary: ContextVar[bool] = ContextVar("on_primary", default=False)
_replica_down_until = 0.0


def replica_configured() -> bool:
    return REPLICA in connections.settings


def reads_from_replica_allowed(request: HttpRequest) -> bool:
    """Whether this request is an anonymous read of a public page (see the module docstring)."""
    if request.method not in REPLICA_METHODS:
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
        return False
    return not request.path_info.startswith(tuple(settings.PRIMARY_DATABASE_PATHS))


def _replica_allowed() -> bool:
    reads = _reads.get()
    return reads is not None and reads.replica and not _on_primary.get()


def pin_to_primary(**kwargs: object) -> None:
    """From now on, this request reads the primary (after a write; at a Celery task's start)."""
    reads = _reads.get()
    if reads is not None:
        reads.replica = False


def _pin_on_write(execute, sql, params, many, context):
    """Execute wrapper on the primary: a statement that may change data pins the request."""
    head = sql.lstrip()[:6].upper()
    if head != "SELECT" or " FOR UPDATE" in sql or " FOR SHARE" in sql:
        pin_to_primary()
    return execute(sql, params, many, context)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Let reads in this block go to the replica (what the middleware does for one request),
    until the primary runs a statement that writes."""
    token = _reads.set(_Reads())
    try:
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(_pin_on_write):
            yield
    finally:
        _reads.reset(token)


@contextmanager
def on_primary() -> Iterator[None]:
    """Every read in this block goes to the primary, whatever the surrounding request is."""
    token = _on_primary.set(True)
    try:
        yield
    finally:
        _on_primary.reset(token)


def _replica_usable() -> bool:
    """Connect to the replica if needed; on failure log it and leave it alone for a while."""
    global _replica_down_until
    if time.monotonic() < _replica_down_until:
        return False
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError as error:
        _replica_down_until = time.monotonic() + REPLICA_RETRY_SECONDS
        logger.warning(
            "Read replica unreachable (%s); reading from the primary for %d s",
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
            REPLICA_RETRY_SECONDS,
        )
        return False
    return True


class ReplicaRouter:
    """Reads of an anonymous public page to ``replica``; all else, and every write, to primary."""

    def db_for_read(self, model: type, **hints: object) -> str:
        if not _replica_allowed() or not replica_configured():
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block:
            pin_to_primary()  # a transaction is open on the primary: its reads belong there
            return DEFAULT_DB_ALIAS
        return REPLICA if _replica_usable() else DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: object) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: object, obj2: object, **hints: object) -> bool | None:
        # The replica is a copy of the primary: objects read from either may be related.
        databases = {obj1._state.db, obj2._state.db}  # type: ignore[attr-defined]
        return True if databases <= {DEFAULT_DB_ALIAS, REPLICA} else None

    def allow_migrate(self, db: str, app_label: str, **hints: object) -> bool | None:
        return False if db == REPLICA else None


class ReplicaReadsMiddleware:
    """Lets the reads of an anonymous public page go to the replica, for this request only."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured() or not reads_from_replica_allowed(request):
            return self.get_response(request)
        with replica_reads():
            return self.get_response(request)
