from django import template

from core import csp
from core.models import SiteSettings

register = template.Library()


@register.inclusion_tag("includes/analytics.html", takes_context=True)
def analytics(context) -> dict:
    """Google Analytics when Site settings has a measurement id; never in an editor's preview.

    Marks the request so its Content-Security-Policy allows Google's hosts (core.csp).
    """
    request = context.get("request")
    if request is None or getattr(request, "is_preview", False):
        return {"analytics_id": ""}
    analytics_id = SiteSettings.for_request(request).analytics_id
    if analytics_id:
        csp.allow_analytics(request)
    return {"analytics_id": analytics_id}
