"""The shop in the admin: Orders (list, order page, the team's actions) and a dashboard panel.

Orders use wagtail-modeladmin. Only holders of ``shop.change_order`` (superusers included) can
open any of its URLs; the permission is checked before an order is even looked up, so others
cannot learn which order numbers exist. Orders are never added, edited or deleted by hand, so
those URLs are not registered at all; their changes go through the actions on the order page.
"""

from django.contrib.admin import display
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import re_path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail_modeladmin.helpers import AdminURLHelper
from wagtail_modeladmin.options import ModelAdmin, modeladmin_register

from core.money import format_money

from .admin_views import (
    ACTION_VIEWS,
    CreatedRangeFilter,
    OrderIndexView,
    OrderInspectView,
    OrderPermissionHelper,
    QueueFilter,
    can_manage_orders,
    sales_figures,
)
from .models import Order, OrderLine


class OrderURLHelper(AdminURLHelper):
    """Order URLs take the order's integer key only: anything else is not found. (modeladmin's
    ``[-\\w]+`` would hand ``abc`` to the database lookup, which fails with a 500.)"""

    def _get_object_specific_action_url_pattern(self, action):
        return rf"^{self.base_url_path}/{action}/(?P<instance_pk>[0-9]{{1,18}})/$"


class OrderAdmin(ModelAdmin):
    model = Order
    menu_label = "Orders"
    menu_icon = "list-ul"
    menu_order = 250
    permission_helper_class = OrderPermissionHelper
    url_helper_class = OrderURLHelper
    index_view_class = OrderIndexView
    inspect_view_class = OrderInspectView
    inspect_view_enabled = True
    # The order's own event log is its history; modeladmin's history view checks no permission.
    history_view_enabled = False
    list_display = (
        "number",
        "email",
        "created_at",
        "payment_status",
        "fulfilment_status",
        "total_display",
        "item_count",
        "error_flag",
    )
    list_filter = (
        QueueFilter,
        "payment_status",
        "fulfilment_status",
        ("created_at", CreatedRangeFilter),
    )
    search_fields = ("number", "email", "lines__artist_name")
    list_per_page = 50
    list_export = (
        "number",
        "created_at",
        "paid_at",
        "payment_status",
        "fulfilment_status",
        "email",
        "currency",
        "total",
        "refunded",
        "item_count",
        "artists",
        "shipping_country",
        "carrier",
        "tracking_number",
        "last_error",
    )
    export_filename = "artspot-orders"

    def get_queryset(self, request):
        # A subquery, not Count("lines"): searching by artist joins the lines again, which
        # would multiply a joined count.
        line_count = (
            OrderLine.objects.filter(order=OuterRef("pk"))
            .order_by()
            .values("order")
            .annotate(n=Count("pk"))
            .values("n")
        )
        queryset = Order.objects.annotate(item_count=Coalesce(Subquery(line_count), 0))
        if request.GET.get("export"):
            queryset = queryset.prefetch_related("lines")
        return queryset

    @display(description="Total", ordering="total")
    def total_display(self, order: Order) -> str:
        return format_money(order.total, order.currency)

    @display(description="Items", ordering="item_count")
    def item_count(self, order: Order) -> int:
        return order.item_count

    @display(description="Error")
    def error_flag(self, order: Order) -> str:
        if not order.last_error:
            return ""
        return format_html(
            '<span class="w-status w-status--label" title="{}">Error</span>',
            order.last_error[:300],
        )

    @display(description="Artists")
    def artists(self, order: Order) -> str:
        return ", ".join(sorted({line.artist_name for line in order.lines.all()}))

    def register_indexing(self):
        """Not in Wagtail's reference index: orders refer to nothing editors manage, and
        indexing would add work to every order save (checkout, webhooks, tasks)."""

    # --- URLs: the list, the order page and its actions, each behind the permission --------

    def _check(self, request) -> None:
        if not self.permission_helper.user_can_list(request.user):
            raise PermissionDenied

    def index_view(self, request):
        self._check(request)
        return super().index_view(request)

    def inspect_view(self, request, instance_pk):
        self._check(request)
        return super().inspect_view(request, instance_pk)

    def action_view(self, request, instance_pk, action):
        self._check(request)
        view_class = ACTION_VIEWS[action]
        return view_class.as_view(model_admin=self, instance_pk=instance_pk)(request)

    def get_admin_urls_for_registration(self):
        helper = self.url_helper
        urls = [
            re_path(
                helper.get_action_url_pattern("index"),
                self.index_view,
                name=helper.get_action_url_name("index"),
            ),
            re_path(
                helper.get_action_url_pattern("inspect"),
                self.inspect_view,
                name=helper.get_action_url_name("inspect"),
            ),
        ]
        urls += [
            re_path(
                helper.get_action_url_pattern(action),
                self.action_view,
                {"action": action},
                name=helper.get_action_url_name(action),
            )
            for action in ACTION_VIEWS
        ]
        return tuple(urls)


modeladmin_register(OrderAdmin)


class OrdersPanel(Component):
    """Today's and this month's sales, and the orders waiting to ship, on the dashboard."""

    name = "shop_orders"
    template_name = "shop/admin/dashboard_panel.html"
    order = 50

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        context.update(sales_figures())
        context["orders_url"] = reverse("shop_order_modeladmin_index")
        return context


@hooks.register("construct_homepage_panels")
def add_orders_panel(request, panels) -> None:
    if can_manage_orders(request.user):
        panels.append(OrdersPanel())
