"""Sending email, and the one rule for whom we may email.

Every sender (shop, drops, artworks) hands its message to :func:`send`, which leaves out the
recipients SES reported as undeliverable (:class:`core.models.UndeliverableAddress`: a permanent
bounce or a complaint), counts and logs each skip, and sends to whoever is left. Callers record a
skip where their staff look (the shop writes an order event). A provider failure is raised as
:class:`SendFailed`, an ``OSError`` like SMTP's, so the tasks' retries cover both.

SES reports bounces and complaints through SNS to ``core.ses_webhook``; anymail turns each into a
tracking event, and :func:`record_tracking_event` marks the address. Transient bounces and later
deliveries change nothing: only an administrator lifts a mark (Settings → Undeliverable addresses).

Every absolute link in an email comes from :func:`site_url`: the site's configured address
(``WAGTAILADMIN_BASE_URL``, which ``make run`` sets from ``PORT``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr

from anymail.exceptions import AnymailError
from anymail.signals import AnymailTrackingEvent, EventType
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone

from .models import UndeliverableAddress

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    """The absolute URL of a site path, for emails: from the site's configured address."""
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}{path}"


def one_click_unsubscribe_headers(url: str, list_id: str) -> dict[str, str]:
    """RFC 8058 one-click unsubscribe (and RFC 2919 List-Id) headers for a mailing.

    ``url`` must answer a POST with no cookie and no CSRF token by unsubscribing (mail clients
    send ``List-Unsubscribe=One-Click`` there), and a GET with a button, never by unsubscribing.
    """
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": list_id,
    }


def _address(recipient: str) -> str:
    """The bare address of ``"Name <a@b>"`` or ``"a@b"``, lower-cased."""
    return parseaddr(recipient)[1].strip().lower()


def _marked(addresses: list[str]) -> dict[str, UndeliverableAddress]:
    wanted = {_address(a) for a in addresses} - {""}
    if not wanted:
        return {}
    rows = UndeliverableAddress.objects.annotate(address=Lower("email")).filter(address__in=wanted)
    return {row.address: row for row in rows}


def undeliverable(address: str) -> UndeliverableAddress | None:
    """The mark on ``address`` (any case), or None if we may email it."""
    return _marked([address]).get(_address(address))


def may_email(address: str) -> bool:
    return undeliverable(address) is None


class SendFailed(OSError):
    """The mail provider failed or refused (an ``OSError``, as SMTP failures are: tasks retry)."""


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def was_sent(self) -> bool:
        return bool(self.sent)


def send(message: EmailMessage) -> Outcome:
    """Send ``message`` to its deliverable recipients; nothing at all if none is left."""
    marked = _marked([*message.to, *message.cc, *message.bcc])
    outcome = Outcome()
    for name in ("to", "cc", "bcc"):
        kept = []
        for recipient in getattr(message, name):
            (outcome.skipped if _address(recipient) in marked else kept).append(recipient)
        setattr(message, name, kept)
    outcome.sent = [*message.to, *message.cc, *message.bcc]
    if outcome.skipped:
        skipped = {_address(a) for a in outcome.skipped}
        UndeliverableAddress.objects.filter(pk__in=[marked[a].pk for a in skipped]).update(
            skipped_count=F("skipped_count") + 1, last_skipped_at=timezone.now()
        )
        logger.warning(
            "Email %r not sent to undeliverable address(es): %s",
            message.subject,
            ", ".join(sorted(skipped)),
        )
    if outcome.sent:
        try:
            message.send()
        except AnymailError as error:  # SES's API (anymail); SMTP failures are OSErrors already
            raise SendFailed(f"Email {message.subject!r} not sent: {error}") from error
    return outcome


def mark_undeliverable(
    address: str,
    reason: str,
    *,
    reported_at: datetime | None = None,
    ses_message_id: str = "",
    diagnostic: str = "",
) -> bool:
    """Mark ``address``; False if already marked (a replayed notification changes nothing)."""
    address = address.strip()
    try:
        validate_email(address)
    except ValidationError:
        logger.warning("Ignoring a %s for a malformed address %r", reason, address[:100])
        return False
    if undeliverable(address) is not None:
        return False
    try:
        with transaction.atomic():
            UndeliverableAddress.objects.create(
                email=address,
                reason=reason,
                reported_at=reported_at or timezone.now(),
                ses_message_id=(ses_message_id or "")[:255],
                diagnostic=(diagnostic or "")[:2000],
            )
    except IntegrityError:  # marked by a concurrent notification a moment ago
        return False
    logger.warning("Email address %s marked undeliverable (%s)", address, reason)
    return True


def record_tracking_event(sender, event: AnymailTrackingEvent, esp_name: str, **kwargs) -> None:
    """anymail ``tracking`` receiver: mark addresses SES says must not be emailed again."""
    if not event.recipient:
        return
    if event.event_type == EventType.BOUNCED:
        bounce = (event.esp_event or {}).get("bounce") or {}
        if bounce.get("bounceType") != "Permanent":
            logger.info(
                "%s bounce for %s not marked (%s)",
                bounce.get("bounceType", "Unknown"),
                event.recipient,
                event.description,
            )
            return
        reason = UndeliverableAddress.Reason.BOUNCE
        diagnostic = event.mta_response or event.description or ""
    elif event.event_type == EventType.COMPLAINED:
        reason = UndeliverableAddress.Reason.COMPLAINT
        diagnostic = f"Complaint: {event.description or 'not given'}"
    else:
        return  # deliveries, opens, …: a delivery never lifts a mark
    mark_undeliverable(
        event.recipient,
        reason,
        reported_at=event.timestamp,
        ses_message_id=event.message_id or "",
        diagnostic=diagnostic,
    )
