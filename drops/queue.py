"""Join the queue: a drop's line, in an order drawn at random, let in at the rate the shop serves.

Under a rush the server's own queue (gunicorn's backlog, the CDN's connections) orders requests
by arrival long before Django could draw anything, so the draw has to happen on a request that
costs almost nothing. The cached drop page's script (``js/drop-queue.js``) POSTs to
:func:`drops.views.queue_join` the moment the drop opens; that view reads the drop's schedule
from a per-process copy of the cache and makes one round trip to Redis (a script that counts the
client address and adds one sorted-set member): no database query, no session, no template.
It answers with a **ticket**, a cookie signed for this drop and this start:

    ``dropq`` = signed ``[drop id, ticket id, score]`` (a few drops' tickets, ``|``-separated)

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
  rotate it) are capped at ``DROP_QUEUE_PLACES_PER_ADDRESS`` per drop, counted in Redis when
  a ticket first enters the line; past it the join is refused with a 429 and a message (places
  the shop draws for a collector without a ticket are not capped: see ``drops.entry``);
- the shop binds a ticket to the first session that uses it (``claim``) and keeps it in that
  session: the same ticket in a second browser is refused there, and a session keeps its first
  ticket whatever cookie it later shows.

Redis unreachable: the join still answers with a signed ticket (its place is in the signature)
and says the position is not known yet; the cap cannot count, so it lets the join through. The
shop then admits on the ticket's own time, ``min(score, start + 2W)``: the old randomised entry
window, still random, just not paced. When Redis answers again a ticket missing from the line
takes its place from its signed score (and is counted then).
"""

from __future__ import annotations

import logging
import math
import random
import secrets
import threading
import time
from bisect import bisect_left, insort
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from redis.exceptions import RedisError

from core.client_address import client_address
from core.db_routing import on_primary

logger = logging.getLogger(__name__)

# One cookie for every drop's ticket: CloudFront forwards cookies by exact name (infra/).
COOKIE_NAME = "dropq"
COOKIE_MAX_TICKETS = 4
SCHEDULES_KEY = "drops:queue-schedules"
SCHEDULE_SECONDS = 3600
MEMO_SECONDS = 2.0
_memo: list = [None, 0.0]  # this process's copy of the schedules, and until when it holds
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

    def in_window(self, now: float) -> bool:
        return self.starts_at <= now < self.window_closes

    def expires_in(self, now: float) -> int:
        end = max(self.ends_at or 0, self.starts_at)
        return max(60, int(end - now) + KEEP_SECONDS)


def _load_schedules() -> dict[int, tuple]:
    """Every drop with a queue that has not ended: one query (two with Wagtail's view
    restrictions), from the primary."""
    from .models import DropPage

    with on_primary():
        rows = (
            DropPage.objects.live()
            .public()
            .filter(entry_window_seconds__gt=0)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=timezone.now()))
            .values_list("pk", "starts_at", "ends_at", "entry_window_seconds")
        )
        return {
            pk: (pk, starts_at.timestamp(), ends_at.timestamp() if ends_at else None, window)
            for pk, starts_at, ends_at, window in rows
        }


def schedule_for(drop_id: int) -> Schedule | None:
    """The live, public drop's queue schedule (None: no such drop, ended, or no entry window).

    One cache entry holds every drop's schedule, so an unknown id costs no query either; each
    process keeps it ``MEMO_SECONDS`` (no round trip to Redis in a rush); the database only on a
    miss (the first join after a change, or while the cache is down). Cleared by
    :func:`forget_schedule` on every change to a drop page (other processes follow within
    ``MEMO_SECONDS``).
    """
    moment = time.monotonic()
    schedules, until = _memo
    if schedules is None or moment >= until:
        schedules = cache.get(SCHEDULES_KEY)
        if schedules is None:
            schedules = _load_schedules()
            cache.set(SCHEDULES_KEY, schedules, SCHEDULE_SECONDS)
        _memo[:] = [schedules, moment + MEMO_SECONDS]
    found = schedules.get(drop_id)
    return Schedule(*found) if found else None


def schedule_of(drop) -> Schedule:
    """A drop page's schedule, from the instance in hand."""
    return Schedule(
        drop.pk,
        drop.starts_at.timestamp(),
        drop.ends_at.timestamp() if drop.ends_at else None,
        drop.entry_window_seconds,
    )


def forget_schedule(sender, instance, **kwargs) -> None:
    """Signal receiver: a drop page changed; the cached schedules are out of date."""
    _memo[:] = [None, 0.0]
    cache.delete(SCHEDULES_KEY)


# --- The line: Redis, or a sorted list in this process for the embedded default -----------------


class Line(Protocol):
    def place(self, key: str, member: str, score: float, ttl: int) -> tuple[int, int]:
        """Put ``member`` in line at ``score`` unless it is there; its rank and the line's size."""

    def join(
        self, key: str, member: str, score: float, ttl: int, counter: str, cap: int
    ) -> tuple[int, int] | None:
        """:meth:`place`, counting a member new to the line on ``counter``: past ``cap`` (if
        any) it is not placed (None). One round trip to Redis."""

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

    # KEYS: the line, the counter. ARGV: member, score, ttl, cap (0: none).
    JOIN = """
    local rank = redis.call('ZRANK', KEYS[1], ARGV[1])
    if rank then return {rank, redis.call('ZCARD', KEYS[1])} end
    local count = redis.call('INCR', KEYS[2])
    redis.call('EXPIRE', KEYS[2], ARGV[3])
    if tonumber(ARGV[4]) > 0 and count > tonumber(ARGV[4]) then return {-1, count} end
    redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
    redis.call('EXPIRE', KEYS[1], ARGV[3])
    return {redis.call('ZRANK', KEYS[1], ARGV[1]), redis.call('ZCARD', KEYS[1])}
    """

    def join(
        self, key: str, member: str, score: float, ttl: int, counter: str, cap: int
    ) -> tuple[int, int] | None:
        client = self._client()
        try:
            script = client.register_script(self.JOIN)
            rank, size = script(
                keys=[f"{self.PREFIX}{key}:line", f"{self.PREFIX}{key}:count:{counter}"],
                args=[member, repr(score), ttl, cap],
            )
        except (RedisError, OSError) as error:
            raise QueueUnavailable(str(error)) from error
        return None if int(rank) < 0 else (int(rank), int(size))

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
        self._counts: dict[tuple[str, str], int] = {}

    def place(self, key: str, member: str, score: float, ttl: int) -> tuple[int, int]:
        with self._lock:
            line = self._lines.setdefault(key, [])
            scores = self._scores.setdefault(key, {})
            if member not in scores:
                scores[member] = score
                insort(line, (score, member))
            return bisect_left(line, (scores[member], member)), len(line)

    def join(
        self, key: str, member: str, score: float, ttl: int, counter: str, cap: int
    ) -> tuple[int, int] | None:
        with self._lock:
            if member not in self._scores.get(key, {}):
                count = self._counts[key, counter] = self._counts.get((key, counter), 0) + 1
                if cap and count > cap:
                    return None
        return self.place(key, member, score, ttl)

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


def _tokens(request: HttpRequest) -> list[str]:
    value = request.COOKIES.get(COOKIE_NAME, "")
    if len(value) > 300 * COOKIE_MAX_TICKETS:
        return []
    return [token for token in value.split("|") if token][-COOKIE_MAX_TICKETS:]


def ticket_from_cookie(request: HttpRequest, schedule: Schedule) -> Ticket | None:
    """This browser's ticket for the drop, if its cookie holds a genuine one."""
    for token in _tokens(request):
        ticket = unsign(schedule, token)
        if ticket is not None:
            return ticket
    return None


def set_ticket_cookie(
    request: HttpRequest, response: HttpResponse, schedule: Schedule, ticket: Ticket, now: float
) -> None:
    """Add the ticket to the browser's cookie, keeping its tickets for other drops."""
    others = [token for token in _tokens(request) if unsign(schedule, token) is None]
    tokens = [*others[-(COOKIE_MAX_TICKETS - 1) :], sign(schedule, ticket)]
    response.set_cookie(
        COOKIE_NAME,
        "|".join(tokens),
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


_last_warning = [0.0]


def _warn_outage(error: Exception) -> None:
    """One log line per process every 10 s while the line is down, not one per request."""
    moment = time.monotonic()
    if moment - _last_warning[0] >= 10:
        _last_warning[0] = moment
        logger.warning("Drop queue: the line is unavailable (%s); admitting on ticket time.", error)


def standing(schedule: Schedule, ticket: Ticket, now: float) -> Place:
    """Where ``ticket`` stands; on the ticket's own time alone when the line does not answer."""
    try:
        rank, size = line().place(schedule.key, ticket.id, ticket.score, schedule.expires_in(now))
    except QueueUnavailable as error:
        _warn_outage(error)
        return _unplaced(schedule, ticket, now)
    return _placed(schedule, ticket, rank, size, now)


def _placed(schedule: Schedule, ticket: Ticket, rank: int, size: int, now: float) -> Place:
    admit_at = admission_for(schedule, ticket.score, rank)
    ahead = max(0, rank - admitted_count(schedule, now))
    return Place(admit_at, rank + 1, size, ahead, now >= schedule.window_closes, now)


def _unplaced(schedule: Schedule, ticket: Ticket, now: float) -> Place:
    """Without the line: the ticket's own moment, position unknown."""
    floor = min(ticket.score, schedule.starts_at + 2 * schedule.window)
    return Place(floor, None, None, None, now >= schedule.window_closes, now)


class PlaceRefused(Exception):
    """This client address has taken as many places in the drop's queue as it may."""


def register(request: HttpRequest, schedule: Schedule, ticket: Ticket, now: float) -> Place:
    """Where a queue ticket stands, putting it in line if it is new there (one round trip): a
    new place counts against its client address, and past ``DROP_QUEUE_PLACES_PER_ADDRESS``
    raises :class:`PlaceRefused`. While the line does not answer: the ticket's own moment, and
    no cap (it applies once Redis answers and the ticket is registered)."""
    cap = max(0, int(settings.DROP_QUEUE_PLACES_PER_ADDRESS))
    ttl, address = schedule.expires_in(now), client_address(request)
    try:
        placed = line().join(schedule.key, ticket.id, ticket.score, ttl, address, cap)
    except QueueUnavailable as error:
        _warn_outage(error)
        return _unplaced(schedule, ticket, now)
    if placed is None:
        raise PlaceRefused
    return _placed(schedule, ticket, *placed, now)


def drained(schedule: Schedule, now: float) -> bool:
    """Whether the pace has let in everyone in line (a newcomer would not wait)."""
    if now < schedule.starts_at + 2 * schedule.window:
        return False
    try:
        return admitted_count(schedule, now) >= line().size(schedule.key)
    except QueueUnavailable:
        return True  # after the randomised start, without the line: first come, first served
