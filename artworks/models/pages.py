"""The artworks index: browse with filters at /artworks/ and one URL per work by slug."""

from __future__ import annotations

from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.models import Page

from core.csrf import confirmable
from core.navigation import index_url
from core.pages import PublicCacheMixin
from core.paging import DeferredPaginator
from core.ratelimits import TOO_MANY, over_limit

ARTWORKS_PER_PAGE = 24
RELATED_WORKS = 4
# What a visitor's enquiry sent without a CSRF token shows (and carries) when asked to confirm;
# the honeypot is carried, not shown.
INQUIRY_FIELDS = {
    "name": "Name",
    "email": "Email",
    "phone": "Phone",
    "message": "Message",
    "website": "",
}


def _describe_inquiry(request: HttpRequest, slug: str) -> str:
    from artworks.models import Artwork

    work = Artwork.objects.public().select_related("artist").filter(slug=slug).first()
    return f"About “{work.title}” by {work.artist.title}" if work else ""


class ArtworkIndexPage(PublicCacheMixin, RoutablePageMixin, Page):
    """Serves /artworks/ (browse), /artworks/<slug>/ and /artworks/<slug>/enquire/."""

    introduction = models.TextField(blank=True, max_length=500)

    content_panels = [*Page.content_panels, FieldPanel("introduction")]

    parent_page_types = ["home.HomePage"]
    subpage_types: list[str] = []
    max_count = 1

    class Meta:
        verbose_name = "artwork index page"

    # --- URLs ----------------------------------------------------------------------------------

    def get_cached_paths(self) -> list[str]:
        """Browse and every filtered, sorted or paged variant of it (a CloudFront wildcard)."""
        return ["/", "/?*"]

    @classmethod
    def artwork_url(cls, slug: str, request: HttpRequest | None = None) -> str:
        """The public URL of an artwork; looks the index page up once per request."""
        base = getattr(request, "_artwork_index_url", None) if request else None
        if base is None:
            base = index_url(cls, request)  # cached with the site's navigation
            if not base:
                return ""
            if request is not None:
                request._artwork_index_url = base
        return f"{base}{slug}/"

    # --- Views -----------------------------------------------------------------------------------

    @path("")
    def browse(self, request: HttpRequest) -> HttpResponse:
        from artworks.filters import without_empty_parameters

        # "?medium=&size=small" (a form submitted without JavaScript) becomes "?size=small".
        shorter = without_empty_parameters(request.GET)
        if shorter is not None:
            return redirect(f"{request.path}?{shorter}" if shorter else request.path)
        artwork_filter, problems, page_obj = self.browse_listing(request)
        return self.render(
            request,
            context_overrides={
                "filter": artwork_filter,
                "problems": problems,
                "artworks": page_obj,
                "query_without_page": artwork_filter.querystring_without("page"),
            },
        )

    def browse_listing(self, request: HttpRequest):
        """The filter, its problems and the page of works that browse shows for ``request``."""
        from artworks.filters import ArtworkFilter
        from artworks.models import Artwork

        # Problems are shown inline, not through messages: the page stays cacheable per URL.
        artwork_filter = ArtworkFilter(request.GET, queryset=Artwork.objects.public())
        problems = list(artwork_filter.problems)
        # Filters and order pick a page of ids (indexes answer that); only they get card data.
        paginator = DeferredPaginator(
            artwork_filter.qs,
            ARTWORKS_PER_PAGE,
            load=lambda pks: Artwork.objects.for_listing().filter(pk__in=pks),
        )
        page_number = request.GET.get("page") or 1
        page_obj = paginator.get_page(page_number)
        if str(page_number) != str(page_obj.number):
            problems.append(f"There is no page {page_number}; showing page {page_obj.number}.")
        return artwork_filter, problems, page_obj

    @path("<slug:slug>/")
    def artwork_detail(self, request: HttpRequest, slug: str) -> HttpResponse:
        from artworks.forms import ArtworkInquiryForm

        artwork = self._get_public_artwork(slug)
        return self._render_detail(request, artwork, ArtworkInquiryForm())

    @path("<slug:slug>/enquire/", name="artwork_inquiry")
    @confirmable("Send this enquiry", INQUIRY_FIELDS, describe=_describe_inquiry)
    def artwork_inquiry(self, request: HttpRequest, slug: str) -> HttpResponse:
        return _inquiry_view(request, self, slug)

    # --- Helpers ---------------------------------------------------------------------------------

    def _get_public_artwork(self, slug: str):
        from artworks.models import Artwork

        artwork = (
            Artwork.objects.public()
            .for_listing()
            .prefetch_related("tags")
            .filter(slug=slug)
            .first()
        )
        if artwork is None:
            raise Http404("No such artwork.")
        return artwork

    def _render_detail(
        self, request: HttpRequest, artwork, form, status: int = 200, refused: str = ""
    ) -> HttpResponse:
        from artworks.models import Artwork

        related = list(
            Artwork.objects.public()
            .for_listing()
            .filter(artist_id=artwork.artist_id)
            .exclude(pk=artwork.pk)
            .order_by("availability_rank", "-first_published_at")[:RELATED_WORKS]
        )
        if len(related) < RELATED_WORKS:
            related += list(
                Artwork.objects.public()
                .for_listing()
                .filter(medium=artwork.medium)
                .exclude(pk__in=[artwork.pk, *(w.pk for w in related)])
                .order_by("availability_rank", "-first_published_at")[
                    : RELATED_WORKS - len(related)
                ]
            )
        response = TemplateResponse(
            request,
            "artworks/artwork_detail.html",
            {
                "page": self,
                "self": self,
                "artwork": artwork,
                "related": related,
                "inquiry_form": form,
                "inquiry_refused": refused,
                "canonical_url": artwork.get_url(request),
                # An answer to a refused enquiry is never shared: its form may carry the token.
                "form_token": status != 200,
            },
            status=status,
        )
        return response


# Each enquiry emails the team: per client address, a few a minute and a handful an hour.
INQUIRY_RATES = ("5/m", "20/h")


@require_POST
def _inquiry_view(request: HttpRequest, index: ArtworkIndexPage, slug: str) -> HttpResponse:
    from artworks.forms import ArtworkInquiryForm

    artwork = index._get_public_artwork(slug)
    if over_limit(request, "artworks.inquiry", INQUIRY_RATES):
        # Nothing stored or sent; what they typed stays in the form for a later try.
        kept = {name: request.POST.get(name, "") for name in ("name", "email", "phone", "message")}
        return index._render_detail(
            request, artwork, ArtworkInquiryForm(initial=kept), status=429, refused=TOO_MANY
        )
    form = ArtworkInquiryForm(request.POST)
    if not form.is_valid():
        return index._render_detail(request, artwork, form, status=400)
    form.save_for(artwork)
    messages.success(request, "Thank you. Our team will reply to you within one working day.")
    return redirect(artwork.get_url(request) + "#enquire")
