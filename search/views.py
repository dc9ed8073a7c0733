"""Site search pages: results grouped by type, one type paginated, and title suggestions."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.cache import patch_cache_control

from core.pages import apply_public_cache_headers

from . import engine
from .query import MAX_QUERY_LENGTH, SearchQuery

# Suggestions change as editors publish; browsers and CloudFront may keep them a minute.
AUTOCOMPLETE_CACHE_SECONDS = 60


def search(request: HttpRequest) -> HttpResponse:
    """``?query=`` shows every type's best results; ``&type=artworks`` pages through one type."""
    query = SearchQuery.parse(request.GET.get("query"))
    result_type = engine.get_type(request.GET.get("type"))
    context = {
        "search_query": query.text,
        "has_words": bool(query),
        "truncated": query.truncated,
        "max_query_length": MAX_QUERY_LENGTH,
        "result_type": result_type,
        "result_types": engine.available_types(),
    }
    if result_type is not None:
        requested = request.GET.get("page") or "1"
        results = engine.search_type(query, result_type, requested, request)
        context["results"] = results
        context["requested_page"] = requested
        context["page_problem"] = str(results.number) != requested
    else:
        groups = engine.search_grouped(query, request)
        context["groups"] = groups
        context["total"] = sum(group.count for group in groups)
    response = TemplateResponse(request, "search/search.html", context)
    return apply_public_cache_headers(request, response)


def autocomplete(request: HttpRequest) -> JsonResponse:
    """``?q=`` answers ``{"query", "results": [{"type", "title", "url", "subtitle"}]}``."""
    query = SearchQuery.parse(request.GET.get("q"))
    hits = engine.autocomplete(query, request)
    response = JsonResponse(
        {
            "query": query.text,
            "results": [
                {"type": hit.kind, "title": hit.title, "url": hit.url, "subtitle": hit.subtitle}
                for hit in hits
            ],
        }
    )
    if settings.PUBLIC_CACHE_SECONDS:
        patch_cache_control(
            response,
            public=True,
            max_age=AUTOCOMPLETE_CACHE_SECONDS,
            s_maxage=AUTOCOMPLETE_CACHE_SECONDS,
            stale_while_revalidate=AUTOCOMPLETE_CACHE_SECONDS,
        )
    else:
        patch_cache_control(response, private=True, no_cache=True)
    return response
