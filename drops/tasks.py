"""Drop emails: the opt-in confirmation and the two reminders, each reminder sent exactly once.

Reminders
---------
``send_drop_reminders`` runs on Celery beat every minute. It finds the published drops that
start within the next 24 hours (the "24 hours to go" reminder, ``day_before``) and those that
started less than ``LIVE_REMINDER_WINDOW`` ago and have not ended (the "live now" reminder,
``started``), and sends each confirmed, still-subscribed address the reminder it has not had.

Exactly once per subscription and kind is decided by the database, one subscriber at a time:

1. In one transaction the task locks the subscription row with ``SELECT … FOR UPDATE SKIP
   LOCKED``. If another run holds it (beat fired twice, a slow run overlapping the next), this run
   skips that subscriber: the holder is sending, or will roll back and leave it to the next beat.
2. Under the lock it checks again that the subscription still counts (confirmed, not unsubscribed
   a moment ago), that the drop is still in the reminder's window, and that no ``DropReminder``
   row of this kind exists (another run may have committed it after this run listed the work).
3. It inserts the ``DropReminder`` row (unique on subscription and kind, so a second row is
   impossible even if the lock were bypassed), sends the email, and commits.

If the worker dies (killed, out of memory, a deploy) or the mail server refuses before the commit,
the transaction rolls back, PostgreSQL releases the lock with the connection, no row remains, and
the next beat, a minute later, sends that reminder. The one window that can still produce a second
email is between the mail server accepting the message and our COMMIT reaching the database, a few
milliseconds after the send returns; closing it would need the mail provider to deduplicate on an
idempotency key, which SMTP has no standard for. We take this order (at least once, with that tiny
window) over committing the claim before sending (at most once), because a lost reminder is the
worse failure for a collector waiting for a drop. The beat task is ``acks_late``: a run whose
worker was killed is handed to another worker once the broker's visibility timeout passes, and
finds the rows of what was sent already written (tests/test_drop_alerts.py kills a worker mid-run).
On the embedded default (SQLite, no worker) ``FOR UPDATE`` is a no-op, and runs are in-process.

Why one task per beat rather than one task per subscriber: with per-subscriber tasks each beat
would queue every pending reminder again (or need a "queued" marker that delays the retry of a task
lost with a killed worker until the marker expires). One run per beat keeps no state outside the
database; overlapping runs on several worker processes share the list, because each skips the rows
the others hold. A run stops at the first mail-server error, so an outage costs one timeout per
minute, not one per subscriber. If lists grow to many thousands per drop, fan out per batch of
subscribers with the same per-row transaction.

Each reminder carries RFC 8058 one-click unsubscribe headers (``List-Unsubscribe`` and
``List-Unsubscribe-Post``) pointing at the same signed URL as the link in the body.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from core import email, frontend_cache

from . import subscriptions
from .models import DropPage, DropReminder, DropSubscription, DropWindowPurge, ReminderKind

logger = logging.getLogger(__name__)

DAY_BEFORE_WINDOW = timedelta(hours=24)
# Drops that started this recently still get their "live now" reminder (beat may have paused).
LIVE_REMINDER_WINDOW = timedelta(minutes=30)


def _reminder_due(drop: DropPage, kind: str, now) -> bool:
    if not drop.live:
        return False
    if kind == ReminderKind.DAY_BEFORE:
        return drop.starts_at - DAY_BEFORE_WINDOW <= now < drop.starts_at
    if kind == ReminderKind.STARTED:
        still_open = drop.ends_at is None or now < drop.ends_at
        return drop.starts_at <= now < drop.starts_at + LIVE_REMINDER_WINDOW and still_open
    return False


def drops_due(now=None) -> dict[str, list[DropPage]]:
    """The live drops owed each kind of reminder at ``now``."""
    now = now or timezone.now()
    live = DropPage.objects.live()
    return {
        ReminderKind.DAY_BEFORE: list(
            live.filter(starts_at__gt=now, starts_at__lte=now + DAY_BEFORE_WINDOW)
        ),
        ReminderKind.STARTED: list(
            live.filter(starts_at__lte=now, starts_at__gt=now - LIVE_REMINDER_WINDOW).filter(
                Q(ends_at__isnull=True) | Q(ends_at__gt=now)
            )
        ),
    }


@shared_task(name="drops.tasks.send_drop_reminders")
def send_drop_reminders() -> int:
    """Beat: send every reminder that is due and not yet sent. Returns how many this run sent."""
    sent = 0
    for kind, drops in drops_due().items():
        for drop in drops:
            pending = list(
                DropSubscription.objects.filter(
                    drop=drop, confirmed_at__isnull=False, unsubscribed_at__isnull=True
                )
                .exclude(reminders__kind=kind)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            for subscription_pk in pending:
                try:
                    sent += send_reminder_once(subscription_pk, kind)
                except OSError:
                    # The mail server is down or refusing: nothing was recorded for this one;
                    # stop here and let the next beat try again.
                    logger.exception("Drop reminders paused: the mail server failed")
                    return sent
    return sent


def send_reminder_once(subscription_pk: int, kind: str) -> bool:
    """Send one reminder to one subscriber unless it was sent (see the module docstring)."""
    now = timezone.now()
    with transaction.atomic():
        subscription = (
            DropSubscription.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("drop")
            .filter(pk=subscription_pk, confirmed_at__isnull=False, unsubscribed_at__isnull=True)
            .first()
        )
        if subscription is None:
            return False  # another worker holds it, or it no longer counts
        if not _reminder_due(subscription.drop, kind, now):
            return False
        if DropReminder.objects.filter(subscription=subscription, kind=kind).exists():
            return False
        # The row is written even when the address is undeliverable: that reminder is done.
        DropReminder.objects.create(subscription=subscription, kind=kind, sent_at=now)
        outcome = email.send(_reminder_message(subscription, kind, now))
    if not outcome.was_sent:
        logger.warning(
            "Drop reminder %s skipped for subscription %s: address undeliverable",
            kind,
            subscription_pk,
        )
        return False
    logger.info("Drop reminder %s sent for subscription %s", kind, subscription_pk)
    return True


def _reminder_message(subscription: DropSubscription, kind: str, now) -> EmailMultiAlternatives:
    drop = subscription.drop
    unsubscribe_url = subscriptions.unsubscribe_url(subscription)
    context = {
        "drop": drop,
        "kind": kind,
        "drop_url": email.site_url(drop.url or "/"),
        "unsubscribe_url": unsubscribe_url,
        "starts_at": timezone.localtime(drop.starts_at),
        "ends_at": timezone.localtime(drop.ends_at) if drop.ends_at else None,
        "time_left": drop.starts_at - now,
    }
    if kind == ReminderKind.DAY_BEFORE:
        subject = f"Coming soon: “{drop.title}” opens {context['starts_at']:%-d %B at %H:%M %Z}"
    else:
        subject = f"Live now: “{drop.title}” is on sale"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"drops/email/reminder_{kind}.txt", context),
        to=[subscription.email],
        headers=email.one_click_unsubscribe_headers(
            unsubscribe_url, f"ArtSpot drop alerts <drop-{drop.pk}.alerts.artspot>"
        ),
    )
    message.attach_alternative(
        render_to_string(f"drops/email/reminder_{kind}.html", context), "text/html"
    )
    return message


@shared_task(
    name="drops.tasks.send_subscription_confirmation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_subscription_confirmation(subscription_pk: int) -> bool:
    """The double opt-in email. Nothing is sent for a subscription that already counts."""
    subscription = (
        DropSubscription.objects.select_related("drop").filter(pk=subscription_pk).first()
    )
    if subscription is None or subscription.is_active:
        return False
    drop = subscription.drop
    context = {
        "drop": drop,
        "confirm_url": subscriptions.confirm_url(subscription),
        "unsubscribe_url": subscriptions.unsubscribe_url(subscription),
        "drop_url": email.site_url(drop.url or "/"),
        "starts_at": timezone.localtime(drop.starts_at),
        "valid_days": subscriptions.CONFIRM_LINK_MAX_AGE.days,
    }
    message = EmailMultiAlternatives(
        subject=f"Confirm your reminder for “{drop.title}”",
        body=render_to_string("drops/email/confirm_subscription.txt", context),
        to=[subscription.email],
        from_email=settings.DEFAULT_FROM_EMAIL,
    )
    message.attach_alternative(
        render_to_string("drops/email/confirm_subscription.html", context), "text/html"
    )
    if not email.send(message).was_sent:
        logger.warning(
            "Drop alert confirmation skipped for subscription %s: address undeliverable",
            subscription_pk,
        )
        return False
    return True


# A beat that was down for less than this still purges the drops that changed meanwhile.
PURGE_LOOKBACK = timedelta(days=1)


@shared_task(name="drops.tasks.purge_opened_and_closed_drops", ignore_result=True)
def purge_opened_and_closed_drops() -> int:
    """Beat: purge the works of every drop (draft ones too: they guard their works) that opened
    or closed since the last run; each opening and closing once (``DropWindowPurge``)."""
    if not frontend_cache.enabled():
        return 0
    now = timezone.now()
    since = now - PURGE_LOOKBACK
    changed = DropPage.objects.filter(
        Q(starts_at__gt=since, starts_at__lte=now) | Q(ends_at__gt=since, ends_at__lte=now)
    )
    purged = 0
    for drop in changed:
        for moment in (drop.starts_at, drop.ends_at):
            if moment is None or not since < moment <= now:
                continue
            with transaction.atomic():
                _, created = DropWindowPurge.objects.get_or_create(drop=drop, moment=moment)
                if created:
                    work_ids = drop.drop_artworks.values_list("artwork_id", flat=True)
                    frontend_cache.purge_works(list(work_ids))
                    purged += 1
    return purged
