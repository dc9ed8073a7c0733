"""Cart, checkout, the local test-payment page, order pages and the two webhooks. Thin views."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit
from wagtail import hooks
from wagtail.models import Site

from artworks.models import Artwork
from core import outbox
from core.client_address import client_address
from core.csrf import confirmable
from drops.entry import admission

from .cart import Cart, CartError
from .checkout import CheckoutError, start_checkout
from .forms import CartChangeForm, CheckoutForm, ShippingAddressForm, TestPaymentForm
from .models import Order
from .payments import (
    InvalidWebhook,
    LocalGateway,
    build_event,
    completed_session_event,
    deliver_locally,
    get_gateway,
)
from .rates import shipping_quote
from .webhooks import handle_webhook


def _back(request: HttpRequest, fallback: str = "shop:cart") -> HttpResponse:
    return redirect(fallback)


SHIPPING_COUNTRY_KEY = "shipping-country"


def _shipping_country(request: HttpRequest) -> str:
    """The destination the visitor chose in the cart (kept in the session), else the home one."""
    chosen = request.GET.get("country", "").upper()
    if chosen and chosen in CheckoutForm.country_codes():
        request.session[SHIPPING_COUNTRY_KEY] = chosen
        return chosen
    return request.session.get(SHIPPING_COUNTRY_KEY) or "GB"


@never_cache
@require_GET
def cart_detail(request: HttpRequest) -> HttpResponse:
    cart = Cart(request)
    lines = cart.lines()
    cancelled = request.GET.get("cancelled")
    if cancelled:
        messages.info(request, "Payment cancelled. Your cart is as you left it.")
    subtotal = Cart.subtotal(lines)
    country = _shipping_country(request)
    currency = lines[0].artwork.currency if lines else "GBP"
    site = Site.find_for_request(request) or Site.objects.get(is_default_site=True)
    shipping = shipping_quote(site, country, currency)
    return TemplateResponse(
        request,
        "shop/cart.html",
        {
            "lines": lines,
            "subtotal": subtotal,
            "currency": currency,
            "shipping": shipping,
            "total": subtotal + shipping,
            "country_form": CheckoutForm(initial={"country": country}),
            "country": country,
            "can_checkout": bool(lines) and all(line.can_buy for line in lines),
        },
    )


@never_cache
@require_POST
def cart_change(request: HttpRequest, action: str) -> HttpResponse:
    form = CartChangeForm(request.POST)
    if not form.is_valid():
        return TemplateResponse(
            request, "shop/cart_error.html", {"errors": form.errors}, status=400
        )
    cart = Cart(request)
    artwork_id, quantity = form.cleaned_data["artwork"], form.cleaned_data["quantity"] or 0
    try:
        if action == "add":
            artwork = cart.add(artwork_id, max(1, quantity))
            # In a drop's first seconds the place in the queue is drawn now, on the first cheap
            # request, not at checkout after the rush has queued up behind the server.
            admission(request, [artwork.pk])
            messages.success(request, f"“{artwork.title}” is in your cart.")
        elif action == "update":
            cart.set_quantity(artwork_id, quantity)
            messages.success(request, "Your cart is updated.")
        else:
            cart.remove(artwork_id)
            messages.success(request, "Removed from your cart.")
    except CartError as error:
        messages.error(request, str(error))
    return redirect("shop:cart")


# Apps that keep a signed-in collector's addresses answer this hook (collectors does): a function
# of the request returning the address to offer at checkout (``ShippingAddressForm`` field names
# plus ``country``), or None.
CHECKOUT_ADDRESS_HOOK = "artspot_checkout_address"


def saved_address(request: HttpRequest) -> dict | None:
    if not request.user.is_authenticated:
        return None
    for answer in hooks.get_hooks(CHECKOUT_ADDRESS_HOOK):
        found = answer(request)
        if found:
            return found
    return None


def _describe_cart_add(request: HttpRequest) -> str:
    artwork_id = request.POST.get("artwork", "")
    work = (
        Artwork.objects.public().select_related("artist").filter(pk=artwork_id).first()
        if artwork_id.isascii() and artwork_id.isdigit() and len(artwork_id) < 19
        else None
    )
    return f"“{work.title}” by {work.artist.title}" if work else ""


# The artwork page's form, on a page CloudFront keeps: no token without JavaScript (core.csrf).
@confirmable(
    "Add this work to your cart",
    {"artwork": "", "quantity": "Quantity"},
    describe=_describe_cart_add,
)
def cart_add(request: HttpRequest) -> HttpResponse:
    return cart_change(request, "add")


def _session_key(group: str, request: HttpRequest) -> str:
    return request.session.session_key or client_address(request)


def _email_key(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()[:254]


# Checkout starts are limited per client address (core.client_address: the collector's, not the
# proxy's), per session and per email, so a bot cannot hammer a drop by rotating one of them.
@never_cache
@ratelimit(key="ip", rate="20/m", method="POST", block=False)
@ratelimit(key=_session_key, rate="10/m", method="POST", block=False)
@ratelimit(key=_email_key, rate="10/m", method="POST", block=False)
def checkout(request: HttpRequest) -> HttpResponse:
    cart = Cart(request)
    lines = cart.lines()
    if not lines:
        messages.info(request, "Your cart is empty.")
        return redirect("shop:cart")
    initial = {"email": request.user.email} if request.user.is_authenticated else {}
    chosen = request.session.get(SHIPPING_COUNTRY_KEY) or "GB"
    saved = saved_address(request) if request.method != "POST" else None
    if saved and not request.session.get(SHIPPING_COUNTRY_KEY):
        chosen = saved["country"]
    form = CheckoutForm(request.POST or None, initial={**initial, "country": chosen})
    # The address fields follow the destination (a US address asks for a state …).
    country = str(request.POST.get("country") or chosen).upper()[:2]
    address_form = ShippingAddressForm(
        request.POST or None,
        country=country,
        initial=saved if saved and saved["country"] == country else None,
    )
    status = 200
    if request.method == "POST":
        if getattr(request, "limited", False):
            messages.error(
                request, "Too many checkout attempts. Please wait a minute and try again."
            )
            status = 429
        elif all([form.is_valid(), address_form.is_valid()]):  # both, to show every error
            place = admission(request, [line.artwork.pk for line in lines])
            if place is not None and place.admit_datetime > timezone.now():
                return TemplateResponse(
                    request,
                    "shop/waiting_room.html",
                    {
                        "form": form,
                        "address_form": address_form,
                        "admit_at": place.admit_datetime,
                        "wait_seconds": (place.admit_datetime - timezone.now()).total_seconds(),
                        "place": place,
                    },
                )
            address = address_form.cleaned_data
            try:
                order = start_checkout(
                    lines=lines,
                    email=form.cleaned_data["email"],
                    country=form.cleaned_data["country"],
                    user=request.user,
                    site=Site.find_for_request(request) or Site.objects.get(is_default_site=True),
                    absolute_url=request.build_absolute_uri,
                    session_key=request.session.session_key,
                    address={
                        "shipping_name": address["name"],
                        "shipping_line1": address["line1"],
                        "shipping_line2": address.get("line2", ""),
                        "shipping_city": address.get("city", ""),
                        "shipping_postal_code": address.get("postal_code", ""),
                        "shipping_state": address.get("region", ""),
                        "shipping_phone": address["phone"],
                    },
                )
            except CheckoutError as error:
                messages.error(request, str(error))
                return redirect("shop:cart")
            request.session["last_order"] = order.number
            return redirect(order.payment_url)
        else:
            status = 400
    return TemplateResponse(
        request,
        "shop/checkout.html",
        {
            "form": form,
            "address_form": address_form,
            "lines": lines,
            "subtotal": Cart.subtotal(lines),
        },
        status=status,
    )


@never_cache
def test_payment(request: HttpRequest, session_id: str) -> HttpResponse:
    """The local stand-in for Stripe's hosted page (embedded default only)."""
    gateway = get_gateway()
    if not isinstance(gateway, LocalGateway):
        raise Http404("The test payment page only exists without Stripe.")
    order = get_object_or_404(Order, payment_session_id=session_id)
    if not order.is_pending_payment:
        return redirect(order.signed_url())
    form = TestPaymentForm(request.POST or None, address_known=bool(order.shipping_line1))
    if request.method == "POST":
        if "cancel" in request.POST:
            deliver_locally(
                build_event(
                    "checkout.session.expired",
                    {"object": "checkout.session", "id": session_id, "status": "expired"},
                ),
                gateway.webhook_secret,
            )
            messages.info(request, "Payment cancelled; the works were released.")
            return redirect("shop:cart")
        if form.is_valid():
            if form.cleaned_data["card"] == "4000000000000002":
                form.add_error(
                    "card", "Your card was declined (test card). Try 4242 4242 4242 4242."
                )
            else:
                data = form.cleaned_data
                address = {
                    "line1": data.get("line1") or order.shipping_line1,
                    "line2": data.get("line2") or order.shipping_line2,
                    "city": data.get("city") or order.shipping_city,
                    "postal_code": data.get("postal_code") or order.shipping_postal_code,
                    "state": order.shipping_state,
                    "country": str(order.shipping_country),
                }
                name = data.get("name") or order.shipping_name
                deliver_locally(
                    completed_session_event(order, session_id, address, name),
                    gateway.webhook_secret,
                )
                Cart(request).clear()
                return redirect(order.signed_url() + "&paid=1")
    return TemplateResponse(
        request,
        "shop/test_payment.html",
        {"order": order, "form": form},
        status=400 if form.errors else 200,
    )


def _can_view(request: HttpRequest, order: Order) -> bool:
    if request.user.is_authenticated and order.user_id == request.user.pk:
        return True
    token = request.GET.get("token", "")
    return bool(token) and order.token_is_valid(token)


@never_cache
@require_GET
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order = Order.objects.filter(number=number).first()
    # The same 404 for a missing order and a forbidden one: numbers cannot be probed.
    if order is None or not _can_view(request, order):
        raise Http404("No such order.")
    if request.GET.get("paid") and order.is_pending_payment:
        messages.info(request, "We are confirming your payment; this page updates in a moment.")
    return TemplateResponse(
        request,
        "shop/order_detail.html",
        order_page_context(order, token=request.GET.get("token", "")),
    )


def order_page_context(order: Order, token: str = "") -> dict:
    """What the collector's order page shows, for the guest link and the account alike."""
    return {
        "order": order,
        "lines": order.lines.all(),
        # The collector's own history only: staff notes and internal ids stay in the admin.
        "events": order.events.filter(public=True),
        "token": token,
    }


@never_cache
def order_list(request: HttpRequest) -> HttpResponse:
    """Staff see their own orders here, as before; collectors' orders live in their account."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("collectors:orders"), reverse("account_login"))
    if not request.user.is_staff:
        return redirect("collectors:orders")
    orders = (
        Order.objects.filter(user=request.user)
        .exclude(payment_status="unpaid", fulfilment_status="cancelled")
        .prefetch_related("lines")
    )
    return TemplateResponse(request, "shop/order_list.html", {"orders": orders})


WEBHOOK_FAILURES_RATE = "60/m"


def _failure(request: HttpRequest, group: str, status: int, message: str) -> HttpResponse:
    """Count a failed webhook call against its client address; past the limit, answer 429.

    Only failures are counted and only failures are refused: a call that proves itself (Stripe's
    signature, ShipStation's secret path) is checked first and never meets the counter, so a
    forger sharing an address with the provider (behind a proxy, say) cannot get it refused.
    The proof is one HMAC or string comparison, cheaper than anything the counter saves.
    """
    if is_ratelimited(request, group=group, key="ip", rate=WEBHOOK_FAILURES_RATE, increment=True):
        return JsonResponse({"error": "Too many failed webhook calls."}, status=429)
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    group = "shop.stripe-webhook-failures"
    signature = request.headers.get("Stripe-Signature", "")
    if not signature:
        return _failure(request, group, 400, "Missing Stripe-Signature header.")
    try:
        # The signature is verified before any other work.
        outcome = handle_webhook(request.body, signature)
    except InvalidWebhook as error:
        return _failure(request, group, 400, f"Invalid webhook: {error}")
    return JsonResponse({"result": outcome.message}, status=outcome.status)


@csrf_exempt
@require_POST
def shipstation_webhook(request: HttpRequest, secret: str) -> HttpResponse:
    group = "shop.shipstation-webhook-failures"
    expected = settings.SHIPSTATION_WEBHOOK_SECRET
    if not expected or not hmac.compare_digest(secret, expected):
        return _failure(request, group, 404, "Not found.")
    try:
        body = json.loads(request.body)
        resource_url = body["resource_url"]
        resource_type = body.get("resource_type", "")
    except (ValueError, KeyError, TypeError):
        return _failure(request, group, 400, "Expected JSON with resource_url.")
    if resource_type not in ("SHIP_NOTIFY", "ITEM_SHIP_NOTIFY"):
        return JsonResponse({"result": f"ignored: {resource_type}"})
    outbox.enqueue("shop.tasks.process_ship_notification", str(resource_url))
    return JsonResponse({"result": "queued"})
