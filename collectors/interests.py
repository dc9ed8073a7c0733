"""Saving works and following artists: the rules, apart from the views that call them.

- Only what the public may see can be saved or followed (a live work by a live artist, a live
  artist page); removing needs no such check (a work unpublished later can still be removed).
- Saving twice, or removing what is not saved, changes nothing and is not an error: the answer
  is the state asked for. The unique constraints decide between two requests at once.
- A guest who hearts a work is asked to sign in; the wish waits in their session
  (:func:`remember_pending`) and is carried out when they sign in (:func:`apply_pending_on_login`,
  on ``user_logged_in``). Django keeps session data across the login's new session key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from artists.models import ArtistPage
from artworks.models import Artwork

from .models import ArtistAlerts, FollowedArtist, SavedWork

Kind = Literal["work", "artist"]
PENDING_SESSION_KEY = "collectors.pending_interest"


@dataclass(frozen=True)
class Target:
    """What a heart or a follow button points at: a public work or a live artist."""

    kind: Kind
    pk: int
    title: str


def public_work(pk: int) -> Target | None:
    work = Artwork.objects.public().filter(pk=pk).values_list("title", flat=True).first()
    return Target("work", pk, work) if work is not None else None


def public_artist(pk: int) -> Target | None:
    title = ArtistPage.objects.live().public().filter(pk=pk).values_list("title", flat=True)
    title = title.first()
    return Target("artist", pk, title) if title is not None else None


def find(kind: Kind, pk: int) -> Target | None:
    return public_work(pk) if kind == "work" else public_artist(pk)


def _create_once(model, **fields) -> bool:
    """Insert unless the row exists; True if this call made it (safe against a race)."""
    if model.objects.filter(**fields).exists():
        return False
    try:
        with transaction.atomic():
            model.objects.create(**fields)
    except IntegrityError:  # a concurrent request made it a moment ago
        return False
    return True


def set_saved(user, artwork_pk: int, saved: bool) -> bool:
    """Save or remove a work for ``user``; True if anything changed."""
    if saved:
        return _create_once(SavedWork, user=user, artwork_id=artwork_pk)
    deleted, _ = SavedWork.objects.filter(user=user, artwork_id=artwork_pk).delete()
    return bool(deleted)


def set_following(user, artist_pk: int, following: bool) -> bool:
    """Follow or unfollow an artist for ``user``; True if anything changed.

    The first follow also makes the collector's digest setting (on: following an artist is
    asking to hear about them; every digest has one-click unsubscribe).
    """
    if following:
        ArtistAlerts.objects.get_or_create(user=user)
        return _create_once(FollowedArtist, user=user, artist_id=artist_pk)
    deleted, _ = FollowedArtist.objects.filter(user=user, artist_id=artist_pk).delete()
    return bool(deleted)


def apply(user, target: Target, on: bool) -> bool:
    if target.kind == "work":
        return set_saved(user, target.pk, on)
    return set_following(user, target.pk, on)


def state_for(user, work_ids: Iterable[int], artist_ids: Iterable[int]) -> dict[str, list[int]]:
    """Which of these works ``user`` saved and which of these artists they follow."""
    work_ids, artist_ids = sorted(set(work_ids)), sorted(set(artist_ids))
    saved = following = []
    if work_ids:
        saved = list(
            SavedWork.objects.filter(user=user, artwork_id__in=work_ids)
            .order_by("artwork_id")
            .values_list("artwork_id", flat=True)
        )
    if artist_ids:
        following = list(
            FollowedArtist.objects.filter(user=user, artist_id__in=artist_ids)
            .order_by("artist_id")
            .values_list("artist_id", flat=True)
        )
    return {"saved": saved, "following": following}


# --- A guest's wish, kept until they sign in -----------------------------------------------------


def remember_pending(request: HttpRequest, target: Target) -> None:
    """Keep one wish (the latest) in the guest's session until they sign in."""
    request.session[PENDING_SESSION_KEY] = {"kind": target.kind, "pk": target.pk}


def apply_pending_on_login(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """``user_logged_in``: carry out the save or follow the guest asked for before signing in."""
    session = getattr(request, "session", None)
    if session is None:
        return
    pending = session.pop(PENDING_SESSION_KEY, None)
    if not isinstance(pending, dict) or pending.get("kind") not in ("work", "artist"):
        return
    pk = pending.get("pk")
    if not isinstance(pk, int):
        return
    target = find(pending["kind"], pk)
    if target is None:  # unpublished while they were signing in
        return
    apply(user, target, True)
    done = "Saved" if target.kind == "work" else "You are following"
    # A sign-in made outside a request cycle (the test client's) has no message storage.
    messages.success(request, f"{done} “{target.title}”.", fail_silently=True)
