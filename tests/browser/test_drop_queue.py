"""The drop page's script joins the queue in a real browser, under the site's CSP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from artworks.models import Artwork
from tests.test_drops import make_drop

pytestmark = pytest.mark.browser


def test_the_drop_page_joins_the_queue_and_shows_the_place(browsing, committed, csp_reports):
    already = len(csp_reports)
    work = Artwork.objects.public().order_by("-pk").first()
    now = timezone.now()
    drop = make_drop(
        work, window=60, starts_at=now - timedelta(seconds=1), ends_at=now + timedelta(hours=1)
    )
    committed.append(lambda: drop.delete())
    browsing.visit(drop.url)
    message = browsing.page.locator("[data-queue-message]")
    message.wait_for(state="visible")
    assert "You are in the queue: number 1 of 1" in message.inner_text()
    assert browsing.page.locator("[data-queue-form]").is_hidden()
    cookies = {c["name"]: c for c in browsing.context.cookies()}
    assert cookies["dropq"]["httpOnly"] and "sessionid" not in cookies
    # Reloading keeps the place: the same ticket, no second one.
    browsing.visit(drop.url)
    message.wait_for(state="visible")
    assert "number 1 of 1" in message.inner_text()
    assert not browsing.watch.problems()
    assert len(csp_reports) == already
