"""Shipping costs on public pages, before payment: ``{% load shipping_tags %}``."""

from django import template
from wagtail.models import Site

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
