"""The home page, the standard pages, site settings and error pages as a visitor sees them."""

import re

import pytest
from django.test import override_settings
from django.utils.html import escape
from wagtail.models import Site

from core.models import SiteSettings
from home.models import StandardPage

pytestmark = pytest.mark.django_db


def test_home_page_shows_demo_content_within_query_budget(client, django_assert_max_num_queries):
    """Steady state: the first view makes the image renditions, later views find them cached."""
    client.get("/")
    with django_assert_max_num_queries(8):
        response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Original art from the artists we believe in" in html
    assert "Explore ArtSpot" in html
    # Navigation from the page tree, footer from the site settings.
    assert 'href="/about/"' in html
    assert "collectors@artspot.test" in html


def test_standard_pages_render_with_their_body(client):
    for page in StandardPage.objects.live():
        response = client.get(page.url)
        assert response.status_code == 200, page.url
        assert escape(page.title) in response.content.decode()


def test_pages_have_landmarks_skip_link_and_alt_text(client):
    html = client.get("/").content.decode()
    for landmark in ("<header", '<main id="main"', "<footer", "<nav"):
        assert landmark in html
    assert 'class="skip-link" href="#main"' in html
    images = re.findall(r"<img [^>]*>", html)
    assert images
    assert all(" alt=" in tag for tag in images)
    # The hero carries its image's description; card images beside a linked title are decorative.
    assert 'alt="Bands of ochre and deep blue across a wide canvas"' in html


def test_analytics_rendered_only_when_set(client):
    assert "googletagmanager" not in client.get("/").content.decode()
    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.analytics_id = "G-ABC1234567"
    settings.save()
    html = client.get("/").content.decode()
    assert "googletagmanager.com/gtag/js?id=G-ABC1234567" in html


def test_unknown_url_gets_the_designed_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Skip to main content" in response.content.decode()


def test_server_error_page_is_self_contained(client):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html


@override_settings(PUBLIC_CACHE_SECONDS=300)
def test_public_pages_are_cacheable_and_signed_in_views_are_not(client, admin_user):
    response = client.get("/")
    assert "s-maxage=300" in response["Cache-Control"]
    assert "stale-while-revalidate=600" in response["Cache-Control"]
    client.force_login(admin_user)
    assert "private" in client.get("/")["Cache-Control"]


def _main_menu(client) -> str:
    html = client.get("/").content.decode()
    return re.search(r'<nav id="primary-nav".*?</nav>', html, re.S).group(0)


def test_menu_follows_the_page_tree(client):
    about = StandardPage.objects.get(slug="about")
    assert 'href="/about/"' in _main_menu(client)
    about.unpublish()
    assert 'href="/about/"' not in _main_menu(client)
