"""Admin sign-in lockouts (django-axes): the page a locked-out client sees, and lifting a lock.

Axes records failed sign-ins in the database (``axes.AccessAttempt``, one row per username,
address and browser) and refuses an address once its failures within the cool-off reach
``AXES_FAILURE_LIMIT`` (see the AXES_* settings in ``artspot.settings.base``). The address is
``core.client_address``'s, so a forged ``X-Forwarded-For`` cannot rotate it.

Superusers see the addresses locked out now under Settings → Sign-in lockouts and can lift a
lock there; ``manage.py axes_reset_ip ADDRESS`` does the same from a shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.client_address import parse_ip

LOCKOUT_TEMPLATE = "axes/lockout.html"


def cool_off() -> timedelta:
    return get_cool_off() or timedelta(0)


def cool_off_words() -> str:
    minutes = round(cool_off().total_seconds() / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_message() -> str:
    return (
        "Too many failed sign-in attempts from your connection. "
        f"Try again in {cool_off_words()} or ask an administrator to lift the lock."
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """``AXES_LOCKOUT_CALLABLE``: the admin sign-in page's look, with the reason and no form."""
    response = render(
        request,
        LOCKOUT_TEMPLATE,
        {"message": lockout_message()},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    add_never_cache_headers(response)
    return response


# --- Lifting a lock in the Wagtail admin --------------------------------------------------------


@dataclass(frozen=True)
class Lockout:
    address: str
    failures: int
    usernames: list[str]
    last_attempt: datetime
    until: datetime


def current_lockouts() -> list[Lockout]:
    """Addresses whose failures within the cool-off reach the limit, latest first."""
    since = timezone.now() - cool_off()
    rows = (
        AccessAttempt.objects.filter(attempt_time__gte=since)
        .values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last_attempt=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last_attempt")
    )
    usernames: dict[str, set[str]] = {}
    for address, username in AccessAttempt.objects.filter(
        attempt_time__gte=since, ip_address__in=[row["ip_address"] for row in rows]
    ).values_list("ip_address", "username"):
        usernames.setdefault(address, set()).add(username or "")
    return [
        Lockout(
            address=row["ip_address"],
            failures=row["failures"],
            usernames=sorted(usernames.get(row["ip_address"], ())),
            last_attempt=row["last_attempt"],
            until=row["last_attempt"] + cool_off(),
        )
        for row in rows
    ]


class LockoutListView(WagtailAdminTemplateMixin, TemplateView):
    """Superusers only: the addresses locked out now, each with a button that lifts its lock."""

    page_title = "Sign-in lockouts"
    header_icon = "warning"
    template_name = "core/admin/lockouts.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["lockouts"] = current_lockouts()
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        context["cool_off"] = cool_off_words()
        return context

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        address = parse_ip(request.POST.get("address", ""))
        if address is None:
            messages.error(request, "That is not an address.")
        elif reset(ip=address):
            messages.success(request, f"Lifted the lock on {address}: it can sign in again.")
        else:
            messages.info(request, f"{address} was not locked out.")
        return redirect("core_lockouts")
