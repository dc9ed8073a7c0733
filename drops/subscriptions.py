"""Notify me: subscribe, confirm (double opt-in), unsubscribe, and the signed links in the emails.

Rules, in one place:

- A visitor's address counts only after they follow the confirmation link we email them
  (double opt-in). Asking again for an address we already have never reveals whether it was
  subscribed; an unconfirmed address gets the confirmation again at most every
  ``CONFIRMATION_RESEND_AFTER`` (so the form cannot be used to flood someone's inbox).
- A signed-in collector subscribes with one click and is confirmed at once with their account's
  address: ArtSpot accounts are made by staff or at checkout, never by self-service sign-up, so the
  address is known. If self-service sign-up without email verification is ever added, set
  ``DROP_ALERTS_TRUST_ACCOUNT_EMAILS = False`` and they go through double opt-in like everyone else.
- Links carry the subscription's random token, signed with a purpose-specific salt: a confirm link
  cannot unsubscribe or vice versa, a forged or garbled one is refused, and confirmation links
  expire after ``CONFIRM_LINK_MAX_AGE``. Unsubscribe links never expire (old emails keep working).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from core import outbox
from core.email import site_url

from .models import DropPage, DropSubscription

CONFIRM_SALT = "drops.subscription.confirm"
UNSUBSCRIBE_SALT = "drops.subscription.unsubscribe"
CONFIRM_LINK_MAX_AGE = timedelta(days=7)
CONFIRMATION_RESEND_AFTER = timedelta(minutes=10)


class InvalidLink(Exception):
    """The link was not made by us (forged, truncated) or no longer points at anything."""


class ExpiredLink(InvalidLink):
    """A genuine confirmation link, older than ``CONFIRM_LINK_MAX_AGE``."""


def trust_account_emails() -> bool:
    return getattr(settings, "DROP_ALERTS_TRUST_ACCOUNT_EMAILS", True)


# --- Signed links --------------------------------------------------------------------------------


def confirm_token(subscription: DropSubscription) -> str:
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(subscription.token)


def unsubscribe_token(subscription: DropSubscription) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(subscription.token)


def confirm_url(subscription: DropSubscription) -> str:
    return site_url(reverse("drops:confirm", args=[confirm_token(subscription)]))


def unsubscribe_url(subscription: DropSubscription) -> str:
    return site_url(reverse("drops:unsubscribe", args=[unsubscribe_token(subscription)]))


def _lookup(token: str) -> DropSubscription:
    subscription = DropSubscription.objects.select_related("drop").filter(token=token).first()
    if subscription is None:
        raise InvalidLink("This link does not match a subscription.")
    return subscription


def subscription_for_confirm_token(signed: str) -> DropSubscription:
    try:
        token = signing.TimestampSigner(salt=CONFIRM_SALT).unsign(
            signed, max_age=CONFIRM_LINK_MAX_AGE
        )
    except signing.SignatureExpired as error:
        raise ExpiredLink("This confirmation link has expired.") from error
    except signing.BadSignature as error:
        raise InvalidLink("This link is not valid.") from error
    return _lookup(token)


def subscription_for_unsubscribe_token(signed: str) -> DropSubscription:
    try:
        token = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(signed)
    except signing.BadSignature as error:
        raise InvalidLink("This link is not valid.") from error
    return _lookup(token)


# --- Changes -------------------------------------------------------------------------------------


def subscribe(drop: DropPage, email: str, user=None) -> DropSubscription:
    """Record the wish to hear about ``drop``; queue a confirmation email when one is due.

    ``user`` (a signed-in collector subscribing their own account address) confirms at once.
    Safe to call twice at the same moment: the unique constraint decides, the loser re-reads.
    """
    email = email.strip().lower()
    confirm_now = user is not None and trust_account_emails()
    now = timezone.now()
    with transaction.atomic():
        subscription = (
            DropSubscription.objects.select_for_update().filter(drop=drop, email=email).first()
        )
        if subscription is None:
            try:
                with transaction.atomic():
                    subscription = DropSubscription.objects.create(
                        drop=drop, email=email, user=user
                    )
            except IntegrityError:
                subscription = DropSubscription.objects.select_for_update().get(
                    drop=drop, email=email
                )
        changed: list[str] = []
        if user is not None and subscription.user_id is None:
            subscription.user = user
            changed.append("user")
        if confirm_now:
            if not subscription.is_active:
                subscription.confirmed_at = now
                subscription.unsubscribed_at = None
                changed += ["confirmed_at", "unsubscribed_at"]
        elif not subscription.is_active:
            last = subscription.confirmation_sent_at
            if last is None or now - last >= CONFIRMATION_RESEND_AFTER:
                subscription.confirmation_sent_at = now
                changed.append("confirmation_sent_at")
                # Through the outbox: a broker outage delays the email, never the request.
                outbox.enqueue("drops.tasks.send_subscription_confirmation", subscription.pk)
        if changed:
            subscription.save(update_fields=changed)
    return subscription


def confirm(subscription: DropSubscription) -> bool:
    """Set ``confirmed_at`` (and lift an earlier unsubscribe). False if it already counted."""
    updated = DropSubscription.objects.filter(pk=subscription.pk).exclude(
        confirmed_at__isnull=False, unsubscribed_at__isnull=True
    )
    changed = updated.update(confirmed_at=timezone.now(), unsubscribed_at=None)
    subscription.refresh_from_db()
    return bool(changed)


def unsubscribe(subscription: DropSubscription) -> bool:
    """Stop every reminder for this subscription. False if it had already stopped."""
    changed = DropSubscription.objects.filter(
        pk=subscription.pk, unsubscribed_at__isnull=True
    ).update(unsubscribed_at=timezone.now())
    subscription.refresh_from_db()
    return bool(changed)


def subscription_for_user(drop: DropPage, user) -> DropSubscription | None:
    """The signed-in collector's subscription to ``drop`` (by account or account address)."""
    if not getattr(user, "is_authenticated", False):
        return None
    mine = DropSubscription.objects.filter(drop=drop, user=user).first()
    if mine is None and user.email:
        mine = DropSubscription.objects.filter(drop=drop, email=user.email.lower()).first()
    return mine
