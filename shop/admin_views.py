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

from core import email
from core.exports import SafeSpreadsheetExportMixin
from core.money import format_money

from . import lifecycle
from .models import FulfilmentStatus, Order, OrderEvent, OrderLine, PaymentStatus
from .models.orders import PAID_STATUSES
from .refunds import (
    DuplicateRefund,
    RefundError,
    can_cancel,
    cancel_order,
    clean_amount,
    refund_requests,
    refundable_amount,
    refundable_lines,
    request_refund,
)
from .tasks import mark_shipped

ORDER_PERMISSION = "shop.change_order"
DUPLICATE_REFUND = (
    "This refund was already requested (the form was sent twice, or someone else refunded "
    "meanwhile). Check the order's history before refunding again."
)
# Paid (perhaps partly refunded) and not yet shipped or cancelled.
WAITING_TO_SHIP_Q = Q(
    payment_status__in=[PaymentStatus.PAID, PaymentStatus.PARTLY_REFUNDED],
    fulfilment_status__in=[FulfilmentStatus.UNFULFILLED, FulfilmentStatus.IN_FULFILMENT],
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
    return lifecycle.can_move(order, fulfilment=FulfilmentStatus.IN_FULFILMENT)


def can_add_tracking(order: Order) -> bool:
    """Before shipping, or to correct the tracking of a shipped order."""
    return lifecycle.can_move(order, fulfilment=FulfilmentStatus.SHIPPED)


def can_mark_delivered(order: Order) -> bool:
    return lifecycle.can_move(order, fulfilment=FulfilmentStatus.DELIVERED)


def can_refund(order: Order) -> bool:
    return order.is_paid and refundable_amount(order) > 0


def _move(order: Order, fulfilment: str, message: str, user) -> bool:
    """Move a locked order's fulfilment (see ``shop.lifecycle``); False if not allowed now."""
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        try:
            lifecycle.move(
                locked,
                fulfilment=fulfilment,
                kind=OrderEvent.Kind.STATUS,
                message=message,
                public=True,
                by=user.pk,
            )
        except lifecycle.TransitionNotAllowed:
            return False
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
        "payment_status": "Payment",
        "fulfilment_status": "Fulfilment",
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


class LineChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, line: OrderLine) -> str:
        return f"{line} — {line.artist_name}, {format_money(line.unit_price, line.order.currency)}"


class RefundForm(forms.Form):
    """A refund of chosen works (their prices) or of an amount; confirmed before it is sent."""

    RESTOCK_CHOICES = [
        ("yes", "Yes: the works come back on sale once the refund is accepted"),
        ("no", "No: they stay sold (returned damaged, kept by the collector…)"),
    ]

    lines = LineChoiceField(
        queryset=OrderLine.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Works to refund",
    )
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        label="Amount to refund",
        help_text="Leave empty to refund the chosen works' prices; or enter an amount "
        "(shipping, a goodwill gesture).",
    )
    restock = forms.ChoiceField(
        choices=RESTOCK_CHOICES,
        widget=forms.RadioSelect,
        required=False,
        label="Do the refunded works come back on sale?",
    )
    reason = forms.CharField(max_length=200, required=False, label="Reason (for the history)")
    # The number of refunds requested when the form was shown: a second copy of the same
    # submission is recognised and refused (see shop.refunds).
    sequence = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        open_lines = [line.pk for line in refundable_lines(order)]
        self.fields["lines"].queryset = order.lines.filter(pk__in=open_lines).select_related(
            "order"
        )
        self.fields["sequence"].initial = refund_requests(order)

    def clean(self) -> dict:
        data = super().clean()
        lines, amount = data.get("lines") or [], data.get("amount")
        if not lines and amount is None:
            raise forms.ValidationError("Choose the works to refund, or enter an amount.")
        if lines and not data.get("restock"):
            self.add_error("restock", "Say whether the refunded works come back on sale.")
        if amount is None:
            amount = sum((line.unit_price for line in lines), Decimal(0))
        try:
            data["total"] = clean_amount(amount, refundable_amount(self.order), self.order.currency)
        except RefundError as error:
            self.add_error("amount" if data.get("amount") is not None else "lines", str(error))
        return data


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
        return self.instance.status_label

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
            "refunds": list(order.refunds.all()),
            "remaining": refundable_amount(order),
            "allowed": allowed,
            "action_urls": {
                **{action: self.action_url(action) for action in allowed},
                "inspect": self.action_url("inspect"),
            },
            "refund_form": RefundForm(order=order) if allowed["refund"] else None,
            "tracking_form": TrackingForm(
                initial={"carrier": order.carrier, "tracking_number": order.tracking_number}
            ),
            "cancel_form": CancelForm(),
            "stripe_payment_url": self.stripe_payment_url(order),
            "undeliverable": email.undeliverable(order.email),
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
        message = "Your order is being prepared for shipping."
        if not _move(order, FulfilmentStatus.IN_FULFILMENT, message, request.user):
            return self.refused(request, "Only a paid order that has not shipped can be marked so.")
        return self.done(request, f"Order {order.number} is in fulfilment.")


class AddTrackingView(OrderActionView):
    action = "tracking"

    def perform(self, request):
        form = TrackingForm(request.POST)
        if not form.is_valid():
            return self.invalid(request, tracking_form=form)
        carrier, tracking = form.cleaned_data["carrier"], form.cleaned_data["tracking_number"]
        order = self.instance
        if not can_add_tracking(order):
            return self.refused(
                request, f"An order that is {order.status_label.lower()} cannot be given tracking."
            )
        correction = order.fulfilment_status == FulfilmentStatus.SHIPPED
        try:
            # mark_shipped logs the shipment and emails the collector once this commits.
            recorded = mark_shipped(order, carrier, tracking, user=request.user)
        except lifecycle.TransitionNotAllowed as error:
            return self.refused(request, str(error))
        if not recorded:
            return self.refused(request, "That tracking number is already recorded.")
        if correction:  # the shipped email goes once; it is not sent again
            return self.done(request, f"Tracking of order {order.number} corrected.")
        return self.done(
            request, f"Order {order.number} marked shipped; the collector will be emailed."
        )


class MarkDeliveredView(OrderActionView):
    action = "delivered"

    def perform(self, request):
        order = self.instance
        message = "Your order has been delivered."
        if not _move(order, FulfilmentStatus.DELIVERED, message, request.user):
            return self.refused(request, "Only a shipped order can be marked delivered.")
        return self.done(request, f"Order {order.number} marked delivered.")


class RefundView(OrderActionView):
    """Two steps: the form, then a confirmation showing the amount, the works and the restock."""

    action = "refund"

    def perform(self, request):
        order = self.instance
        if not can_refund(order):
            return self.refused(request, "There is nothing to refund on this order.")
        if request.POST.get("sequence") != str(refund_requests(order)):
            # A second copy of a form already acted on (or someone else refunded meanwhile).
            messages.warning(request, str(DuplicateRefund(DUPLICATE_REFUND)))
            return redirect(self.inspect_url)
        form = RefundForm(request.POST, order=order)
        if not form.is_valid():
            return self.invalid(request, refund_form=form)
        data = form.cleaned_data
        restock = data.get("restock") == "yes"
        if not data.get("confirmed"):
            confirm = RefundForm(
                initial={**data, "lines": data["lines"], "confirmed": True}, order=order
            )
            return self.render_to_response(
                self.get_context_data(
                    refund_confirmation={
                        "amount": data["total"],
                        "lines": list(data["lines"]),
                        "restock": restock,
                        "reason": data.get("reason", ""),
                        "form": confirm,
                    }
                )
            )
        try:
            request_refund(
                order,
                lines=list(data["lines"]),
                amount=data["total"],
                restock=restock,
                user=request.user,
                reason=data.get("reason", ""),
                sequence=data["sequence"],
            )
        except DuplicateRefund as error:
            messages.warning(request, str(error))
            return redirect(self.inspect_url)
        except RefundError as error:
            return self.refused(request, f"The refund was not made: {error}")
        order.refresh_from_db()
        return self.done(
            request,
            f"Refund of {format_money(data['total'], order.currency)} sent to the payment "
            f"provider. {format_money(order.refunded, order.currency)} refunded so far; the "
            "totals update when the provider confirms it.",
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
        Order.objects.filter(payment_status__in=PAID_STATUSES, paid_at__gte=month_start)
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
