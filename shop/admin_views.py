"""The order admin's parts: who may use it, the list's filters and export, the order page with
the team's actions, and those actions' forms.

Registered in ``shop.wagtail_hooks``. Every action is a POST (with Django's CSRF check) to
``/admin/shop/order/<action>/<pk>/``, allowed only in the states where it makes sense, and writes
to the order's event log. Refunds and cancellations live in ``shop.refunds``; views stay thin.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.admin import DateFieldListFilter, SimpleListFilter
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import lookup_field
from django.db import transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from wagtail.admin import messages
from wagtail_modeladmin.helpers import PermissionHelper
from wagtail_modeladmin.views import IndexView, InspectView

from core.exports import SafeSpreadsheetExportMixin

from .models import Order, OrderEvent, OrderStatus
from .models.orders import PAID_STATUSES
from .refunds import (
    DuplicateRefund,
    RefundError,
    can_cancel,
    cancel_order,
    clean_amount,
    refund_requests,
    refundable_amount,
    request_refund,
    staff_name,
)
from .tasks import mark_shipped

ORDER_PERMISSION = "shop.change_order"
WAITING_TO_SHIP = (OrderStatus.PAID, OrderStatus.IN_FULFILMENT)
# Paid or in fulfilment; and a partly refunded order that has not shipped still has to.
WAITING_TO_SHIP_Q = Q(status__in=WAITING_TO_SHIP) | Q(
    status=OrderStatus.PARTLY_REFUNDED, shipped_at__isnull=True
)


def can_manage_orders(user) -> bool:
    """Orders, their customers' addresses and refunds: only for holders of shop.change_order."""
    return bool(user and user.is_active and user.has_perm(ORDER_PERMISSION))


class OrderPermissionHelper(PermissionHelper):
    """One permission opens everything; orders are never created, edited or deleted by hand."""

    def get_all_model_permissions(self):
        # The only order permission offered in Settings > Groups.
        return super().get_all_model_permissions().filter(codename="change_order")

    def user_can_list(self, user) -> bool:
        return can_manage_orders(user)

    def user_can_inspect_obj(self, user, obj) -> bool:
        return can_manage_orders(user)

    def user_can_create(self, user) -> bool:
        return False

    def user_can_edit_obj(self, user, obj) -> bool:
        return False

    def user_can_delete_obj(self, user, obj) -> bool:
        return False


# --- the states each action is allowed in ---------------------------------------------------


def can_mark_in_fulfilment(order: Order) -> bool:
    return order.status == OrderStatus.PAID or (
        order.status == OrderStatus.PARTLY_REFUNDED and order.shipped_at is None
    )


def can_add_tracking(order: Order) -> bool:
    """Before shipping, or to correct the tracking of a shipped order."""
    return order.status in (*WAITING_TO_SHIP, OrderStatus.SHIPPED) or (
        order.status == OrderStatus.PARTLY_REFUNDED and order.shipped_at is None
    )


def can_mark_delivered(order: Order) -> bool:
    return order.status == OrderStatus.SHIPPED or (
        order.status == OrderStatus.PARTLY_REFUNDED and order.shipped_at is not None
    )


def can_refund(order: Order) -> bool:
    return refundable_amount(order) > 0


def _set_status(order: Order, allowed, status: str, message: str, user) -> bool:
    """Move a locked order to ``status`` if ``allowed(order)``, and log it; False otherwise."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        if not allowed(locked):
            return False
        locked.status = status
        locked.save(update_fields=["status"])
        locked.log(OrderEvent.Kind.STATUS, message, status=status, by=user.pk)
    return True


# --- list filters and export ----------------------------------------------------------------


class QueueFilter(SimpleListFilter):
    """The team's work queues: orders to ship, and orders whose background work failed."""

    title = "queue"
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("to-ship", "Waiting to ship"), ("errors", "With an error")]

    def queryset(self, request, queryset):
        if self.value() == "to-ship":
            return queryset.filter(WAITING_TO_SHIP_Q)
        if self.value() == "errors":
            return queryset.exclude(last_error="")
        return queryset


def _moment(value) -> datetime | None:
    """A filter bound from the query string: a date (local midnight) or a datetime."""
    text = str(value[-1] if isinstance(value, list) and value else value or "").strip()
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time.min) if day else None
    except ValueError:  # well formed but impossible, such as 2026-02-31
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class CreatedRangeFilter(DateFieldListFilter):
    """Django's presets (today, past 7 days, this month, this year) plus a from/before range.

    Bounds come from the query string as dates or datetimes; one that is not a date is ignored
    rather than failing the page.
    """

    template = "shop/admin/date_range_filter.html"

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = "date placed"
        self.request = request

    def queryset(self, request, queryset):
        bounds = {}
        for param in (self.lookup_kwarg_since, self.lookup_kwarg_until):
            moment = _moment(self.used_parameters.get(param))
            if moment is not None:
                bounds[param] = moment
        return queryset.filter(**bounds)

    def bound(self, param: str) -> str:
        moment = _moment(self.used_parameters.get(param))
        return timezone.localdate(moment).isoformat() if moment else ""

    @property
    def since(self) -> str:
        return self.bound(self.lookup_kwarg_since)

    @property
    def until(self) -> str:
        return self.bound(self.lookup_kwarg_until)

    def other_params(self) -> list[tuple[str, str]]:
        """The rest of the query (search, other filters), carried along by the range form."""
        skip = {self.lookup_kwarg_since, self.lookup_kwarg_until, "p", "export", "e"}
        return [
            (key, value)
            for key, values in self.request.GET.lists()
            if key not in skip
            for value in values
        ]


class OrderIndexView(SafeSpreadsheetExportMixin, IndexView):
    """The list. Only the declared filters are accepted from the query string: modeladmin would
    otherwise apply any ``field__lookup`` it is given (``user__password__startswith``, say).
    Its CSV and XLSX exports go through the safe-export mixin, like every admin export."""

    export_headings = {
        "status": "Status",
        "total": "Total",
        "refunded": "Refunded",
        "item_count": "Items",
        "artists": "Artists",
    }

    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except IncorrectLookupParameters:
            messages.error(request, "That filter is not available; showing all orders.")
            return redirect(self.url_helper.index_url)

    def get_filters(self, request):
        specs, has_filters, remaining, use_distinct = super().get_filters(request)
        if remaining:
            raise IncorrectLookupParameters(f"Unknown filter: {', '.join(sorted(remaining))}")
        return specs, has_filters, remaining, use_distinct

    def to_row_dict(self, item) -> dict:
        # modeladmin writes "-" for every falsy value (a refund of 0.00 included).
        row = {}
        for name in self.list_export:
            field, _attr, value = lookup_field(name, item, self.model_admin)
            if field is not None and field.choices:
                value = getattr(item, f"get_{name}_display")()
            if isinstance(value, datetime):
                value = timezone.localtime(value).replace(microsecond=0)
            elif value is None:
                value = ""
            elif not isinstance(value, str | int | Decimal | date):
                value = str(value)  # a country, say: XLSX cells take plain values only
            row[name] = value
        return row


# --- forms ----------------------------------------------------------------------------------


class RefundForm(forms.Form):
    amount = forms.DecimalField(max_digits=12, decimal_places=2, label="Amount to refund")
    # The number of refunds requested when the form was shown: a second copy of the same
    # submission is recognised and refused (see shop.refunds).
    sequence = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        remaining = refundable_amount(order)
        amount = self.fields["amount"]
        amount.initial = remaining
        amount.help_text = f"{order.currency}; at most {remaining}. The full amount refunds all."
        self.fields["sequence"].initial = refund_requests(order)

    def clean_amount(self) -> Decimal:
        try:
            return clean_amount(self.cleaned_data["amount"], refundable_amount(self.order))
        except RefundError as error:
            raise forms.ValidationError(str(error)) from error


class TrackingForm(forms.Form):
    carrier = forms.CharField(max_length=50, help_text="For example Royal Mail, DHL or UPS.")
    tracking_number = forms.CharField(max_length=100)


class CancelForm(forms.Form):
    restock = forms.BooleanField(
        required=False,
        initial=True,
        label="Put the works back on sale",
        help_text="Untick for a work that cannot be sold again as it is (withhold it instead).",
    )


# --- the order page and its actions ---------------------------------------------------------


class OrderInspectView(InspectView):
    """Everything about one order on one page, with the actions its state allows."""

    template_name = "shop/admin/order_inspect.html"

    def get_page_title(self) -> str:
        return f"Order {self.instance.number}"

    def get_page_subtitle(self) -> str:
        return self.instance.get_status_display()

    def get_template_names(self) -> list[str]:
        return [self.template_name]

    def get_fields_dict(self) -> list:
        return []  # the template lays the order out itself

    def action_url(self, action: str) -> str:
        return self.url_helper.get_action_url(action, self.pk_quoted)

    def get_context_data(self, **kwargs):
        order = self.instance
        allowed = {
            "fulfilment": can_mark_in_fulfilment(order),
            "tracking": can_add_tracking(order),
            "delivered": can_mark_delivered(order),
            "refund": can_refund(order),
            "cancel": can_cancel(order),
        }
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "events": list(order.events.all()),
            "remaining": refundable_amount(order),
            "allowed": allowed,
            "action_urls": {action: self.action_url(action) for action in allowed},
            "refund_form": RefundForm(order=order) if allowed["refund"] else None,
            "tracking_form": TrackingForm(
                initial={"carrier": order.carrier, "tracking_number": order.tracking_number}
            ),
            "cancel_form": CancelForm(),
            "stripe_payment_url": self.stripe_payment_url(order),
        }
        context.update(kwargs)
        return super().get_context_data(**context)

    @staticmethod
    def stripe_payment_url(order: Order) -> str:
        intent = order.payment_intent_id
        if not intent.startswith("pi_") or intent.startswith("pi_local_"):
            return ""
        mode = "test/" if settings.STRIPE_SECRET_KEY.startswith("sk_test_") else ""
        return f"https://dashboard.stripe.com/{mode}payments/{intent}"


class OrderActionView(OrderInspectView):
    """POST-only; a GET goes back to the order page. Subclasses implement :meth:`perform`."""

    action = ""

    def check_action_permitted(self, user) -> bool:
        return can_manage_orders(user)

    @property
    def inspect_url(self) -> str:
        return self.action_url("inspect")

    def get(self, request, *args, **kwargs):
        return redirect(self.inspect_url)

    def post(self, request, *args, **kwargs):
        return self.perform(request)

    def perform(self, request):
        raise NotImplementedError

    def refused(self, request, message: str):
        messages.error(request, message)
        return redirect(self.inspect_url)

    def done(self, request, message: str):
        messages.success(request, message)
        return redirect(self.inspect_url)

    def invalid(self, request, **forms_with_errors):
        messages.error(request, "Please correct the errors below.")
        return self.render_to_response(self.get_context_data(**forms_with_errors))


class MarkInFulfilmentView(OrderActionView):
    action = "fulfilment"

    def perform(self, request):
        order = self.instance
        message = f"Marked in fulfilment by {staff_name(request.user)}."
        if not _set_status(
            order, can_mark_in_fulfilment, OrderStatus.IN_FULFILMENT, message, request.user
        ):
            return self.refused(request, "Only a paid order that has not shipped can be marked so.")
        return self.done(request, f"Order {order.number} is in fulfilment.")


class AddTrackingView(OrderActionView):
    action = "tracking"

    def perform(self, request):
        form = TrackingForm(request.POST)
        if not form.is_valid():
            return self.invalid(request, tracking_form=form)
        carrier, tracking = form.cleaned_data["carrier"], form.cleaned_data["tracking_number"]
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=self.instance.pk)
            if not can_add_tracking(order):
                return self.refused(
                    request,
                    f"A {order.get_status_display().lower()} order cannot be given tracking.",
                )
            correction = order.status == OrderStatus.SHIPPED
            # mark_shipped logs the shipment and emails the collector once this commits.
            if not mark_shipped(order, carrier, tracking):
                return self.refused(request, "That tracking number is already recorded.")
            order.log(
                OrderEvent.Kind.NOTE,
                f"Tracking entered by {staff_name(request.user)}.",
                by=request.user.pk,
            )
        if correction:  # the shipped email goes once; it is not sent again
            return self.done(request, f"Tracking of order {order.number} corrected.")
        return self.done(
            request, f"Order {order.number} marked shipped; the collector will be emailed."
        )


class MarkDeliveredView(OrderActionView):
    action = "delivered"

    def perform(self, request):
        order = self.instance
        message = f"Marked delivered by {staff_name(request.user)}."
        if not _set_status(order, can_mark_delivered, OrderStatus.DELIVERED, message, request.user):
            return self.refused(request, "Only a shipped order can be marked delivered.")
        return self.done(request, f"Order {order.number} marked delivered.")


class RefundView(OrderActionView):
    action = "refund"

    def perform(self, request):
        order = self.instance
        if not can_refund(order):
            return self.refused(request, "There is nothing to refund on this order.")
        form = RefundForm(request.POST, order=order)
        if not form.is_valid():
            return self.invalid(request, refund_form=form)
        amount, before = form.cleaned_data["amount"], order.refunded
        try:
            refund_id = request_refund(
                order, amount, request.user, sequence=form.cleaned_data["sequence"]
            )
        except DuplicateRefund as error:
            messages.warning(request, str(error))
            return redirect(self.inspect_url)
        except RefundError as error:
            return self.refused(request, f"The refund was not made: {error}")
        order.refresh_from_db()
        if order.refunded > before:  # the local gateway confirms at once
            outcome = f"{order.currency} {order.refunded} refunded in total."
        else:
            outcome = "The totals update when the payment provider confirms it."
        return self.done(
            request, f"Refund of {order.currency} {amount} requested ({refund_id}). {outcome}"
        )


class CancelView(OrderActionView):
    action = "cancel"

    def perform(self, request):
        form = CancelForm(request.POST)
        form.is_valid()  # one optional checkbox: always valid
        try:
            message = cancel_order(
                self.instance, request.user, restock=form.cleaned_data.get("restock", False)
            )
        except RefundError as error:
            return self.refused(request, str(error))
        return self.done(request, message)


ACTION_VIEWS: dict[str, type[OrderActionView]] = {
    view.action: view
    for view in (MarkInFulfilmentView, AddTrackingView, MarkDeliveredView, RefundView, CancelView)
}


# --- the dashboard's figures ----------------------------------------------------------------


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def sales_figures(now: datetime | None = None) -> dict:
    """Net sales (total - refunded) of orders paid today and this month, per currency, and how
    many orders wait to ship. Sales count by payment date, over the paid states."""
    today = timezone.localdate(now)
    today_start = day_start(today)
    month_start = day_start(today.replace(day=1))
    money = DecimalField(max_digits=12, decimal_places=2)
    net = ExpressionWrapper(F("total") - F("refunded"), output_field=money)
    zero = Decimal("0.00")
    paid_today = Q(paid_at__gte=today_start)
    rows = list(
        Order.objects.filter(status__in=PAID_STATUSES, paid_at__gte=month_start)
        .order_by("currency")
        .values("currency")
        .annotate(
            month=Sum(net, output_field=money),
            month_orders=Count("pk"),
            today=Coalesce(Sum(net, filter=paid_today, output_field=money), zero),
            today_orders=Count("pk", filter=paid_today),
        )
    )
    to_ship = Order.objects.filter(WAITING_TO_SHIP_Q).count()
    return {"currencies": rows, "to_ship": to_ship, "today": today, "month_start": month_start}
