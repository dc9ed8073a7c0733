"""The daily digest: what is new by the artists a collector follows, at most one email a day.

Planning (``plan_digests``, on Celery beat every hour from ``COLLECTOR_DIGEST_HOUR``)
-----------------------------------------------------------------------------------
New means: a live work by a followed artist first published after the collector followed them
(and within ``LOOKBACK``), or a live drop with such an artist's work, opening in the future and
first published after the follow. For each collector with something new, one transaction:

1. lock the collector's ``ArtistAlerts`` row (``FOR UPDATE``; runs at once queue up here);
2. skip them if they unsubscribed or already have today's ``Digest`` (unique on user and day);
3. leave out every work and drop already mentioned to them (``DigestItem`` is unique on user and
   work, user and drop: each is mentioned at most once ever, whatever the code above does);
4. write the ``Digest``, its items and an outbox message for ``send_digest`` and commit.

All or nothing: a worker killed before the commit leaves nothing, and the next run plans the
collector again; after it, the outbox delivers the send (at least once) even if the broker was
down. The same run re-queues digests whose send task was lost (``RESEND_AFTER``).

Sending (``send_digest``, from the outbox): at most once
-------------------------------------------------------
SMTP has no idempotency key, so no code can know whether a server accepted a message when the
worker died between the server's answer and our record of it. The drop reminder (a lost one is
the worse failure) takes the risk of a second email; a digest takes the other side, because a
second copy of a promotional email is the worse failure and "at most one a day" is the promise:

1. lock the digest (``FOR UPDATE``), check it is still pending, set ``attempted_at``, commit;
2. lock it again, hold the lock while the email is sent, record ``sent_at``, commit.

A delivery that finds ``attempted_at`` set and the digest still pending knows a worker died
mid-send (a second copy of the task waits on the lock of 2 while the first is sending, and then
finds it sent): it marks the digest ``uncertain`` and sends nothing. A worker killed before 1
commits (waiting for the lock, or before it started) leaves the digest pending, and the
redelivered task (``acks_late``) sends it once. A mail server that refuses (an ``OSError``)
clears ``attempted_at`` before the task retries: that send is known not to have happened. Each
message has a Message-ID made from the digest, so a copy that slipped through would be one
message to mail systems that collapse duplicates.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from artworks.models import Artwork
from core import email, outbox
from drops.models import DropArtwork, DropPage

from .models import ArtistAlerts, Digest, DigestItem, DigestOutcome, FollowedArtist

logger = logging.getLogger(__name__)

SEND_TASK = "collectors.tasks.send_digest"
# Works and drops published longer ago than this are not news (a beat that was down for days
# does not send a backlog).
LOOKBACK = timedelta(days=7)
# A pending digest older than this whose send never started is queued again.
RESEND_AFTER = timedelta(minutes=30)
# The most works one email lists; the rest are counted and linked.
MAX_WORKS_SHOWN = 12
UNSUBSCRIBE_SALT = "collectors.digest.unsubscribe"


class InvalidLink(Exception):
    """The unsubscribe link was not made by us, or its collector is gone."""


# --- Unsubscribe links ---------------------------------------------------------------------------


def unsubscribe_url(alerts: ArtistAlerts) -> str:
    signed = signing.Signer(salt=UNSUBSCRIBE_SALT).sign(alerts.token)
    return email.site_url(reverse("interests:unsubscribe", args=[signed]))


def alerts_for_unsubscribe_token(signed: str) -> ArtistAlerts:
    try:
        token = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(signed)
    except signing.BadSignature as error:
        raise InvalidLink("This unsubscribe link is not valid.") from error
    row = ArtistAlerts.objects.select_related("user").filter(token=token).first()
    if row is None:
        raise InvalidLink("This unsubscribe link no longer matches an account.")
    return row


def unsubscribe(alerts: ArtistAlerts) -> bool:
    """Stop the digest; False if it had already stopped (a second click changes nothing)."""
    changed = ArtistAlerts.objects.filter(pk=alerts.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=timezone.now()
    )
    alerts.refresh_from_db()
    return bool(changed)


# --- Planning ------------------------------------------------------------------------------------


@dataclass
class News:
    """What may go into one collector's digest (before what they were already told is removed)."""

    works: set[int] = field(default_factory=set)
    drops: set[int] = field(default_factory=set)


def digest_day(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now())


def news_by_collector(now: datetime) -> dict[int, News]:
    """Collector id → the new works and drops of the artists they follow (a few queries)."""
    since = now - LOOKBACK
    works = list(
        Artwork.objects.public()
        .filter(first_published_at__gte=since, first_published_at__lte=now)
        .values_list("pk", "artist_id", "first_published_at")
    )
    drops = dict(
        DropPage.objects.live()
        .public()
        .filter(starts_at__gt=now, first_published_at__gte=since)
        .values_list("pk", "first_published_at")
    )
    drop_artists: dict[int, set[int]] = defaultdict(set)
    for drop_id, artist_id in DropArtwork.objects.filter(
        page_id__in=drops, artwork__live=True
    ).values_list("page_id", "artwork__artist_id"):
        drop_artists[drop_id].add(artist_id)
    artist_ids = {artist for _, artist, _ in works}.union(*drop_artists.values())
    if not artist_ids:
        return {}
    follows = (
        FollowedArtist.objects.filter(artist_id__in=artist_ids, user__is_active=True)
        # Only to an address its owner has verified (allauth): never to a typo or a stranger.
        .filter(
            Exists(
                EmailAddress.objects.filter(
                    user_id=OuterRef("user_id"),
                    email__iexact=OuterRef("user__email"),
                    verified=True,
                )
            )
        )
        .filter(Q(user__artist_alerts__isnull=True) | Q(user__artist_alerts__unsubscribed_at=None))
        .values_list("user_id", "artist_id", "followed_at")
    )
    since_follow: dict[int, dict[int, datetime]] = defaultdict(dict)
    for user_id, artist_id, followed_at in follows:
        since_follow[artist_id][user_id] = followed_at
    news: dict[int, News] = defaultdict(News)
    for pk, artist_id, published in works:
        for user_id, followed_at in since_follow.get(artist_id, {}).items():
            if published >= followed_at:
                news[user_id].works.add(pk)
    for drop_id, artists in drop_artists.items():
        for artist_id in artists:
            for user_id, followed_at in since_follow.get(artist_id, {}).items():
                if drops[drop_id] >= followed_at:
                    news[user_id].drops.add(drop_id)
    return dict(news)


def plan_digest(user_id: int, news: News, day: date) -> Digest | None:
    """Write one collector's digest for ``day`` and queue its send; None if none is due."""
    with transaction.atomic():
        alerts, _ = ArtistAlerts.objects.get_or_create(user_id=user_id)
        alerts = ArtistAlerts.objects.select_for_update().get(pk=alerts.pk)
        if not alerts.is_active or Digest.objects.filter(user_id=user_id, day=day).exists():
            return None
        told = DigestItem.objects.filter(user_id=user_id).filter(
            Q(artwork_id__in=news.works) | Q(drop_id__in=news.drops)
        )
        told_works, told_drops = set(), set()
        for artwork_id, drop_id in told.values_list("artwork_id", "drop_id"):
            told_works.add(artwork_id)
            told_drops.add(drop_id)
        works, drops = sorted(news.works - told_works), sorted(news.drops - told_drops)
        if not works and not drops:
            return None
        digest = Digest.objects.create(user_id=user_id, day=day)
        DigestItem.objects.bulk_create(
            [DigestItem(digest=digest, user_id=user_id, artwork_id=pk) for pk in works]
            + [DigestItem(digest=digest, user_id=user_id, drop_id=pk) for pk in drops]
        )
        outbox.enqueue(SEND_TASK, digest.pk)
    return digest


def plan_digests(now: datetime | None = None) -> int:
    """Plan today's digests for every collector with news; how many this run planned."""
    now = now or timezone.now()
    day = digest_day(now)
    planned = 0
    for user_id, news in sorted(news_by_collector(now).items()):
        try:
            planned += plan_digest(user_id, news, day) is not None
        except IntegrityError:  # another run planned this collector a moment ago
            logger.info("Digest for collector %s planned by another run", user_id)
    requeue_lost_sends(now)
    return planned


def requeue_lost_sends(now: datetime) -> int:
    """Queue again the sends of digests still pending, never attempted, planned a while ago."""
    waiting = list(
        Digest.objects.filter(
            outcome=DigestOutcome.PENDING,
            attempted_at__isnull=True,
            created_at__lt=now - RESEND_AFTER,
            created_at__gte=now - LOOKBACK,
        ).values_list("pk", flat=True)
    )
    for pk in waiting:
        with transaction.atomic():
            outbox.enqueue(SEND_TASK, pk)
    return len(waiting)


# --- Sending -------------------------------------------------------------------------------------


def _start(digest_pk: int) -> Digest | None:
    """Step 1: claim the send. None if there is nothing to send (done, or died mid-send)."""
    with transaction.atomic():
        digest = Digest.objects.select_for_update().filter(pk=digest_pk).first()
        if digest is None or digest.outcome != DigestOutcome.PENDING:
            return None
        if digest.attempted_at is not None:
            digest.outcome = DigestOutcome.UNCERTAIN
            digest.save(update_fields=["outcome"])
            logger.warning(
                "Digest %s: a send began at %s and never finished; not sent again",
                digest_pk,
                digest.attempted_at,
            )
            return None
        alerts = ArtistAlerts.objects.filter(user_id=digest.user_id).first()
        if alerts is None or not alerts.is_active:
            digest.outcome = DigestOutcome.SKIPPED
            digest.save(update_fields=["outcome"])
            return None
        digest.attempted_at = timezone.now()
        digest.save(update_fields=["attempted_at"])
    return digest


def send_digest(digest_pk: int) -> bool:
    """Send one digest at most once (see the module docstring); True if an email went."""
    if _start(digest_pk) is None:
        return False
    try:
        with transaction.atomic():
            digest = (
                Digest.objects.select_for_update(of=("self",))
                .select_related("user", "user__artist_alerts")
                .get(pk=digest_pk)
            )
            message = digest_message(digest)
            outcome = email.send(message) if message is not None else None
            digest.sent_at = timezone.now()
            digest.outcome = (
                DigestOutcome.SENT if outcome and outcome.was_sent else DigestOutcome.SKIPPED
            )
            digest.save(update_fields=["sent_at", "outcome"])
    except OSError:
        # The mail server refused or could not be reached: known not sent, so it may be tried
        # again (the task retries).
        Digest.objects.filter(pk=digest_pk, sent_at__isnull=True).update(attempted_at=None)
        raise
    if digest.outcome == DigestOutcome.SENT:
        logger.info("Digest %s sent", digest_pk)
        return True
    logger.warning("Digest %s not sent: nothing left to show or address undeliverable", digest_pk)
    return False


def _mail_domain() -> str:
    return urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname or "artspot"


def digest_message(digest: Digest) -> EmailMultiAlternatives | None:
    """The email, with only what is still on show; None if nothing is."""
    ids = list(digest.items.values_list("artwork_id", "drop_id"))
    work_ids = [a for a, _ in ids if a]
    drop_ids = [d for _, d in ids if d]
    works = list(
        Artwork.objects.public()
        .select_related("artist")
        .filter(pk__in=work_ids)
        .order_by("artist__title", "-first_published_at", "pk")
    )
    drops = list(DropPage.objects.live().public().filter(pk__in=drop_ids).order_by("starts_at"))
    if not works and not drops:
        return None
    user = digest.user
    alerts = user.artist_alerts
    unsubscribe = unsubscribe_url(alerts)
    artists = sorted({work.artist.title for work in works})
    context = {
        "works": [
            {"work": work, "url": email.site_url(work.get_url())}
            for work in works[:MAX_WORKS_SHOWN]
        ],
        "more_works": max(0, len(works) - MAX_WORKS_SHOWN),
        "drops": [
            {
                "drop": drop,
                "url": email.site_url(drop.url or "/"),
                "starts_at": timezone.localtime(drop.starts_at),
            }
            for drop in drops
        ],
        "artists": artists,
        "following_url": email.site_url(reverse("interests:following")),
        "unsubscribe_url": unsubscribe,
        "name": user.get_full_name() or "",
    }
    if works and len(artists) == 1:
        subject = f"New from {artists[0]}" + (" on ArtSpot" if not drops else " and a new drop")
    elif works:
        subject = f"New from {len(artists)} artists you follow"
    else:
        subject = f"A new drop: “{drops[0].title}”" if len(drops) == 1 else "New drops on ArtSpot"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("collectors/email/digest.txt", context),
        to=[user.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
        headers={
            **email.one_click_unsubscribe_headers(
                unsubscribe, "ArtSpot artist alerts <artist-alerts.artspot>"
            ),
            "Message-ID": f"<digest-{digest.pk}-{digest.day:%Y%m%d}@{_mail_domain()}>",
        },
    )
    message.attach_alternative(
        render_to_string("collectors/email/digest.html", context), "text/html"
    )
    return message
