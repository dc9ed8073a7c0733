"""Site search. Wagtail's database backend: PostgreSQL full-text in production, SQLite locally."""

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.cache import never_cache
from wagtail.models import Page

RESULTS_PER_PAGE = 10
MAX_QUERY_LENGTH = 200


@never_cache
def search(request: HttpRequest) -> HttpResponse:
    raw_query = request.GET.get("query", "")
    query = " ".join(raw_query.split())[:MAX_QUERY_LENGTH]
    message = ""
    if len(raw_query) > MAX_QUERY_LENGTH:
        message = f"Your search was shortened to its first {MAX_QUERY_LENGTH} characters."

    results = (
        Page.objects.live().public().specific().search(query) if query else Page.objects.none()
    )
    paginator = Paginator(results, RESULTS_PER_PAGE)
    try:
        page = paginator.page(request.GET.get("page", 1))
    except PageNotAnInteger:
        page = paginator.page(1)
    except EmptyPage:
        page = paginator.page(paginator.num_pages)

    return TemplateResponse(
        request,
        "search/search.html",
        {"search_query": query, "search_results": page, "message": message},
    )
