"""The heart and the follow button in a real browser: a guest's click leads to sign-in and back
with the work saved; a collector's clicks change the state without a page load; no CSP
violation on the way (interests.js is a static file, its requests same-origin)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from artworks.models import Artwork
from collectors.models import FollowedArtist, SavedWork
from tests.browser.test_csp import new_sessions  # noqa: F401 (a fixture)

pytestmark = pytest.mark.browser
PASSWORD = "a-long-passphrase-9"


@pytest.fixture
def collector(committed):
    user = get_user_model().objects.create_user("heart-browser", "hb@example.com", PASSWORD)
    # Collectors sign in with a verified email (django-allauth, collectors/).
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    committed.append(lambda: get_user_model().objects.filter(pk=user.pk).delete())
    return user


def pressed(locator) -> str | None:
    return locator.get_attribute("aria-pressed")


def test_a_guest_hearts_signs_in_comes_back_saved_and_unsaves_without_a_reload(
    browsing,
    collector,
    new_sessions,  # noqa: F811
):
    page = browsing.page
    artwork = Artwork.objects.public().select_related("artist").order_by("pk").first()
    browsing.visit(artwork.get_url())
    heart = page.locator('.artwork__details form[data-interest="work"] button')
    assert pressed(heart) == "false"

    heart.click()  # a guest: the server keeps the wish and sends them to sign in
    page.wait_for_url("**/accounts/login/**")
    page.fill('input[name="login"]', collector.email)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url(browsing.base + artwork.get_url())
    page.wait_for_load_state("networkidle")
    assert SavedWork.objects.filter(user=collector, artwork=artwork).exists()
    page.wait_for_function(
        "() => document.querySelector('.artwork__details form[data-interest=work] button')"
        ".getAttribute('aria-pressed') === 'true'"
    )

    page.evaluate("() => { window.__sameDocument = true; }")
    heart.click()
    page.wait_for_function(
        "() => document.querySelector('.artwork__details form[data-interest=work] button')"
        ".getAttribute('aria-pressed') === 'false'"
    )
    assert page.evaluate("() => window.__sameDocument") is True  # no page load
    assert not SavedWork.objects.filter(user=collector).exists()

    browsing.visit(artwork.artist.url)
    follow = page.locator('form[data-interest="artist"] button')
    page.wait_for_load_state("networkidle")
    assert pressed(follow) == "false"
    page.evaluate("() => { window.__sameDocument = true; }")
    follow.click()
    page.wait_for_function(
        "() => document.querySelector('form[data-interest=artist] button')"
        ".getAttribute('aria-pressed') === 'true'"
    )
    assert page.evaluate("() => window.__sameDocument") is True
    assert FollowedArtist.objects.filter(user=collector, artist=artwork.artist).exists()
    assert page.locator('form[data-interest="artist"] .follow__label').text_content() == "Following"
    assert browsing.watch.problems() == []
