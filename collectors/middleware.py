"""Account pages are the visitor's own: never stored by a browser's or CloudFront's cache."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

ACCOUNT_PREFIX = "/accounts/"


class NeverCacheAccountPages:
    """``private, no-store`` on every answer under /accounts/ (allauth's views send none)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(ACCOUNT_PREFIX):
            add_never_cache_headers(response)
        return response
