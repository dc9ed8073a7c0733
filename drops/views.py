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

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from . import subscriptions
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
