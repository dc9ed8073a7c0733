from django import template
from wagtail.models import Site

from core.navigation import help_links, main_menu

register = template.Library()


@register.inclusion_tag("includes/main_menu.html", takes_context=True)
def primary_navigation(context) -> dict:
    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    current = getattr(request, "path", "")
    items = main_menu(site, request) if site else []
    return {"items": items, "current_path": current}


@register.simple_tag(takes_context=True)
def footer_help_links(context) -> list[dict[str, str]]:
    request = context.get("request")
    site = Site.find_for_request(request) if request else None
    return help_links(site, request) if site else []


@register.filter
def money(amount, currency: str = "GBP") -> str:
    """``{{ order.total|money:order.currency }}`` -> ``£17,805.00`` (see ``core.money``)."""
    from core.money import format_money

    return format_money(amount, currency or "GBP")
