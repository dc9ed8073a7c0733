"""Forms on pages a shared cache keeps: a token fetched on submit, or a confirmation page.

A page CloudFront may store is the same for every visitor, so its forms carry no CSRF token
(``core.pages`` makes any page that asked for one private). Such a form passes Django's CSRF
check in one of two ways:

- With JavaScript (``artspot/static/js/forms.js``): a form marked ``data-csrf="<token url>"``
  fetches a token from :func:`token` (never cached; it sets the CSRF cookie) when it is
  submitted, and sends it along.
- Without JavaScript, or when that fetch fails: the POST fails the check and Django calls
  :func:`csrf_failure`. For a view declared :func:`confirmable` (add to cart, an enquiry) it
  answers a private page that shows what the visitor sent, carries it in hidden inputs with a
  fresh token, and asks for one click on "Confirm". Nothing has happened yet: the view runs
  only on that click, made on our origin in a page that cannot be framed. Every other view,
  and any request whose ``Origin`` or ``Referer`` names another site, gets a plain 403 page.

Content apps declare their own views; this module knows no domain app.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.middleware.csrf import (
    REASON_CSRF_TOKEN_MISSING,
    REASON_NO_CSRF_COOKIE,
    REASON_NO_REFERER,
    get_token,
)
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from wagtail.models import Page

# Failures a visitor on our own pages meets when the form had no token (a cached page without
# JavaScript), or a token from a cookie that has since changed. A wrong Origin or Referer is
# never among them: that form was sent from another site.
CONFIRMABLE_REASONS = frozenset(
    {REASON_NO_CSRF_COOKIE, REASON_CSRF_TOKEN_MISSING, "CSRF token from POST incorrect."}
)
# Set by the confirmation page's button: failing again means the browser keeps no cookie.
CONFIRMED_FIELD = "csrf_confirm"
# What the confirmation page re-presents: the declared fields only, one value of each (the one
# the view reads), each cut at this length: longer than any of our forms accepts, so the view
# still refuses an overlong value with its own message.
MAX_VALUE_LENGTH = 10_000

_ATTRIBUTE = "csrf_confirmable"
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Confirmable:
    """How to ask a visitor to confirm a form their browser sent without a token."""

    action: str  # the question, without its mark: "Add this work to your cart"
    fields: Mapping[str, str]  # POST name → label shown; "" carries the field without showing it
    describe: Callable[..., str] | None = None  # (request, *args, **kwargs) → what it is about


def confirmable(
    action: str, fields: Mapping[str, str], describe: Callable[..., str] | None = None
) -> Callable[[View], View]:
    """Declare a public form's view safe to confirm when its POST arrives without a token.

    Only for forms on pages a shared cache keeps, whose effect a visitor can see and undo
    (add to cart, send an enquiry); never for checkout, payment, accounts or the admin.
    Works on plain views and on ``RoutablePageMixin`` routes (put it under ``@path``).
    """

    def decorator(view: View) -> View:
        setattr(view, _ATTRIBUTE, Confirmable(action, dict(fields), describe))
        return view

    return decorator


@never_cache
@require_GET
def token(request: HttpRequest) -> JsonResponse:
    """``GET /csrf/`` → ``{"token": …}`` and the CSRF cookie, for one visitor only."""
    return JsonResponse({"token": get_token(request)})


def _route(request: HttpRequest) -> tuple[Confirmable, tuple, dict] | None:
    """The confirmable view the failed POST was meant for, with its URL arguments."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return None
    view, args, kwargs = match.func, match.args, match.kwargs
    if match.url_name == "wagtail_serve":  # a page's own route (RoutablePageMixin)
        path = match.kwargs.get("path", match.args[0] if match.args else "")
        result = Page.route_for_request(request, path)
        if result is None:
            return None
        routed = result.args
        if not (isinstance(routed, tuple) and len(routed) == 3 and callable(routed[0])):
            return None
        view, args, kwargs = routed
    spec = getattr(view, _ATTRIBUTE, None)
    return (spec, tuple(args), dict(kwargs)) if isinstance(spec, Confirmable) else None


def _refused(request: HttpRequest, problem: str) -> HttpResponse:
    response = render(request, "core/csrf_refused.html", {"problem": problem}, status=403)
    add_never_cache_headers(response)
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a confirmation page for declared public forms, else a clear 403."""
    if reason == REASON_NO_REFERER:  # HTTPS, and neither Origin nor Referer was sent
        return _refused(request, "referer")
    if reason not in CONFIRMABLE_REASONS:
        cross_site = reason.startswith(("Origin checking failed", "Referer checking failed"))
        return _refused(request, "cross-site" if cross_site else "token")
    try:
        posted = request.POST if request.method == "POST" else None
    except UnreadablePostError:
        posted = None
    if posted is None:
        return _refused(request, "token")
    if posted.get(CONFIRMED_FIELD):  # sent from our confirmation page, and failed again
        return _refused(request, "cookie" if reason == REASON_NO_CSRF_COOKIE else "token")
    routed = _route(request)
    if routed is None:
        return _refused(request, "token")
    spec, args, kwargs = routed
    carried = [
        (name, label, posted[name][:MAX_VALUE_LENGTH])
        for name, label in spec.fields.items()
        if name in posted
    ]
    about = spec.describe(request, *args, **kwargs) if spec.describe else ""
    response = render(
        request,
        "core/csrf_confirm.html",
        {
            "action": spec.action,
            "about": about,
            "carried": carried,
            "shown": [(label, value) for _name, label, value in carried if label and value],
            "form_action": request.path,
            "confirmed_field": CONFIRMED_FIELD,
        },
        # Nothing was done: this is the refusal, with the way to go on.
        status=403,
    )
    add_never_cache_headers(response)
    response["X-Frame-Options"] = "DENY"  # the Confirm button is never inside any frame
    return response
