"""Shipping costs on public pages, before payment: ``{% load shipping_tags %}``."""

from django import template
from wagtail.models import Site

from shop.addresses import format_address_lines
from shop.models import ShopSettings
from shop.rates import zone_rates

register = template.Library()


@register.inclusion_tag("shop/includes/shipping_rates.html", takes_context=True)
def shipping_rates(context, currency: str) -> dict:
    """``{% shipping_rates artwork.currency %}``: the site's insured delivery rates by zone.

    Safe on a page a CDN caches: the output depends only on the site's shop settings and the
    currency, never on the visitor (no request, session or CSRF token reaches the template).
    One query at most: the settings are cached on the request (``ShopSettings.for_request``),
    and the site is the one Wagtail already resolved to serve the page.
    """
    request = context.get("request")
    if request is not None:
        shop = ShopSettings.for_request(request)
    else:  # an email or a management command: the default site
        shop = ShopSettings.for_site(Site.objects.get(is_default_site=True))
    return {"rates": zone_rates(shop, currency), "currency": currency}


@register.simple_tag
def order_address_lines(order) -> list[str]:
    """``{% order_address_lines order as lines %}``: where it ships, as the country writes it."""
    return format_address_lines(
        order.shipping_name,
        order.shipping_line1,
        order.shipping_line2,
        order.shipping_city,
        order.shipping_postal_code,
        order.shipping_state,
        order.shipping_country.code or "",
    )
