"""The shop team fulfils an order in the admin: find it, ship it with tracking, refund one work.

The collector paid for two works (on the local test gateway, the event its page would send);
a member of the shop team, who may manage orders and nothing else, finds the order by the
collector's email, adds the tracking (the worker emails the collector), refunds one of the two
works after the confirmation step, and the collector's order page shows both.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from wagtail.models import Site

from shop.cart import CartLine
from shop.checkout import start_checkout
from shop.models import Order
from shop.offers import offer_for
from tests.e2e.support import committed_work, forget_new_sessions, wait_until
from tests.support.shop import pay

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

PASSWORD = "journey-Shop-team-1"
EMAIL = "two.works@example.com"


@pytest.fixture
def shop_manager(committed):
    group = Group.objects.create(name="Shop team (journey)")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        Permission.objects.get(content_type__app_label="shop", codename="change_order"),
    )
    user = get_user_model().objects.create_user(
        "journey-shop", "shop@artspot.test", PASSWORD, first_name="Sam", last_name="Shop"
    )
    user.groups.add(group)

    def remove() -> None:
        from axes.models import AccessAttempt, AccessLog

        AccessLog.objects.filter(username=user.username).delete()
        AccessAttempt.objects.filter(username=user.username).delete()
        user.delete()
        group.delete()

    committed.append(remove)
    return user


@pytest.fixture
def paid_order(committed, background) -> Order:
    """Two works bought together by a guest from the UK, paid."""
    works = [
        committed_work(committed, "Shipping Forecast Journey"),
        committed_work(committed, "Lighthouse Keeper Journey"),
    ]
    order = start_checkout(
        lines=[CartLine(work, 1, offer_for(work, fresh=True)) for work in works],
        email=EMAIL,
        country="GB",
        user=None,
        site=Site.objects.get(is_default_site=True),
        absolute_url=lambda path: f"http://testserver{path}",
    )
    return pay(order)


def sign_in(journey, user, password: str) -> None:
    journey.go("/admin/login/")
    journey.step("admin sign-in", "admin sign-in")
    journey.page.fill("#id_username", user.get_username())
    journey.page.fill("#id_password", password)
    with journey.page.expect_navigation():
        journey.page.click("button[type=submit]")
    assert "/admin/login/" not in journey.page.url


def test_shop_manager_ships_and_refunds_one_work(
    journeys, background, committed, shop_manager, paid_order
):
    forget_new_sessions(committed)
    order = paid_order
    assert order.is_paid and order.lines.count() == 2
    journey = journeys.open("shop-manager")
    page = journey.page
    sign_in(journey, shop_manager, PASSWORD)
    journey.step("admin dashboard", "admin dashboard")

    # Find the order by the collector's email in the order list.
    journey.go("/admin/shop/order/")
    page.fill("input[name=q]", EMAIL)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    row = page.locator("tbody tr", has_text=order.number)
    assert row.count() == 1
    journey.step("order found", "admin order list")
    with page.expect_navigation():
        row.get_by_role("link").first.click()
    assert f"/admin/shop/order/inspect/{order.pk}/" in page.url
    journey.step("order", "admin order")

    # Tracking: the order is marked shipped and the worker emails the collector.
    page.fill("#id_carrier", "Royal Mail")
    page.fill("#id_tracking_number", "JR123456789GB")
    with page.expect_navigation():
        page.click("button:has-text('Mark shipped and email the collector')")
    assert page.locator("[data-fulfilment-status]").get_attribute("data-fulfilment-status") == (
        "shipped"
    )
    journey.step("shipped with tracking", "admin order shipped")
    wait_until(
        lambda: any("JR123456789GB" in text for text in background.emails_to(EMAIL)),
        "the shipped email with the tracking number",
    )

    # Refund one of the two works: review, then confirm.
    refunded, _kept = order.lines.order_by("pk")
    page.check(f"input[name=lines][value='{refunded.pk}']")
    page.check("input[name=restock][value=yes]")
    page.fill("#id_reason", "Frame arrived cracked")
    with page.expect_navigation():
        page.click("button:has-text('Review the refund')")
    assert page.locator("[data-refund-line]").all_inner_texts() == [
        page.locator("[data-refund-line]").first.inner_text()
    ]
    assert refunded.title in page.locator("[data-refund-line]").inner_text()
    journey.step("refund confirmation", "admin refund confirmation")
    # The admin scrolls inside its own panel: the confirmation form on its own, for the README.
    page.locator("form[data-action=refund-confirm]").screenshot(
        path=str(journey.folder / "refund-confirmation-form.png")
    )
    assert Order.objects.get(pk=order.pk).refunded == 0  # nothing happens before the confirmation
    with page.expect_navigation():
        page.click("form[data-action=refund-confirm] button[type=submit]")
    wait_until(
        lambda: Order.objects.get(pk=order.pk).refunded == refunded.unit_price,
        "the refund to be confirmed",
    )
    page.reload()
    assert page.locator("[data-line-refund]").count() == 1
    journey.step("refunded", "admin order refunded")

    # The same admin pages on a phone (the same signed-in session).
    phone = journeys.open(
        "shop-manager-phone", device="phone", storage_state=journey.context.storage_state()
    )
    phone.go(f"/admin/shop/order/?q={order.number}")
    phone.step("order list on a phone", "admin order list")
    phone.go(f"/admin/shop/order/inspect/{order.pk}/")
    phone.step("order on a phone", "admin order")

    # The collector's order page: shipped with the tracking, one work refunded.
    collector = journeys.open("shop-manager-collector-view")
    collector.go(Order.objects.get(pk=order.pk).signed_url())
    text = collector.page.locator("main").inner_text()
    assert "Royal Mail" in text and "JR123456789GB" in text
    assert "Refunded" in text
    collector.step("collector's order page", "order page")
    journeys.assert_accessible()
