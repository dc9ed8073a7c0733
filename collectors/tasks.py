"""Background work for collectors: planning the daily digest and sending each one (at most once).

See ``collectors.digest`` for the rules; these are the Celery entry points.
"""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from core import email

from . import digest


@shared_task(name="collectors.tasks.plan_daily_digests", ignore_result=True)
def plan_daily_digests() -> int:
    """Beat, every hour: from ``COLLECTOR_DIGEST_HOUR`` (site time) plan today's digests.

    Hourly rather than once, so a beat or worker that was down at that hour still sends today;
    a collector planned earlier today is skipped (one digest a day).
    """
    now = timezone.now()
    if timezone.localtime(now).hour < settings.COLLECTOR_DIGEST_HOUR:
        return 0
    return digest.plan_digests(now)


@shared_task(
    name="collectors.tasks.send_digest",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_digest(digest_pk: int) -> bool:
    return digest.send_digest(digest_pk)


@shared_task(
    name="collectors.tasks.send_account_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def send_account_email(to: list[str], subject: str, body: str, html: str = "") -> bool:
    """Account emails (verification, password reset, change of email), after the commit."""
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    if html:
        message.attach_alternative(html, "text/html")
    return email.send(message).was_sent
