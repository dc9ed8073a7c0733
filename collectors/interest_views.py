"""Hearts, follows, the Saved and Following pages, and the digest's unsubscribe link.

The heart and the follow button sit on pages CloudFront shares, so their forms carry no CSRF
token and no state: with JavaScript (``artspot/static/js/interests.js``) the page asks
:func:`state` which of its works and artists this visitor has (``private, no-store`` JSON) and
posts with a token fetched from ``/csrf/``, answered in JSON; without it the POST gets Django's
confirmation page (``core.csrf``, the views are ``@confirmable``: saving is visible and undone
in one click) and then a redirect back with a message. A guest is sent to sign in with the wish
kept in their session (``collectors.interests``) and comes back to the page with it done.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, resolve_url
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from artists.models import ArtistPage
from artworks.models import Artwork
from core.csrf import confirmable
from core.ratelimits import over_limit

from . import interests
from .digest import InvalidLink, alerts_for_unsubscribe_token, unsubscribe
from .models import ArtistAlerts, FollowedArtist, SavedWork

# Bigger than any primary key PostgreSQL's integer holds: answered 404, never a database error.
MAX_PK = 2**31 - 1
# The most ids one state request may ask about (a page shows far fewer).
MAX_STATE_IDS = 200
RATES = ("60/m", "600/h")
SAVED_PER_PAGE = 48
TOO_MANY = "Too many requests. Please wait a minute and try again."


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _problem(request: HttpRequest, status: int, message: str, **extra) -> HttpResponse:
    """A clear refusal: JSON for the page's script, a small page for a browser."""
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"error": message, **extra}, status=status)
    else:
        response = TemplateResponse(
            request, "collectors/problem.html", {"message": message, **extra}, status=status
        )
    if status == 405:
        response["Allow"] = "POST"
    add_never_cache_headers(response)
    return response


def _next_path(request: HttpRequest, fallback: str) -> str:
    """Where to go back to: the posted ``next`` when it is a path on this site."""
    wanted = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return wanted if wanted and safe and wanted.startswith("/") else fallback


def login_url(next_path: str) -> str:
    return f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': next_path})}"


def _describe_work(request: HttpRequest, artwork_id: int) -> str:
    work = (
        Artwork.objects.public().filter(pk=artwork_id).values_list("title", "artist__title").first()
        if artwork_id <= MAX_PK
        else None
    )
    return f"“{work[0]}” by {work[1]}" if work else ""


def _describe_artist(request: HttpRequest, artist_id: int) -> str:
    target = interests.public_artist(artist_id) if artist_id <= MAX_PK else None
    return target.title if target else ""


def _interest(request: HttpRequest, kind: interests.Kind, pk: int) -> HttpResponse:
    """POST ``on=1`` (save / follow) or ``on=0`` (remove / unfollow) for the signed-in visitor."""
    noun = "work" if kind == "work" else "artist"
    if request.method != "POST":
        return _problem(request, 405, f"Use the button on the {noun}'s page.")
    on = request.POST.get("on", "1")
    if on not in ("0", "1"):
        return _problem(request, 400, "“on” must be 1 or 0.")
    on = on == "1"
    if over_limit(request, f"collectors.{kind}", RATES):
        return _problem(request, 429, TOO_MANY)
    target = interests.find(kind, pk) if pk <= MAX_PK else None
    if target is None and not on and pk <= MAX_PK:
        # Removing needs no public page: a work unpublished since it was saved can go too.
        model = Artwork if kind == "work" else ArtistPage
        title = model.objects.filter(pk=pk).values_list("title", flat=True).first()
        target = interests.Target(kind, pk, title) if title is not None else None
    if target is None:
        return _problem(request, 404, f"There is no such {noun} on show.")
    own_page = reverse("interests:saved" if kind == "work" else "interests:following")
    back = _next_path(request, own_page)
    if not request.user.is_authenticated:
        if on:
            interests.remember_pending(request, target)
        to_login = login_url(back)
        if _wants_json(request):
            message = "Sign in to save works." if kind == "work" else "Sign in to follow artists."
            return _problem(request, 401, message, login_url=to_login)
        return redirect(to_login)
    changed = interests.apply(request.user, target, on)
    if _wants_json(request):
        key = "saved" if kind == "work" else "following"
        response = JsonResponse({"kind": kind, "id": pk, key: on, "changed": changed})
        add_never_cache_headers(response)
        return response
    if kind == "work":
        said = (
            f"Saved “{target.title}”." if on else f"Removed “{target.title}” from your saved works."
        )
    else:
        said = (
            f"You are following {target.title}." if on else f"You no longer follow {target.title}."
        )
    messages.success(request, said)
    return redirect(back)


@confirmable("Save this work", {"on": "", "next": ""}, describe=_describe_work)
def save_work(request: HttpRequest, artwork_id: int) -> HttpResponse:
    return _interest(request, "work", artwork_id)


@confirmable("Follow this artist", {"on": "", "next": ""}, describe=_describe_artist)
def follow_artist(request: HttpRequest, artist_id: int) -> HttpResponse:
    return _interest(request, "artist", artist_id)


def _ids(raw: str) -> list[int] | None:
    """``"3,14,15"`` → ``[3, 14, 15]``; None for anything else (or too many)."""
    if not raw:
        return []
    parts = raw.split(",")
    if len(parts) > MAX_STATE_IDS or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    ids = [int(p) for p in parts]
    return ids if all(0 < pk <= MAX_PK for pk in ids) else None


@never_cache
def state(request: HttpRequest) -> HttpResponse:
    """``GET ?works=1,2&artists=3`` → which of them this visitor saved and follows.

    For one visitor only (``private, no-store``). A guest's answer needs no database and makes
    no session; it only says they are not signed in.
    """
    if request.method != "GET":
        response = JsonResponse({"error": "Use GET."}, status=405)
        response["Allow"] = "GET"
        return response
    works, artists = _ids(request.GET.get("works", "")), _ids(request.GET.get("artists", ""))
    if works is None or artists is None:
        return JsonResponse(
            {"error": f"works and artists are lists of up to {MAX_STATE_IDS} ids: 1,2,3."},
            status=400,
        )
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "saved": [], "following": []})
    return JsonResponse({"signed_in": True, **interests.state_for(request.user, works, artists)})


@never_cache
@login_required
def saved(request: HttpRequest) -> HttpResponse:
    """The collector's saved works, newest first; works no longer on show listed apart."""
    rows = SavedWork.objects.filter(user=request.user).order_by("-saved_at", "-pk")
    page = Paginator(rows.values_list("artwork_id", flat=True), SAVED_PER_PAGE).get_page(
        request.GET.get("page")
    )
    ids = list(page.object_list)
    shown = {work.pk: work for work in Artwork.objects.public().for_listing().filter(pk__in=ids)}
    gone = [pk for pk in ids if pk not in shown]
    withdrawn = list(Artwork.objects.filter(pk__in=gone).only("pk", "title")) if gone else []
    return TemplateResponse(
        request,
        "collectors/saved.html",
        {
            "artworks": [shown[pk] for pk in ids if pk in shown],
            "withdrawn": withdrawn,
            "page_obj": page,
        },
    )


@never_cache
@login_required
def following(request: HttpRequest) -> HttpResponse:
    """The artists the collector follows, and their digest setting."""
    follows = list(
        FollowedArtist.objects.filter(user=request.user)
        .select_related("artist")
        .order_by("artist__title", "pk")
    )
    alerts = ArtistAlerts.objects.filter(user=request.user).first()
    return TemplateResponse(
        request,
        "collectors/following.html",
        {"follows": follows, "alerts_on": alerts is None or alerts.is_active},
    )


@never_cache
@require_POST
@login_required
def alerts(request: HttpRequest) -> HttpResponse:
    """Turn the daily digest on or off from the Following page."""
    wanted = request.POST.get("digest")
    if wanted not in ("on", "off"):
        return _problem(request, 400, "Choose on or off.")
    row, _ = ArtistAlerts.objects.get_or_create(user=request.user)
    row.unsubscribed_at = None if wanted == "on" else (row.unsubscribed_at or timezone.now())
    row.save(update_fields=["unsubscribed_at"])
    messages.success(
        request,
        "We will email you what is new by the artists you follow, at most once a day."
        if wanted == "on"
        else "We will not email you about the artists you follow.",
    )
    return redirect("interests:following")


@never_cache
@csrf_exempt
def unsubscribe_digest(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button (mail scanners follow links). POST (that button, or a mail client's RFC 8058
    one-click, with no cookie and no token: the signed URL is the authority): unsubscribe."""
    if request.method not in ("GET", "POST"):
        response = HttpResponse("Use GET or POST.", status=405, content_type="text/plain")
        response["Allow"] = "GET, POST"
        return response
    try:
        row = alerts_for_unsubscribe_token(token)
    except InvalidLink as error:
        return TemplateResponse(
            request, "collectors/problem.html", {"message": str(error)}, status=404
        )
    if request.method == "POST":
        unsubscribe(row)
    return TemplateResponse(
        request,
        "collectors/digest_unsubscribe.html",
        {"done": row.unsubscribed_at is not None, "email": row.user.email},
    )
