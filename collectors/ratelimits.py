"""Limits on sign-up, sign-in and password reset: per client address and per account.

One owner: these limits, not allauth's own (``ACCOUNT_RATE_LIMITS = False`` in settings). They
count in the same place as every other limit on the site (``core.ratelimits``: the client address
from ``core.client_address``, so a forged ``X-Forwarded-For`` cannot rotate it; the
``ratelimit`` cache alias, which keeps counting per process while Redis is down, where allauth's
would count in the default cache and stop limiting at all; ``RATELIMIT_ENABLE``). Every POST
counts, whether it succeeds or not. Past a limit the view is not run: the answer is a 429 page
saying what happened and how long to wait. django-axes still locks an address out after 10
failed passwords (it guards every sign-in, staff ones included).

The account is the email address typed in the form (lower-cased), so rotating addresses does not
help against one account, and rotating accounts does not help from one address.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers
from django_ratelimit.core import is_ratelimited

from core.ratelimits import over_limit


@dataclass(frozen=True)
class Limit:
    action: str  # "login", "signup", "password_reset"
    field: str  # the form field that names the account
    per_address: tuple[str, ...]
    per_account: tuple[str, ...]
    message: str


LIMITS = {
    "login": Limit(
        "login",
        "login",
        ("5/m", "30/h"),
        ("5/m", "20/h"),
        "Too many sign-in attempts. For your security, please wait a few minutes and try again.",
    ),
    "signup": Limit(
        "signup",
        "email",
        ("5/m", "20/h"),
        ("3/h",),
        "Too many sign-ups from your connection. Please wait a few minutes and try again.",
    ),
    "manage_email": Limit(
        "manage_email",
        "email",
        ("5/m", "20/h"),
        ("3/h",),
        "Too many changes of email in a short time. Please wait a few minutes and try again.",
    ),
    "password_reset": Limit(
        "password_reset",
        "email",
        ("5/m", "20/h"),
        ("3/h",),
        "Too many password reset requests. Please wait a few minutes and try again; "
        "if an email is on its way, it is valid for a few days.",
    ),
}


def _account(request: HttpRequest, field: str) -> str:
    value = request.POST.get(field, "")
    return value.strip().lower()[:254] if isinstance(value, str) else ""


def is_limited(request: HttpRequest, limit: Limit) -> bool:
    """Count this attempt for the address and the account; True when either is over."""
    by_address = over_limit(request, f"collectors.{limit.action}.address", limit.per_address)
    account = _account(request, limit.field)
    by_account = False
    if account:
        results = [
            is_ratelimited(
                request,
                group=f"collectors.{limit.action}.account",
                key=lambda group, request, account=account: account,
                rate=rate,
                increment=True,
            )
            for rate in limit.per_account
        ]
        by_account = any(results)
    return by_address or by_account


def limited(action: str) -> Callable:
    """Wrap a view so that its POSTs are counted and refused past the limits of ``action``."""
    limit = LIMITS[action]

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method == "POST" and is_limited(request, limit):
                response = TemplateResponse(
                    request,
                    "account/rate_limited.html",
                    {"message": limit.message, "action": action},
                    status=429,
                )
                response["Retry-After"] = "60"
                add_never_cache_headers(response)
                return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorate
