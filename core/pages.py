"""Behaviour shared by every public page type."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class PublicCacheMixin:
    """Send ``Cache-Control`` so CloudFront can keep anonymous views of a page.

    Signed-in users (editors with the userbar, later collectors with a cart) get ``private``.
    """

    def serve(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = super().serve(request, *args, **kwargs)
        seconds = settings.PUBLIC_CACHE_SECONDS
        if request.user.is_authenticated or not seconds:
            patch_cache_control(response, private=True, no_cache=True)
        else:
            patch_cache_control(
                response,
                public=True,
                max_age=60,
                s_maxage=seconds,
                stale_while_revalidate=seconds * 2,
            )
        return response
