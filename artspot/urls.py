from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps import views as sitemap_views
from wagtail.documents import urls as wagtaildocs_urls

from collectors import urls as collectors_urls
from core import admin_privacy
from core import csrf as core_csrf
from core import sitemaps as seo_sitemaps
from core import views as core_views
from core.ses_webhook import SesEventsWebhookView
from search import views as search_views

urlpatterns = [
    path("healthz/", core_views.healthz, name="healthz"),
    path("readyz/", core_views.readyz, name="readyz"),
    path("csrf/", core_csrf.token, name="csrf_token"),
    # SES bounces and complaints, posted by SNS (core.ses_webhook).
    path("email/ses/events/", SesEventsWebhookView.as_view(), name="ses_events"),
    path(settings.CSP_VIOLATIONS_PATH.strip("/") + "/", core_views.csp_report, name="csp_report"),
    # Wagtail's page privacy dialog, with an outage shown as a form error (core.admin_privacy).
    path("admin/pages/<int:page_id>/privacy/", admin_privacy.set_privacy),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("shop/", include("shop.urls")),
    # Collectors' accounts: this site's pages first, then django-allauth's (sign-in, sign-up,
    # verification, password reset, change of email), whose templates are templates/account/.
    path("accounts/", include("collectors.urls")),
    path("accounts/", include(collectors_urls.limited_allauth_urlpatterns)),
    path("accounts/", include("allauth.urls")),
    path("drop-alerts/", include("drops.urls")),
    path("account/", include("collectors.interest_urls")),
    path("drop-queue/", include("drops.queue_urls")),
    path("search/", search_views.search, name="search"),
    path("search/autocomplete/", search_views.autocomplete, name="search_autocomplete"),
    # An index of paged sitemaps: /sitemap-pages.xml, /sitemap-artworks.xml?p=2, … (core.sitemaps)
    path(
        "sitemap.xml",
        seo_sitemaps.public(sitemap_views.index),
        {"sitemaps": seo_sitemaps.SITEMAPS, "sitemap_url_name": "sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        seo_sitemaps.public(sitemap_views.sitemap),
        {"sitemaps": seo_sitemaps.SITEMAPS},
        name="sitemap_section",
    ),
    path("robots.txt", seo_sitemaps.robots_txt, name="robots_txt"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    # Uploaded media on the embedded default; production serves media from S3 / CloudFront.
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [
    # Everything else is a Wagtail page.
    path("", include(wagtail_urls)),
]
