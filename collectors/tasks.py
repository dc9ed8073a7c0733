"""Account emails (verification, password reset, change of email), sent after the commit."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from core import email


@shared_task(
    name="collectors.tasks.send_account_email",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=8,
)
def send_account_email(to: list[str], subject: str, body: str, html: str = "") -> bool:
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    if html:
        message.attach_alternative(html, "text/html")
    return email.send(message).was_sent
