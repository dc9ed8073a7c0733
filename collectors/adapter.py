"""How django-allauth fits this site: its emails go through the outbox, its idea of the client's
address is ours, and staff never lose the admin sign-in to it."""

from __future__ import annotations

from urllib.parse import quote

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest
from django.urls import reverse

from core import outbox
from core.client_address import client_address
from core.email import site_url


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render now (the request's language and links), send from a task after the commit.

        Through the outbox (``core.outbox``), so a mail provider or broker outage delays a
        verification or reset email and never fails the sign-up; the task sends through
        ``core.email.send``, which skips addresses SES reported as undeliverable. Delivery is at
        least once: a repeated verification or reset email is harmless (each link works).
        """
        request = getattr(self, "request", None)
        message = self.render_mail(
            template_prefix,
            email,
            {"request": request, "site_name": "ArtSpot", "site_url": site_url("/"), **context},
        )
        alternatives = getattr(message, "alternatives", None) or []
        html = next((content for content, kind in alternatives if kind == "text/html"), "")
        outbox.enqueue(
            "collectors.tasks.send_account_email",
            to=list(message.to),
            subject=message.subject,
            body=message.body,
            html=html,
        )

    def format_email_subject(self, subject: str) -> str:
        return f"ArtSpot: {subject}"

    def get_email_confirmation_url(self, request, emailconfirmation) -> str:
        # Links in emails come from the site's configured address, never the request's Host.
        return site_url(reverse("account_confirm_email", args=[emailconfirmation.key]))

    def get_reset_password_from_key_url(self, key: str) -> str:
        path = reverse("account_reset_password_from_key", kwargs={"uidb36": "UID", "key": "KEY"})
        return site_url(path.replace("UID-KEY", quote(key)))

    def get_client_ip(self, request: HttpRequest) -> str:
        # The address from the trusted proxy chain, never a header the client wrote.
        return client_address(request)

    def is_safe_url(self, url: str | None) -> bool:
        # ?next= may only lead within the site (allauth checks the host; keep it explicit).
        return bool(url) and super().is_safe_url(url)


def axes_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The account a sign-in names, for django-axes: the admin's username or allauth's email."""
    credentials = credentials or {}
    for key in ("username", "email", "login"):
        value = credentials.get(key)
        if isinstance(value, str) and value:
            return value
    data = getattr(request, "POST", {}) or {}
    for key in ("username", "login"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None
