"""Background work for artworks: telling the gallery team about enquiries."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from wagtail.models import Site

from core import email
from core.email import site_url
from core.models import SiteSettings


def team_address() -> str:
    site = Site.objects.filter(is_default_site=True).first()
    configured = SiteSettings.for_site(site).contact_email if site else ""
    return configured or settings.ARTSPOT_TEAM_EMAIL


@shared_task(
    name="artworks.tasks.notify_team_of_inquiry",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_team_of_inquiry(inquiry_id: int) -> None:
    """Email the team about an enquiry, once: the sent time is recorded under a row lock."""
    from .models import ArtworkInquiry

    with transaction.atomic():
        inquiry = (
            ArtworkInquiry.objects.select_for_update()
            .select_related("artwork__artist")
            .filter(pk=inquiry_id, team_notified_at__isnull=True)
            .first()
        )
        if inquiry is None:
            return  # already sent (a retry or a duplicate delivery)
        context = {
            "inquiry": inquiry,
            "artwork": inquiry.artwork,
            "admin_url": site_url("/admin/"),
        }
        message = EmailMultiAlternatives(
            subject=f"Enquiry: {inquiry.artwork.title} by {inquiry.artwork.artist.title}",
            body=render_to_string("artworks/email/inquiry_team.txt", context),
            to=[team_address()],
            reply_to=[inquiry.email],
        )
        message.attach_alternative(
            render_to_string("artworks/email/inquiry_team.html", context), "text/html"
        )
        email.send(message)  # skipped (and logged) only if the team address is undeliverable
        inquiry.team_notified_at = timezone.now()
        inquiry.save(update_fields=["team_notified_at"])
