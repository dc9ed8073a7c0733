"""Notify me: the subscribe form, one-click subscribe for collectors, and the emailed links.

Mounted at ``/drop-alerts/`` (``/drops/`` is the drop index page in the page tree).

CSRF: the anonymous subscribe form sits on drop pages that CDNs cache and share between visitors,
so it carries no CSRF token and its view is exempt. That is safe because it changes nothing a
forger could use: an address only counts after its owner follows the link we email it. One-click
subscribe for signed-in collectors confirms at once, so it keeps Django's CSRF check (their pages
are never shared). The unsubscribe URL is exempt too: RFC 8058 mail clients POST to it without a
token, and knowing the signed URL is the authority to unsubscribe. Its GET only shows a button,
so link scanners that fetch every URL in an email unsubscribe no one, and likewise the
confirmation link asks for a click before it confirms.
"""

from __future__ import annotations

import math
import secrets

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from . import queue, subscriptions
from .forms import SubscribeForm
from .models import DropPage, DropStatus


def _email_key(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()[:254]


def _drop(drop_id: int) -> DropPage:
    return get_object_or_404(DropPage.objects.live().public(), pk=drop_id)


def _closed_reason(drop: DropPage) -> str:
    status = drop.status
    if status == DropStatus.LIVE:
        return "This drop is already on sale, so there is nothing left to remind you of."
    if status == DropStatus.ENDED:
        return "This drop has ended."
    return ""


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
# Per client address (core.client_address: the collector's, not the proxy's) a burst and an
# hourly ceiling; per email address, so nobody's inbox can be flooded from many addresses.
@ratelimit(key="ip", rate="10/m", method="POST", block=False)
@ratelimit(key="ip", rate="20/h", method="POST", block=False)
@ratelimit(key=_email_key, rate="5/h", method="POST", block=False)
def subscribe(request: HttpRequest, drop_id: int) -> HttpResponse:
    """GET: the form on its own (no-JS fallback, errors). POST: ask for a confirmation email."""
    drop = _drop(drop_id)
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    status = 200
    closed = _closed_reason(drop)
    if request.method == "POST":
        if getattr(request, "limited", False):
            form.add_error(None, "Too many requests. Please wait a few minutes and try again.")
            status = 429
        elif closed:
            form.add_error(None, closed)
            status = 400
        elif form.is_valid():
            subscriptions.subscribe(drop, form.cleaned_data["email"])
            return redirect("drops:check_inbox", drop_id=drop.pk)
        else:
            status = 400
    return TemplateResponse(
        request,
        "drops/alerts/subscribe.html",
        {"drop": drop, "form": form, "closed": closed},
        status=status,
    )


@never_cache
def check_inbox(request: HttpRequest, drop_id: int) -> HttpResponse:
    return TemplateResponse(request, "drops/alerts/check_inbox.html", {"drop": _drop(drop_id)})


@never_cache
@require_POST
@ratelimit(key="user_or_ip", rate="20/m", method="POST", block=False)
def subscribe_me(request: HttpRequest, drop_id: int) -> HttpResponse:
    """One click for a signed-in collector: their account address, confirmed at once."""
    drop = _drop(drop_id)
    if not request.user.is_authenticated:
        return redirect("drops:subscribe", drop_id=drop.pk)
    error = _closed_reason(drop)
    if getattr(request, "limited", False):
        error = "Too many requests. Please wait a minute and try again."
    elif not error and not request.user.email:
        error = "Your account has no email address. Use the form below instead."
    if error:
        form = SubscribeForm()
        form.add_error(None, error)
        return TemplateResponse(
            request,
            "drops/alerts/subscribe.html",
            {"drop": drop, "form": form, "closed": _closed_reason(drop)},
            status=429 if getattr(request, "limited", False) else 400,
        )
    subscription = subscriptions.subscribe(drop, request.user.email, user=request.user)
    if not subscription.is_active:  # accounts are not trusted here: double opt-in
        return redirect("drops:check_inbox", drop_id=drop.pk)
    return redirect(f"{drop.url}#notify")


def _link_error(request: HttpRequest, error: subscriptions.InvalidLink) -> HttpResponse:
    expired = isinstance(error, subscriptions.ExpiredLink)
    return TemplateResponse(
        request,
        "drops/alerts/link_error.html",
        {"message": str(error), "expired": expired},
        status=400 if expired else 404,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button (mail scanners follow links); POST: the subscription counts from now."""
    try:
        subscription = subscriptions.subscription_for_confirm_token(token)
    except subscriptions.InvalidLink as error:
        return _link_error(request, error)
    done = subscription.is_active
    if request.method == "POST":
        subscriptions.confirm(subscription)
        done = True
    return TemplateResponse(
        request,
        "drops/alerts/confirm.html",
        {"subscription": subscription, "drop": subscription.drop, "done": done},
    )


@never_cache
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button. POST (that button, or a mail client's RFC 8058 one-click): unsubscribe."""
    try:
        subscription = subscriptions.subscription_for_unsubscribe_token(token)
    except subscriptions.InvalidLink as error:
        return _link_error(request, error)
    done = subscription.unsubscribed_at is not None
    if request.method == "POST":
        subscriptions.unsubscribe(subscription)
        done = True
    return TemplateResponse(
        request,
        "drops/alerts/unsubscribe.html",
        {"subscription": subscription, "drop": subscription.drop, "done": done},
    )


# --- Join the queue (drops.queue): no database, no session, no template on the JSON path -------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _poll_in(schedule: queue.Schedule, place: queue.Place) -> float | None:
    """When the script should ask again: when the line is final, then when the turn comes."""
    if place.admitted:
        return None
    jitter = secrets.randbelow(1000) / 1000
    if not place.final:
        return round(schedule.window_closes - place.now + jitter * min(3, schedule.window), 3)
    return round(min(place.wait_seconds, 30 if place.position else 5) + jitter / 4, 3)


def _wait_text(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, math.ceil(seconds))} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


def _message(place: queue.Place) -> str:
    if place.admitted:
        return "It is your turn: choose a work and check out."
    if place.position is None:
        return (
            "You have a place in the queue. We cannot count who is ahead of you just now; "
            f"your turn comes in about {_wait_text(place.wait_seconds)}."
        )
    if not place.final:
        return (
            f"You are in the queue: number {place.position} of {place.size} so far. Places are "
            "drawn at random among everyone who joins in the drop's first seconds, so arriving "
            "first gives no edge and this may still change; your turn comes in about "
            f"{_wait_text(place.wait_seconds)}."
        )
    return (
        f"You are number {place.position} in the queue, with {place.ahead} ahead of you; your "
        f"turn comes in about {_wait_text(place.wait_seconds)}."
    )


def _queue_json(schedule: queue.Schedule, place: queue.Place, status: int = 200) -> JsonResponse:
    return JsonResponse(
        {
            "state": "admitted" if place.admitted else "waiting",
            "position": place.position,
            "size": place.size,
            "ahead": place.ahead,
            "final": place.final,
            "wait_seconds": round(place.wait_seconds, 3),
            "admit_at": place.admit_datetime.isoformat(),
            "poll_in": _poll_in(schedule, place),
            "message": _message(place),
        },
        status=status,
    )


def _queue_page(
    request: HttpRequest,
    drop_id: int,
    message: str,
    status: int = 200,
    refresh: float | None = None,
    can_join: bool = False,
) -> HttpResponse:
    """The page without JavaScript: a standalone template (no menus, so no database)."""
    return TemplateResponse(
        request,
        "drops/queue.html",
        {
            "drop_id": drop_id,
            "message": message,
            "refresh": max(2, math.ceil(refresh)) if refresh is not None else None,
            "can_join": can_join,
        },
        status=status,
    )


def _refusal(request: HttpRequest, drop_id: int, state: str, message: str, status: int, **extra):
    if _wants_json(request):
        return JsonResponse({"state": state, "message": message, **extra}, status=status)
    return _queue_page(request, drop_id, message, status, refresh=extra.get("retry_in"))


def _closed(request: HttpRequest, drop_id: int, schedule: queue.Schedule | None, now: float):
    """A refusal when the drop has no queue, is not open yet or has ended; else None."""
    if schedule is None:
        return _refusal(request, drop_id, "none", "This drop has no queue.", 404)
    if now < schedule.starts_at:
        wait = schedule.starts_at - now
        return _refusal(
            request,
            drop_id,
            "not_open",
            f"The queue opens when the drop does, in {_wait_text(wait)}. Keep this page open.",
            409,
            retry_in=round(wait, 3),
        )
    if schedule.ends_at is not None and now >= schedule.ends_at:
        return _refusal(request, drop_id, "closed", "This drop has ended.", 410)
    return None


TOO_MANY = (
    "Too many places in this queue have been taken from your network address. "
    "If you already joined in another browser, use that one."
)


def _too_many(request: HttpRequest, drop_id: int) -> HttpResponse:
    return _refusal(request, drop_id, "refused", TOO_MANY, 429)


def _standing(request, schedule: queue.Schedule, ticket: queue.Ticket, now: float):
    """The ticket's place, put in line first if it is new there (counted per address): one
    Redis round trip. Every ticket drawn in the window is in line before the window closes,
    so no later arrival can cut in front of ranks already read."""
    return queue.register(request, schedule, ticket, now)


@never_cache
@csrf_exempt
@require_POST
def queue_join(request: HttpRequest, drop_id: int) -> HttpResponse:
    """Take a place in the drop's queue (or find the one this browser holds).

    No CSRF token: the page calling it is cached and shared; joining on someone's behalf gives
    the forger nothing (the ticket is the victim's, and one per browser). No database, no
    session: the schedule is memoised, the place drawn and signed into the ticket, and the line
    takes it in one Redis round trip.
    """
    now = timezone.now().timestamp()
    schedule = queue.schedule_for(drop_id)
    refused = _closed(request, drop_id, schedule, now)
    if refused is not None:
        return refused
    ticket = queue.ticket_from_cookie(request, schedule)
    fresh = ticket is None
    if fresh and queue.drained(schedule, now):
        # The rush is over and nobody waits: no place to take, nothing to count.
        message = "There is no queue now: choose a work and check out."
        if _wants_json(request):
            return JsonResponse({"state": "open", "message": message})
        return _queue_page(request, drop_id, message)
    if fresh:
        ticket = queue.new_ticket(schedule, now)
    try:
        place = _standing(request, schedule, ticket, now)
    except queue.PlaceRefused:
        return _too_many(request, drop_id)
    if _wants_json(request):
        response = _queue_json(schedule, place)
    else:
        response = redirect("drop_queue:page", drop_id=drop_id)
        response.status_code = 303
    if fresh:
        queue.set_ticket_cookie(request, response, schedule, ticket, now)
    return response


@never_cache
@require_GET
def queue_status(request: HttpRequest, drop_id: int) -> HttpResponse:
    """Where this browser's ticket stands (JSON, polled by the drop page's script)."""
    now = timezone.now().timestamp()
    schedule = queue.schedule_for(drop_id)
    refused = _closed(request, drop_id, schedule, now)
    if refused is not None:
        return refused
    ticket = queue.ticket_from_cookie(request, schedule)
    if ticket is None:
        return JsonResponse(
            {"state": "no_ticket", "message": "You have no place in this queue yet."}, status=404
        )
    try:
        return _queue_json(schedule, _standing(request, schedule, ticket, now))
    except queue.PlaceRefused:
        return _too_many(request, drop_id)


@never_cache
@require_GET
def queue_page(request: HttpRequest, drop_id: int) -> HttpResponse:
    """The queue without JavaScript: the same standing, on a page that refreshes itself."""
    now = timezone.now().timestamp()
    schedule = queue.schedule_for(drop_id)
    refused = _closed(request, drop_id, schedule, now)
    if refused is not None:
        return refused
    ticket = queue.ticket_from_cookie(request, schedule)
    if ticket is None:
        return _queue_page(request, drop_id, "You have no place in this queue yet.", can_join=True)
    try:
        place = _standing(request, schedule, ticket, now)
    except queue.PlaceRefused:
        return _too_many(request, drop_id)
    return _queue_page(request, drop_id, _message(place), refresh=_poll_in(schedule, place))
