"""Join the queue: a drop's line, in an order drawn at random, let in at the rate the shop serves.

Under a rush the server's own queue (gunicorn's backlog, the CDN's connections) orders requests
by arrival long before Django could draw anything, so the draw has to happen on a request that
costs almost nothing. The cached drop page's script (``js/drop-queue.js``) POSTs to
:func:`drops.views.queue_join` the moment the drop opens; that view reads the drop's schedule
from the cache and writes one sorted-set member in Redis: no database query, no session, no
template. It answers with a **ticket**, a cookie signed for this drop and this start:

    ``dropq-<drop id>`` = signed ``[drop id, ticket id, score]``

The **score** is the place drawn at join time, in seconds since the epoch: a uniformly random
moment in ``[start + W, start + 2W)`` for a join in the entry window (W seconds), and
``join time + W`` after it, so late arrivals queue behind everyone in the window, in the order
they came. The **line** is a Redis sorted set of ticket ids by score; a ticket's rank is its
position. Nobody is admitted before the window closes, then the line moves at
``DROP_QUEUE_ADMIT_PER_SECOND`` in batches of ``DROP_QUEUE_ADMIT_BATCH``: rank *r* is admitted at

    ``max(min(score, start + 2W), start + W + (r // batch) * batch / rate)``

Both terms grow with the score, so admission follows the random draw, never arrival. While the
window is open a rank is provisional (later joiners may draw in front); once it closes it is
final and the estimated wait is exact.

Against abuse:

- a ticket is signed (a forged or edited one is ignored), with a salt naming the drop and its
  start (a ticket for another drop, or for a drop since moved, is ignored too);
- a browser that already holds a valid ticket gets the same one back (no re-draw);
- new tickets per client address (``core.client_address``: a forged ``X-Forwarded-For`` cannot
  rotate it) are capped at ``DROP_QUEUE_PLACES_PER_ADDRESS`` per drop, counted in the fail-open
  rate-limit cache; past it the join is refused with a 429 and a message (places the shop
  draws for a collector without a ticket are not capped: see ``drops.entry``);
- the shop binds a ticket to the first session that uses it (``claim``) and keeps it in that
  session: the same ticket in a second browser is refused there, and a session keeps its first
  ticket whatever cookie it later shows.

Redis unreachable: the join still answers with a signed ticket (its place is in the signature)
and says the position is not known yet; the per-address cap counts per process (the rate-limit
cache's fallback). The shop then admits on the ticket's own time, ``min(score, start + 2W)``: the
old randomised entry window, still random, just not paced. When Redis answers again a ticket
missing from the line takes its place from its signed score.
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import threading
from bisect import bisect_left, insort
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.core.cache import cache, caches
from django.http import HttpRequest, HttpResponse
from redis.exceptions import RedisError

from core.client_address import client_address
from core.db_routing import on_primary

logger = logging.getLogger(__name__)

COOKIE_PREFIX = "dropq-"
SCHEDULE_KEY = "drops:queue-schedule:{}"
SCHEDULE_SECONDS = 3600
MISSING = "missing"  # cached for a drop id that has no queue (unknown, draft, window 0)
KEEP_SECONDS = 3 * 24 * 3600  # a line and its counters outlive the drop's start this long


class QueueUnavailable(Exception):
    """The line's store (Redis) did not answer."""


# --- The drop's schedule, from the cache ---------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """What the queue needs to know about a drop, without the database."""

    drop_id: int
    starts_at: float  # epoch seconds
    ends_at: float | None
    window: int  # the entry window, seconds (> 0: drops without one have no queue)

    @property
    def key(self) -> str:
        """Names this drop at this start: moving the start starts a new line."""
        return f"{self.drop_id}:{self.starts_at:.3f}"

    @property
    def first_admission(self) -> float:
        return self.starts_at + self.window

    @property
    def window_closes(self) -> float:
        return self.starts_at + self.window

    def is_open(self, now: float) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)

    def in_window(self, now: float) -> bool:
        return self.starts_at <= now < self.window_closes

    def expires_in(self, now: float) -> int:
        end = max(self.ends_at or 0, self.starts_at)
        return max(60, int(end - now) + KEEP_SECONDS)


def schedule_for(drop_id: int) -> Schedule | None:
    """The live, public drop's queue schedule (None: no such drop, or it has no entry window).

    Read from the cache; the database only on a miss (the first join after a change, or while
    the cache is down), from the primary. Cleared by :func:`forget_schedule` on every change.
    """
    cached = cache.get(SCHEDULE_KEY.format(drop_id))
    if cached == MISSING:
        return None
    if cached is not None:
        return Schedule(*cached)
    from .models import DropPage

    with on_primary():
        row = (
            DropPage.objects.live()
            .public()
            .filter(pk=drop_id, entry_window_seconds__gt=0)
            .values_list("starts_at", "ends_at", "entry_window_seconds")
            .first()
        )
    if row is None:
        cache.set(SCHEDULE_KEY.format(drop_id), MISSING, SCHEDULE_SECONDS)
        return None
    starts_at, ends_at, window = row
    found = Schedule(
        drop_id, starts_at.timestamp(), ends_at.timestamp() if ends_at else None, window
    )
    cache.set(
        SCHEDULE_KEY.format(drop_id),
        (found.drop_id, found.starts_at, found.ends_at, found.window),
        SCHEDULE_SECONDS,
    )
    return found


def schedule_of(drop) -> Schedule:
    """A drop page's schedule, from the instance in hand."""
    return Schedule(
        drop.pk,
        drop.starts_at.timestamp(),
        drop.ends_at.timestamp() if drop.ends_at else None,
        drop.entry_window_seconds,
    )


def forget_schedule(sender, instance, **kwargs) -> None:
    """Signal receiver: a drop page changed; its cached schedule is out of date."""
    cache.delete(SCHEDULE_KEY.format(instance.pk))


# --- The line: Redis, or a sorted list in this process for the embedded default -----------------


class Line(Protocol):
    def place(self, key: str, member: str, score: float, ttl: int) -> tuple[int, int]:
        """Put ``member`` in line at ``score`` unless it is there; its rank and the line's size."""

    def size(self, key: str) -> int: ...

    def claim(self, key: str, member: str, owner: str, ttl: int) -> str:
        """Bind ``member`` to ``owner`` unless it is bound already; the owner it is bound to."""


class RedisLine:
    """The line as a Redis sorted set (``ZADD NX``, ``ZRANK``, ``ZCARD`` in one round trip)."""

    PREFIX = "artspot:dropq:"

    def _client(self):
        from django_redis import get_redis_connection

        return get_redis_connection("default")

    def place(self, key: str, member: str, score: float, ttl: int) -> tuple[int, int]:
        name = f"{self.PREFIX}{key}:line"
        try:
            pipe = self._client().pipeline(transaction=False)
            pipe.zadd(name, {member: score}, nx=True)
            pipe.zrank(name, member)
            pipe.zcard(name)
            pipe.expire(name, ttl)
            _, rank, size, _ = pipe.execute()
        except (RedisError, OSError) as error:
            raise QueueUnavailable(str(error)) from error
        return int(rank), int(size)

    def size(self, key: str) -> int:
        try:
            return int(self._client().zcard(f"{self.PREFIX}{key}:line"))
        except (RedisError, OSError) as error:
            raise QueueUnavailable(str(error)) from error

    def claim(self, key: str, member: str, owner: str, ttl: int) -> str:
        name = f"{self.PREFIX}{key}:claim:{member}"
        try:
            pipe = self._client().pipeline(transaction=False)
            pipe.set(name, owner, nx=True, ex=ttl)
            pipe.get(name)
            _, bound = pipe.execute()
        except (RedisError, OSError) as error:
            raise QueueUnavailable(str(error)) from error
        return bound.decode() if isinstance(bound, bytes) else str(bound)


class LocalLine:
    """The embedded default's line: one process, no Redis (``make run``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lines: dict[str, list[tuple[float, str]]] = {}
        self._scores: dict[str, dict[str, float]] = {}
        self._claims: dict[tuple[str, str], str] = {}

    def place(self, key: str, member: str, score: float, ttl: int) -> tuple[int, int]:
        with self._lock:
            line = self._lines.setdefault(key, [])
            scores = self._scores.setdefault(key, {})
            if member not in scores:
                scores[member] = score
                insort(line, (score, member))
            return bisect_left(line, (scores[member], member)), len(line)

    def size(self, key: str) -> int:
        with self._lock:
            return len(self._lines.get(key, ()))

    def claim(self, key: str, member: str, owner: str, ttl: int) -> str:
        with self._lock:
            return self._claims.setdefault((key, member), owner)


_local_line = LocalLine()


def line() -> Line:
    return RedisLine() if settings.REDIS_URL else _local_line


# --- Tickets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ticket:
    drop_id: int
    id: str
    score: float  # the place drawn at join time (epoch seconds; see the module docstring)

    def as_list(self) -> list:
        return [self.drop_id, self.id, self.score]


def _salt(schedule: Schedule) -> str:
    return f"drops.queue:{schedule.key}"


def cookie_name(drop_id: int) -> str:
    return f"{COOKIE_PREFIX}{drop_id}"


def sign(schedule: Schedule, ticket: Ticket) -> str:
    return signing.dumps(ticket.as_list(), salt=_salt(schedule), compress=False)


def unsign(schedule: Schedule, value: str | None) -> Ticket | None:
    """The ticket in a cookie value, if it is genuine and for this drop at this start."""
    if not value or len(value) > 300:
        return None
    try:
        drop_id, ticket_id, score = signing.loads(value, salt=_salt(schedule))
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if drop_id != schedule.drop_id or not isinstance(ticket_id, str):
        return None
    if not isinstance(score, int | float) or not math.isfinite(score):
        return None
    return Ticket(drop_id, ticket_id, float(score))


def ticket_from_cookie(request: HttpRequest, schedule: Schedule) -> Ticket | None:
    return unsign(schedule, request.COOKIES.get(cookie_name(schedule.drop_id)))


def set_ticket_cookie(response: HttpResponse, schedule: Schedule, ticket: Ticket, now: float):
    response.set_cookie(
        cookie_name(schedule.drop_id),
        sign(schedule, ticket),
        max_age=schedule.expires_in(now),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


# The draw's source: the operating system's (unpredictable); tests may put a seeded one here.
_random: random.Random = secrets.SystemRandom()


def draw(schedule: Schedule, now: float) -> float:
    """The place drawn for a join at ``now``: random in the window, arrival order after it."""
    if schedule.in_window(now):
        offset = _random.randrange(schedule.window * 1_000_000) / 1_000_000
        return schedule.first_admission + offset
    return max(now, schedule.window_closes) + schedule.window


def new_ticket(schedule: Schedule, now: float) -> Ticket:
    return Ticket(schedule.drop_id, secrets.token_urlsafe(12), draw(schedule, now))


def within_address_cap(request: HttpRequest, schedule: Schedule, now: float) -> bool:
    """Count one more new ticket for this client address; False past the cap."""
    cap = settings.DROP_QUEUE_PLACES_PER_ADDRESS
    if not cap:
        return True
    counters = caches[settings.RATELIMIT_USE_CACHE]
    key = f"dropq:{schedule.key}:addr:{client_address(request)}"
    try:
        counters.add(key, 0, schedule.expires_in(now))
        count = counters.incr(key)
    except Exception:  # a counter that cannot count lets the collector in
        logger.warning("Drop queue: the per-address count failed; letting the join through.")
        return True
    return count <= cap


# --- Where a ticket stands -----------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A ticket's standing at ``now``: what the collector is told."""

    admit_at: float  # epoch seconds
    position: int | None  # 1-based rank in the line (None: the line did not answer)
    size: int | None
    ahead: int | None  # not yet admitted in front of this ticket
    final: bool  # the window has closed: the rank no longer changes
    now: float

    @property
    def admitted(self) -> bool:
        return self.admit_at <= self.now

    @property
    def wait_seconds(self) -> float:
        return max(0.0, self.admit_at - self.now)

    @property
    def admit_datetime(self) -> datetime:
        return datetime.fromtimestamp(self.admit_at, tz=UTC)


def _rate() -> tuple[float, int]:
    return max(0.01, float(settings.DROP_QUEUE_ADMIT_PER_SECOND)), max(
        1, int(settings.DROP_QUEUE_ADMIT_BATCH)
    )


def admitted_count(schedule: Schedule, now: float) -> int:
    """How many ranks the pace has let in by ``now``."""
    if now < schedule.first_admission:
        return 0
    rate, batch = _rate()
    return batch * (math.floor((now - schedule.first_admission) * rate / batch) + 1)


def admission_for(schedule: Schedule, score: float, rank: int) -> float:
    rate, batch = _rate()
    paced = schedule.first_admission + (rank // batch) * batch / rate
    return max(min(score, schedule.starts_at + 2 * schedule.window), paced)


def standing(schedule: Schedule, ticket: Ticket, now: float) -> Place:
    """Where ``ticket`` stands; on the ticket's own time alone when the line does not answer."""
    final = now >= schedule.window_closes
    try:
        rank, size = line().place(schedule.key, ticket.id, ticket.score, schedule.expires_in(now))
    except QueueUnavailable as error:
        logger.warning("Drop queue: the line is unavailable (%s); admitting on ticket time.", error)
        floor = min(ticket.score, schedule.starts_at + 2 * schedule.window)
        return Place(floor, None, None, None, final, now)
    admit_at = admission_for(schedule, ticket.score, rank)
    ahead = max(0, rank - admitted_count(schedule, now))
    return Place(admit_at, rank + 1, size, ahead, final, now)


def drained(schedule: Schedule, now: float) -> bool:
    """Whether the pace has let in everyone in line (a newcomer would not wait)."""
    if now < schedule.starts_at + 2 * schedule.window:
        return False
    try:
        return admitted_count(schedule, now) >= line().size(schedule.key)
    except QueueUnavailable:
        return True  # after the randomised start, without the line: first come, first served
