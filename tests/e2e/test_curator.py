"""A curator's drop opens while a collector waits: coming soon, refused, then bought.

The drop is scheduled to open ``OPENS_IN`` from now (a drop's opening time is just its
``starts_at``, so the journey need not wait the 30 seconds a person would). The curator sees it
in the admin's drop calendar; the collector sees "coming soon", is refused when adding the work
to the cart before the opening (a form kept from before, sent without JavaScript), and buys it
once the drop has opened.
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from drops.factories import DropPageFactory
from drops.models import DropPage
from tests.e2e.support import committed_work, fill_checkout, forget_new_sessions, wait_until
from tests.e2e.test_shop_manager import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

OPENS_IN = timedelta(seconds=25)
PASSWORD = "journey-Curator-1"


@pytest.fixture
def curator(committed):
    user = get_user_model().objects.create_user("journey-curator", "curator@artspot.test", PASSWORD)
    user.groups.add(Group.objects.get(name="Curators"))

    def remove() -> None:
        from axes.models import AccessAttempt, AccessLog

        AccessLog.objects.filter(username=user.username).delete()
        AccessAttempt.objects.filter(username=user.username).delete()
        user.delete()

    committed.append(remove)
    return user


def test_a_drop_opens_while_the_collector_waits(journeys, background, committed, curator):
    forget_new_sessions(committed)
    work = committed_work(committed, "Midnight Ferry Drop")
    drop = DropPageFactory(
        title="Journey drop: night crossings",
        starts_at=(timezone.now() + OPENS_IN).replace(microsecond=0),
        works=[work],
    )
    committed.append(lambda: DropPage.objects.filter(pk=drop.pk).delete())
    email = "drop.collector@example.com"

    # The collector, before the opening: coming soon, no way to add the work.
    journey = journeys.open("curator-drop-collector")
    page = journey.page
    journey.go(drop.url)
    assert "Coming soon" in page.locator(".drop-status").inner_text() or (
        "upcoming" in page.locator("article.drop").get_attribute("class")
    )
    journey.step("drop coming soon", "drop upcoming")
    journey.go(work.get_url())
    assert page.locator("form#buy").count() == 0
    assert "Coming soon" in page.locator(".artwork__details .notice").inner_text()
    journey.step("work coming soon", "artwork upcoming")

    # A form kept from before (or sent by a script) is refused by the server, not just hidden.
    page.evaluate(
        """(artwork) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = "/shop/cart/add/";
            form.innerHTML = `<input name="artwork" value="${artwork}">
                <input name="quantity" value="1"><button id="stale-add">Add to cart</button>`;
            document.querySelector("main").appendChild(form);
        }""",
        work.pk,
    )
    assert timezone.now() < drop.starts_at, "the drop opened before the journey could try"
    with page.expect_navigation():
        page.click("#stale-add")
    if page.locator("button:has-text('Confirm')").count():  # no CSRF token without JavaScript
        with page.expect_navigation():
            page.click("button:has-text('Confirm')")
    journey.step("add to cart refused", "add to cart refused")
    assert "on sale from" in page.locator("main").inner_text().lower()
    journey.go("/shop/cart/")
    assert work.title not in page.locator("main").inner_text()
    assert timezone.now() < drop.starts_at

    # Meanwhile the curator sees the drop in the calendar and opens it in the editor.
    desk = journeys.open("curator")
    sign_in(desk, curator, PASSWORD)
    desk.go("/admin/drops/calendar/")
    assert drop.title in desk.page.locator("main").inner_text()
    desk.step("drop calendar", "admin drop calendar")
    desk.go(f"/admin/pages/{drop.pk}/edit/")
    desk.step("drop in the editor", "admin page editor")
    desk.context.close()  # the editor's background requests end with it

    # The opening: the same page offers the work, and the collector buys it.
    time.sleep(max(0.0, (drop.starts_at - timezone.now()).total_seconds()) + 0.5)
    journey.go(drop.url)
    assert "live" in page.locator("article.drop").get_attribute("class")
    journey.step("drop open", "drop live")
    on_phone = journeys.open("curator-drop-phone", device="phone")
    on_phone.go(drop.url)
    on_phone.step("drop open on a phone", "drop live")
    journey.go(work.get_url())
    page.click('form#buy button[type="submit"]')
    page.wait_for_url("**/shop/cart/")
    page.click("a.button:has-text('Checkout')")
    page.wait_for_url("**/shop/checkout/")
    fill_checkout(page, email)
    page.click("button:has-text('Continue to payment')")
    page.wait_for_url("**/test-payment/**")
    page.click('button[name="pay"]')
    page.wait_for_url(re.compile(r".*/shop/orders/.*paid=1"))
    wait_until(lambda: background.emails_to(email), "the confirmation email")
    page.reload()
    assert "your order is confirmed" in page.locator("h1").inner_text()
    journey.step("bought in the drop", "order confirmation")
    journeys.assert_accessible()
