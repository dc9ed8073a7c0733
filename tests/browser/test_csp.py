"""Every page people use works under the Content-Security-Policy: zero violations in Chromium.

Violations are caught three ways: the page's `securitypolicyviolation` events (an init script in
every frame), Chromium's console messages about the policy, and the site's report endpoint
(`report-uri`; see the `browsing` fixture). The first test shows that all three catch a
violation, so the zero counts of the others mean something.
"""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from wagtail.admin.admin_url_finder import AdminURLFinder

from artists.models import ArtistPage
from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from curations.models import ArtworkCollectionPage
from drops.models import DropPage
from stories.models import StoryPage
from tests.support.shop import buyable_demo_artwork, checkout, remove_artworks

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-Password-1"


def _wait_for_reports(reports: list, count: int, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while len(reports) < count and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def new_sessions(committed):
    """Sessions the browser starts (cart, sign-in) are deleted after the test."""
    before = set(Session.objects.values_list("session_key", flat=True))
    committed.append(lambda: Session.objects.exclude(session_key__in=before).delete())


def test_a_violation_is_seen_by_the_page_the_console_and_the_report_endpoint(
    browsing, csp_reports, new_sessions
):
    """The watchers catch a refused inline script, and Chromium's report reaches the endpoint."""
    browsing.visit("/")
    already = len(csp_reports)
    browsing.page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.appendChild(script);
        }"""
    )
    assert browsing.page.evaluate("() => window.injected") is None  # refused
    _wait_for_reports(csp_reports, already + 1)
    assert [v["directive"] for v in browsing.watch.violations] == ["script-src-elem"]
    assert browsing.watch.console, "Chromium logs the refusal"
    reported = csp_reports[already:]
    assert [r.csp_directive for r in reported] == ["script-src-elem"]
    assert reported[0].csp_document == browsing.base + "/"


def test_public_pages_and_checkout_have_no_violations(browsing, csp_reports, new_sessions):
    already = len(csp_reports)
    artwork = buyable_demo_artwork()
    word = artwork.title.split()[0]
    for path in [
        "/",
        "/artworks/",
        artwork.get_url(),
        ArtistPage.objects.live().first().url,
        StoryPage.objects.live().first().url,
        ArtworkCollectionPage.objects.live().first().url,
        DropPage.objects.live().first().url,
        f"/search/?q={word}",
    ]:
        browsing.visit(path)
    # The header's search suggestions fetch from /search/autocomplete/ (connect-src).
    browsing.page.fill('header input[type="search"]', word[:4])
    browsing.page.wait_for_load_state("networkidle")

    browsing.visit(artwork.get_url())
    browsing.page.click('form#buy button[type="submit"]')
    browsing.page.wait_for_url("**/shop/cart/")
    assert artwork.title in browsing.page.content()
    browsing.visit(reverse("shop:checkout"))
    assert browsing.page.locator('form input[name="email"]').count() == 1

    _wait_for_reports(csp_reports, already + 1, seconds=1.0)
    assert browsing.watch.problems() == []
    assert csp_reports[already:] == []


@pytest.fixture
def editor(committed, new_sessions):
    User = get_user_model()
    user = User.objects.create_superuser("browser-editor", "editor@artspot.test", PASSWORD)

    def remove() -> None:
        from axes.models import AccessAttempt, AccessLog

        AccessLog.objects.filter(username=user.username).delete()
        AccessAttempt.objects.filter(username=user.username).delete()
        user.delete()

    committed.append(remove)
    return user


@pytest.fixture
def order(committed):
    artwork = ArtworkFactory(title="Browser test work", price=Decimal("900.00"), images=0)
    committed.append(lambda: remove_artworks([artwork]))
    return checkout(artwork, "collector@example.com")


def test_admin_editors_and_order_admin_have_no_violations(browsing, csp_reports, editor, order):
    already = len(csp_reports)
    page = browsing.page
    browsing.visit("/admin/login/")
    page.fill("#id_username", editor.username)
    page.fill("#id_password", PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(browsing.base + "/admin/")
    page.wait_for_load_state("networkidle")

    finder = AdminURLFinder(editor)
    story = StoryPage.objects.live().first()
    artwork = Artwork.objects.filter(live=True).order_by("pk").first()
    for path in [
        finder.get_edit_url(story),
        finder.get_edit_url(artwork),
        reverse("shop_order_modeladmin_index"),
        reverse("shop_order_modeladmin_inspect", args=[order.pk]),
    ]:
        browsing.visit(path)
    # The page editor's preview panel shows the page in a frame, under the admin's policy.
    browsing.visit(finder.get_edit_url(story))
    page.click('button[data-side-panel-toggle="preview"]')
    page.frame_locator("iframe#w-preview-iframe").locator("main h1").first.wait_for()
    page.wait_for_load_state("networkidle")

    _wait_for_reports(csp_reports, already + 1, seconds=1.0)
    assert browsing.watch.problems() == []
    assert csp_reports[already:] == []
