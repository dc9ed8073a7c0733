"""Behaviour shared by every public page type."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control


def carries_visitor_state(request: HttpRequest, response: HttpResponse) -> bool:
    """Whether the answer holds something of this visitor's, so no shared cache may keep it.

    A session (signed in, a cart, a flash message), a cookie being set, a CSRF token asked for
    while rendering (Django then sets the CSRF cookie), a session changed or a message queued by
    this request (their cookies are set after the view returns).
    """
    if settings.SESSION_COOKIE_NAME in request.COOKIES or response.cookies:
        return True
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return True
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return True
    return bool(getattr(getattr(request, "_messages", None), "_queued_messages", None))


def _decide(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    seconds = settings.PUBLIC_CACHE_SECONDS
    # A page that will change at a known moment (a drop opening) is not kept past it.
    cap = getattr(request, "max_public_cache_seconds", None)
    if cap is not None:
        seconds = max(0, min(seconds, int(cap)))
    personal = carries_visitor_state(request, response)
    # The one judgement, kept on the response for the origin's page cache (core.page_cache):
    # the same for every anonymous visitor, and for how long at most (None: no known moment).
    response.shareable = not personal and response.status_code == 200
    response.shareable_for = None if cap is None else max(0.0, float(cap))
    if personal:
        add_never_cache_headers(response)  # private, no-store
    elif not seconds or response.status_code != 200:
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


def apply_public_cache_headers(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let CloudFront keep a page only when it is the same for every anonymous visitor.

    ``private, no-store`` when the answer carries the visitor's state (``carries_visitor_state``);
    private when caching is off or the answer is not a plain 200. A template response is judged
    once rendered, when its status is final and its template has (or has not) asked for a token.
    """
    if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
        response.add_post_render_callback(lambda rendered: _decide(request, rendered))
        return response
    return _decide(request, response)


class PublicCacheMixin:
    """Send ``Cache-Control`` so CloudFront can keep anonymous views of a page; route to a child
    in one query when the page allows one child type only."""

    def route(self, request: HttpRequest, path_components: list[str]):
        """Wagtail reads the child's base row, then its specific row; an index whose children are
        all one model (stories, artists, drops, collections) reads the specific row at once. A
        route of a routable page still wins, and a miss falls back to Wagtail's own lookup."""
        allowed = type(self).allowed_subpage_models()
        if not path_components or len(allowed) != 1:
            return super().route(request, path_components)
        if hasattr(self, "resolve_subpage") and self.live:
            try:
                self.resolve_subpage("/" + "/".join(path_components) + "/")
            except Http404:
                pass
            else:
                return super().route(request, path_components)  # one of this page's routes
        child = allowed[0].objects.child_of(self).filter(slug=path_components[0]).first()
        if child is None:
            return super().route(request, path_components)
        child._cached_parent_obj = self
        return child.route(request, path_components[1:])

    def serve(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return apply_public_cache_headers(request, super().serve(request, *args, **kwargs))
