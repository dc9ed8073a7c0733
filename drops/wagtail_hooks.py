"""Drops in the admin: the drop calendar, for everyone who plans drops (Curators, editors).

The calendar lists upcoming and live drops in start order with their sale window in the site's
time zone, their state by the clock and as pages (draft, scheduled, published), how many works
they hold and how many confirmed subscribers wait for them. It reads the drops in one query
(work counts, subscriber counts and schedules are annotations), whatever their number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Count, OuterRef, Q, Subquery
from django.db.models.functions import Cast
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timeuntil
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column, StatusTagColumn, Table, TitleColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton
from wagtail.models import Revision
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.permissions import register_permission_policy

from core.admin_policies import ReadOnlyPermissionPolicy
from core.frontend_cache import PAGES_SHOWING_ARTWORKS

from .models import DropIndexPage, DropPage, DropStatus, DropSubscription

# Page permissions that make someone a drop planner: any of them on the drop index (or above).
PLANNING_ACTIONS = {"add", "change", "publish"}
# The calendar is a planning view, not an archive: more rows than this is a sign of trouble.
MAX_ROWS = 200
NO_COUNT = "—"


def can_plan_drops(user) -> bool:
    """Whether the user may add, edit or publish drop pages (what the calendar is for)."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    policy = PagePermissionPolicy()
    index = DropIndexPage.objects.only("pk", "path", "depth").first()
    if index is None:
        return policy.user_has_any_permission(user, PLANNING_ACTIONS)
    return policy.user_has_any_permission_for_instance(user, PLANNING_ACTIONS, index)


def _subscriber_count():
    """Confirmed, still-subscribed people per drop, as a subquery; None without the model."""
    try:
        subscription = apps.get_model("drops", "DropSubscription")
    except LookupError:
        return None
    fields = {field.name for field in subscription._meta.get_fields()}
    if not {"drop", "confirmed_at", "unsubscribed_at"} <= fields:
        return None
    return Subquery(
        subscription._default_manager.filter(
            drop=OuterRef("pk"), confirmed_at__isnull=False, unsubscribed_at__isnull=True
        )
        .order_by()
        .values("drop")
        .annotate(n=Count("pk"))
        .values("n")
    )


def _scheduled_publish_at():
    """When an approved schedule publishes the page (Wagtail keeps it on the revision)."""
    return Subquery(
        Revision.page_revisions.filter(
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
            approved_go_live_at__isnull=False,
        )
        .order_by("-created_at")
        .values("approved_go_live_at")[:1]
    )


@dataclass(frozen=True)
class CalendarEntry:
    title: str
    edit_url: str
    starts: str
    ends: str
    status: str
    is_live: bool
    page_state: str
    works: int
    subscribers: int | str


def _site_time(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{date_format(local, 'D j M Y, H:i:s')} {local.tzname()}"


def _page_state(drop: DropPage, zone: ZoneInfo) -> str:
    if drop.live:
        return "Published + draft" if drop.has_unpublished_changes else "Published"
    if drop.scheduled_publish_at is not None:
        return f"Scheduled: publishes {_site_time(drop.scheduled_publish_at, zone)}"
    return "Expired" if drop.expired else "Draft"


def calendar_entries(now: datetime | None = None) -> list[CalendarEntry]:
    """Upcoming and live drops in start order (one query for the lot)."""
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    subscribers = _subscriber_count()
    drops = (
        DropPage.objects.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .annotate(
            work_count=Count("drop_artworks", distinct=True),
            scheduled_publish_at=_scheduled_publish_at(),
            **({"subscriber_count": subscribers} if subscribers is not None else {}),
        )
        .order_by("starts_at", "pk")[:MAX_ROWS]
    )
    entries = []
    for drop in drops:
        status = drop.status_at(now)
        if status == DropStatus.UPCOMING:
            label = f"{DropStatus.UPCOMING.label} · starts in {timeuntil(drop.starts_at, now)}"
        else:
            label = DropStatus.LIVE.label
            if drop.ends_at:
                label += f" · ends in {timeuntil(drop.ends_at, now)}"
        entries.append(
            CalendarEntry(
                title=drop.title,
                edit_url=reverse("wagtailadmin_pages:edit", args=[drop.pk]),
                starts=_site_time(drop.starts_at, zone),
                ends=_site_time(drop.ends_at, zone) or "Open-ended",
                status=label,
                is_live=status == DropStatus.LIVE,
                page_state=_page_state(drop, zone),
                works=drop.work_count,
                subscribers=((drop.subscriber_count or 0) if subscribers is not None else NO_COUNT),
            )
        )
    return entries


class DropCalendarView(WagtailAdminTemplateMixin, TemplateView):
    page_title = "Drop calendar"
    header_icon = "date"
    template_name = "drops/admin/calendar.html"

    def dispatch(self, request, *args, **kwargs):
        if not can_plan_drops(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_header_buttons(self):
        index = DropIndexPage.objects.first()
        if index is None or not index.permissions_for_user(self.request.user).can_add_subpage():
            return []
        add_url = reverse("wagtailadmin_pages:add", args=("drops", "droppage", index.pk))
        return [HeaderButton("Add a drop", url=add_url, icon_name="plus")]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entries = calendar_entries()
        context["table"] = Table(
            [
                TitleColumn("title", label="Drop", get_url=lambda entry: entry.edit_url),
                Column("starts", label="Starts"),
                Column("ends", label="Ends"),
                StatusTagColumn("status", label="Sale", primary=lambda entry: entry.is_live),
                Column("page_state", label="Page"),
                Column("works", label="Works"),
                Column("subscribers", label="Subscribers"),
            ],
            entries,
        )
        context["entries"] = entries
        context["truncated"] = len(entries) >= MAX_ROWS
        context["max_rows"] = MAX_ROWS
        context["time_zone"] = settings.TIME_ZONE
        return context


class DropCalendarMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return can_plan_drops(request.user)


@hooks.register("register_admin_urls")
def register_drop_calendar_url():
    return [path("drops/calendar/", DropCalendarView.as_view(), name="drops_calendar")]


@hooks.register("register_admin_menu_item")
def register_drop_calendar_menu_item():
    return DropCalendarMenuItem(
        "Drop calendar", reverse("drops_calendar"), icon_name="date", order=210
    )


@hooks.register(PAGES_SHOWING_ARTWORKS)
def drops_showing(artwork_ids: list[int]):
    """Drop pages that list these works."""
    return DropPage.objects.live().filter(drop_artworks__artwork_id__in=artwork_ids).distinct()


# Read only, for holders of the view permission (Shop managers): see core.admin_policies.
register_permission_policy(
    DropSubscription, ReadOnlyPermissionPolicy(DropSubscription), exact_class=True
)


class DropSubscriptionViewSet(ModelViewSet):
    """Who asked to hear about which drop: read only, for shop managers (customer data)."""

    model = DropSubscription
    icon = "mail"
    menu_label = "Drop subscriptions"
    menu_order = 270
    add_to_admin_menu = True
    url_prefix = "drop-subscriptions"
    list_display = [
        "email",
        Column("drop", accessor="drop.title"),
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
    ]
    list_filter = ["drop"]
    search_fields = ["email"]
    form_fields = ["email"]
    inspect_view_enabled = True
    inspect_view_fields = ["email", "drop", "created_at", "confirmed_at", "unsubscribed_at"]
    copy_view_enabled = False

    def get_queryset(self, request):
        return DropSubscription.objects.select_related("drop").order_by("-created_at")


@hooks.register("register_admin_viewset")
def register_drop_subscriptions():
    return DropSubscriptionViewSet("drop_subscriptions")
