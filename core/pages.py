"""Behaviour shared by every public page type."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils.cache import patch_cache_control


def apply_public_cache_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let CloudFront keep a page only when it is the same for every anonymous visitor.

    Private when caching is off, the answer is not a plain 200, or the visitor has a session
    (signed in, a flash message, later a cart): without a session cookie a visitor is anonymous
    and sees what every other anonymous visitor sees.
    """
    seconds = settings.PUBLIC_CACHE_SECONDS
    # A page that will change at a known moment (a drop opening) is not kept past it.
    cap = getattr(request, "max_public_cache_seconds", None)
    if cap is not None:
        seconds = max(0, min(seconds, int(cap)))
    has_session = settings.SESSION_COOKIE_NAME in request.COOKIES
    if not seconds or has_session or response.status_code != 200:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(
            response,
            public=True,
            max_age=min(60, seconds),
            s_maxage=seconds,
            stale_while_revalidate=seconds * 2,
        )
    return response


class PublicCacheMixin:
    """Send ``Cache-Control`` so CloudFront can keep anonymous views of a page."""

    def serve(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().serve(request, *args, **kwargs)
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            # Decide after rendering, so the status code is final.
            response.add_post_render_callback(lambda r: apply_public_cache_headers(request, r))
            return response
        return apply_public_cache_headers(request, response)
