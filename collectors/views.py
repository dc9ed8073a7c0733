"""The collector's account pages: profile, addresses, orders, privacy. Thin views.

Every page is the signed-in collector's own: objects are looked up *through* the user
(``request.user.saved_addresses``, ``Order.objects.filter(user=request.user)``), so another
collector's id or order number is simply not found (404, the same as a missing one).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shop.models import Order
from shop.views import order_page_context

from . import privacy
from .forms import ConfirmPasswordForm, ProfileForm, address_forms, save_address
from .models import CollectorProfile, SavedAddress
from .orders import collector_orders, more_by_the_artists


def account_view(methods: tuple[str, ...] = ("GET",)):
    """Signed in, never cached, only these methods."""

    def decorate(view):
        return never_cache(login_required(require_http_methods(list(methods))(view)))

    return decorate


@account_view()
def home(request: HttpRequest) -> HttpResponse:
    return redirect("collectors:profile")


@account_view(("GET", "POST"))
def profile(request: HttpRequest) -> HttpResponse:
    current = CollectorProfile.objects.filter(user=request.user).first()
    initial = {"name": current.name, "phone": current.phone} if current else {}
    form = ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        form.save(request.user)
        messages.success(request, "Your profile is saved.")
        return redirect("collectors:profile")
    return TemplateResponse(
        request,
        "collectors/profile.html",
        {"form": form, "addresses": request.user.saved_addresses.all()[:3]},
        status=400 if form.errors else 200,
    )


@account_view()
def address_list(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(
        request,
        "collectors/address_list.html",
        {"addresses": request.user.saved_addresses.all()},
    )


def _address_page(request: HttpRequest, instance: SavedAddress | None) -> HttpResponse:
    posted = request.method == "POST" and "refresh" not in request.POST
    data = request.POST if request.method == "POST" else None
    country = request.GET.get("country", "") if request.method == "GET" else ""
    country_form, address_form = address_forms(data, instance=instance, country=country)
    status = 200
    if posted:
        if (
            instance is None
            and request.user.saved_addresses.count() >= SavedAddress.MAX_PER_COLLECTOR
        ):
            messages.error(
                request,
                f"You can keep up to {SavedAddress.MAX_PER_COLLECTOR} addresses. "
                "Remove one before adding another.",
            )
            return redirect("collectors:addresses")
        if all([country_form.is_valid(), address_form.is_valid()]):
            save_address(request.user, country_form, address_form, instance)
            messages.success(request, "Address saved.")
            return redirect("collectors:addresses")
        status = 400
    elif request.method == "POST":  # only the country changed: show its fields, no errors
        country_form, address_form = address_forms(
            None, instance=instance, country=str(request.POST.get("country", ""))
        )
    return TemplateResponse(
        request,
        "collectors/address_form.html",
        {"country_form": country_form, "address_form": address_form, "address": instance},
        status=status,
    )


@account_view(("GET", "POST"))
def address_add(request: HttpRequest) -> HttpResponse:
    return _address_page(request, None)


@account_view(("GET", "POST"))
def address_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _address_page(request, get_object_or_404(request.user.saved_addresses, pk=pk))


@never_cache
@login_required
@require_POST
def address_delete(request: HttpRequest, pk: int) -> HttpResponse:
    address = get_object_or_404(request.user.saved_addresses, pk=pk)
    was_default = address.is_default
    address.delete()
    if was_default:
        following = request.user.saved_addresses.order_by("-created_at", "-pk").first()
        if following is not None:
            following.is_default = True
            following.save(update_fields=["is_default"])
    messages.success(request, "Address removed.")
    return redirect("collectors:addresses")


@account_view()
def order_list(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(
        request, "collectors/order_list.html", {"orders": collector_orders(request.user)}
    )


@account_view()
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    if len(number) > 20:
        raise Http404("No such order.")
    order = Order.objects.filter(user=request.user, number=number).first()
    if order is None:  # someone else's and missing look the same
        raise Http404("No such order.")
    context = order_page_context(order)
    context["more_works"] = more_by_the_artists(order)
    context["in_account"] = True
    return TemplateResponse(request, "shop/order_detail.html", context)


@account_view()
def privacy_page(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(
        request,
        "collectors/privacy.html",
        {"delete_form": ConfirmPasswordForm(user=request.user, request=request)},
    )


@never_cache
@login_required
@require_GET
def data_export(request: HttpRequest) -> HttpResponse:
    data = privacy.export_data(request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="artspot-my-data-{stamp}.json"'
    return response


@never_cache
@login_required
@require_POST
def delete_account(request: HttpRequest) -> HttpResponse:
    form = ConfirmPasswordForm(request.POST, user=request.user, request=request)
    if request.user.is_staff or request.user.is_superuser:
        # Team accounts hold the shop's history (who refunded what): a superuser closes them.
        form.add_error(None, "Team accounts are closed by an administrator, not here.")
    if not form.is_valid():
        return TemplateResponse(
            request, "collectors/privacy.html", {"delete_form": form}, status=400
        )
    user = request.user
    privacy.delete_account(user)
    logout(request)
    messages.success(request, "Your account is deleted. Thank you for collecting with us.")
    return redirect("/")
