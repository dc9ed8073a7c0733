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
