"""The shop's question at add-to-cart and checkout: may this session buy these works yet?

Collectors who arrive in the first ``entry_window_seconds`` (W) of a drop are not served in the
order their requests arrive, which rewards fast networks and bots. Their place in the drop's line
is drawn at random (``drops.queue``): normally by the cached drop page's script calling the
queue's join endpoint, which costs no database work and so answers inside the window even under
a rush; otherwise here, on the collector's first request to the shop about the drop's works (no
script, or a bot that skipped the page). Either way the place joins the same line, admitted in
the draw's order at the shop's pace, never before ``start + W``; later arrivals queue behind.

A session keeps the first ticket it uses for a drop (``SESSION_KEY``: its drawn place, the score;
``SESSION_IDS``: which ticket), so reloading or showing another browser's cookie changes nothing.
A cookie ticket is bound to the first session that uses it (``queue.Line.claim``): copied into a
second browser, it is refused there and that browser draws a place of its own, now.

Places drawn here are not capped per client address as the join endpoint's are: each needs a
session with a cart (database work), and using one needs a checkout POST, limited to 20 a minute
per address.

Once the randomised start is over and the pace has let everyone in line in, no ticket is needed:
first come, first served.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from . import queue
from .models import DropPage, DropStatus

SESSION_KEY = "drop-tickets"  # drop id -> the score (drawn place) of the session's ticket
SESSION_IDS = "drop-ticket-ids"  # drop id -> [the drop's schedule key, the ticket's id]


def _session_ticket(request, schedule: queue.Schedule) -> queue.Ticket | None:
    drop = str(schedule.drop_id)
    score = request.session.get(SESSION_KEY, {}).get(drop)
    bound = request.session.get(SESSION_IDS, {}).get(drop)
    if score is None or not bound or bound[0] != schedule.key:
        return None  # none yet, or drawn for the drop before its start moved
    return queue.Ticket(schedule.drop_id, bound[1], float(score))


def _bind(request, schedule: queue.Schedule, ticket: queue.Ticket) -> None:
    drop = str(schedule.drop_id)
    request.session[SESSION_KEY] = {**request.session.get(SESSION_KEY, {}), drop: ticket.score}
    request.session[SESSION_IDS] = {
        **request.session.get(SESSION_IDS, {}),
        drop: [schedule.key, ticket.id],
    }


def _owner(request) -> str:
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def _cookie_ticket(request, schedule: queue.Schedule, now: float) -> queue.Ticket | None:
    """The browser's queue ticket, if genuine, for this drop, and not used by another session."""
    ticket = queue.ticket_from_cookie(request, schedule)
    if ticket is None:
        return None
    try:
        owner = queue.line().claim(
            schedule.key, ticket.id, _owner(request), schedule.expires_in(now)
        )
    except queue.QueueUnavailable:
        return ticket  # cannot check while Redis is down: fairness loosens, limits still hold
    return ticket if owner == request.session.session_key else None


def admission(request, artwork_ids: list[int]) -> queue.Place | None:
    """Where this session stands for these works: the latest of its drops' places (None: no
    drop's queue applies, so it may buy now)."""
    moment = timezone.now()
    now = moment.timestamp()
    drops = DropPage.objects.filter(
        drop_artworks__artwork_id__in=artwork_ids, entry_window_seconds__gt=0
    ).distinct()
    latest = None
    for drop in drops:
        if drop.status_at(moment) != DropStatus.LIVE:
            continue
        schedule = queue.schedule_of(drop)
        ticket = _session_ticket(request, schedule)
        if ticket is None:
            if queue.drained(schedule, now):
                continue  # the randomised start is over and nobody waits: first come, first served
            ticket = _cookie_ticket(request, schedule, now) or queue.new_ticket(schedule, now)
            _bind(request, schedule, ticket)
        place = queue.standing(schedule, ticket, now)
        if latest is None or place.admit_at > latest.admit_at:
            latest = place
    return latest


def admission_time(request, artwork_ids: list[int]) -> datetime | None:
    """When this session may check out these works (None when no drop's queue applies)."""
    place = admission(request, artwork_ids)
    return place.admit_datetime if place else None
