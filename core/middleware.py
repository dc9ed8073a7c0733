"""Turn away requests whose address carries control characters, before any view runs.

A NUL byte that reaches PostgreSQL fails the query ("A string literal cannot contain NUL"), so
one in an order number, a payment session id, a slug or a search box would otherwise be a 500.
No real link or form produces control characters in a path, so any path with one is refused.
In the query string (names and values) tab, line feed and carriage return are let through: a
pasted tab or a text area's line break is ordinary text, and the database stores them fine.
The session cookie is looked up in the database too, so it is held to the path's rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

# C0 controls (NUL included) and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTERS_BUT_WHITESPACE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

MESSAGE = "Bad request: the address contains a control character.\n"


def has_control_characters(request: HttpRequest) -> bool:
    """Whether the path, the query string or the session cookie holds a control character."""
    if CONTROL_CHARACTERS.search(request.path_info):
        return True
    if CONTROL_CHARACTERS.search(request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")):
        return True
    return any(
        CONTROL_CHARACTERS_BUT_WHITESPACE.search(text)
        for name, values in request.GET.lists()
        for text in (name, *values)
    )


class RejectControlCharactersMiddleware:
    """Answer 400 with a short plain-text message to an address with control characters."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if has_control_characters(request):
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
