"""A collector buys a work: on a desktop, on a phone, and with the keyboard alone.

Each journey starts from the home page, finds its own committed work (a unique painting by an
artist of its own, so the journeys never buy the demo's works), pays on the test-payment page,
and sees the work sold; the confirmation email is sent by the Celery worker.
"""

from __future__ import annotations

import re

import pytest

from artworks.models import Artwork
from shop.models import Order
from tests.e2e.support import (
    committed_work,
    cut_off_selects,
    fill_checkout,
    forget_new_sessions,
    hero_headline_contrast,
    no_horizontal_scroll,
    small_touch_targets,
    wait_until,
)

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


def _sold_everywhere(journey, work: Artwork, browse_query: str) -> None:
    """The work reads "Sold" on its page and in browse (no stale page after the sale)."""
    journey.go(work.get_url())
    assert journey.page.locator(".artwork__details .availability").inner_text().startswith("Sold")
    assert journey.page.locator("form#buy").count() == 0
    journey.step("work sold on its page", "artwork sold")
    journey.go(f"/artworks/?{browse_query}")
    card = journey.page.locator(".artwork-card", has_text=work.title)
    assert "Sold" in card.inner_text()
    journey.step("work sold in browse")


def _paid(background, work: Artwork, email: str) -> Order:
    order = Order.objects.get(email=email, lines__artwork=work)
    wait_until(lambda: background.emails_to(email), "the confirmation email from the worker")
    return order


def test_collector_buys_on_a_desktop(journeys, background, committed):
    forget_new_sessions(committed)
    work = committed_work(committed, "Harbour Lights Journey")
    email = "desk.collector@example.com"
    journey = journeys.open("collector-desktop")
    page = journey.page

    journey.go("/")
    journey.step("home", "home")
    assert hero_headline_contrast(page, journey.folder) >= 4.5
    page.click('.primary-nav a[href="/artworks/"]')
    page.wait_for_url("**/artworks/")
    journey.step("browse", "browse")
    assert cut_off_selects(page) == []
    # Two filters and a sort, each applied on change (artspot.js keeps the URL clean).
    with page.expect_navigation():
        page.select_option("#id_artist", work.artist.slug)
    with page.expect_navigation():
        page.select_option("#id_medium", "painting")
    with page.expect_navigation():
        page.select_option("#id_sort", "-price")
    query = f"artist={work.artist.slug}&medium=painting&sort=-price"
    assert page.url.endswith("/artworks/?" + query)
    assert page.locator(".browse__count").inner_text() == "1 work"
    journey.step("browse filtered and sorted", "browse filtered")

    page.click(f".artwork-card a:has-text('{work.title}')")
    page.wait_for_url(f"**{work.get_url()}")
    journey.step("artwork", "artwork")
    room = page.locator(".room")
    room.scroll_into_view_if_needed()
    assert room.locator("svg.room__scene image").count() == 1
    assert "shown to scale" in room.locator("svg").get_attribute("aria-label")
    room.screenshot(path=str(journey.folder / f"{journey.steps + 1:02d}-view-in-a-room.png"))
    journey.steps += 1

    page.click('form#buy button[type="submit"]')
    page.wait_for_url("**/shop/cart/")
    assert work.title in page.locator(".cart-lines").inner_text()
    journey.step("cart", "cart")
    page.click("a.button:has-text('Checkout')")
    page.wait_for_url("**/shop/checkout/")
    journey.step("checkout", "checkout")
    fill_checkout(page, email)
    page.click("button:has-text('Continue to payment')")
    page.wait_for_url("**/test-payment/**")
    journey.step("test payment", "test payment")

    # A declined card: an error on the field, and what was typed is still there.
    page.fill('input[name="card"]', "4000 0000 0000 0002")
    page.click('button[name="pay"]')
    page.wait_for_load_state("load")
    assert "declined" in page.locator("main form").inner_text()
    assert page.input_value('input[name="card"]') == "4000 0000 0000 0002"
    journey.step("card declined", "test payment declined")
    assert Order.objects.get(email=email).is_pending_payment

    page.fill('input[name="card"]', "4242 4242 4242 4242")
    page.click('button[name="pay"]')
    page.wait_for_url(re.compile(r".*/shop/orders/.*paid=1"))
    order = _paid(background, work, email)
    page.reload()
    assert "your order is confirmed" in page.locator("h1").inner_text()
    assert work.title in page.locator("main").inner_text()
    journey.step("confirmation", "order confirmation")
    assert any(
        order.number in text and f"/shop/orders/{order.number}/" in text
        for text in background.emails_to(email)
    ), "the confirmation email names the order and links to it"

    _sold_everywhere(journey, work, query)
    journeys.assert_accessible()


def test_collector_buys_on_a_phone(journeys, background, committed):
    forget_new_sessions(committed)
    work = committed_work(committed, "Tidal Pool Journey")
    email = "phone.collector@example.com"
    journey = journeys.open("collector-phone", device="phone")
    page = journey.page
    small: dict[str, list[str]] = {}

    def check(kind: str, step: str) -> None:
        journey.step(step, kind)
        no_horizontal_scroll(page)
        if found := small_touch_targets(page):
            small[kind] = found

    journey.go("/")
    check("home", "home")
    # The hero's picture covers the whole hero, under the white headline.
    hero, picture = page.locator(".hero").bounding_box(), page.locator(".hero__media img")
    assert picture.bounding_box()["height"] >= hero["height"] - 1
    assert hero_headline_contrast(page, journey.folder) >= 4.5
    journey.go("/artworks/")
    check("browse", "browse")
    # Works first: the filters wait behind a closed "Filters" disclosure; a work shows at once.
    assert not page.locator("details.filters-panel").evaluate("el => el.open")
    first_card = page.locator(".artwork-card").first.bounding_box()
    assert first_card["y"] < 844, first_card
    page.click("summary:has-text('Filters')")
    assert cut_off_selects(page) == []
    with page.expect_navigation():
        page.select_option("#id_artist", work.artist.slug)
    # The control just changed keeps focus after the filtered page loads, so the panel is open.
    assert page.locator("details.filters-panel").evaluate("el => el.open")
    with page.expect_navigation():
        page.select_option("#id_medium", "painting")
    with page.expect_navigation():
        page.select_option("#id_sort", "price")
    assert page.locator(".browse__count").inner_text() == "1 work"
    check("browse filtered", "browse filtered")

    page.click(f".artwork-card a:has-text('{work.title}')")
    page.wait_for_url(f"**{work.get_url()}")
    check("artwork", "artwork")
    page.click('form#buy button[type="submit"]')
    page.wait_for_url("**/shop/cart/")
    check("cart", "cart")
    page.click("a.button:has-text('Checkout')")
    page.wait_for_url("**/shop/checkout/")
    check("checkout", "checkout")
    fill_checkout(page, email)
    page.click("button:has-text('Continue to payment')")
    page.wait_for_url("**/test-payment/**")
    check("test payment", "test payment")
    page.click('button[name="pay"]')
    page.wait_for_url(re.compile(r".*/shop/orders/.*paid=1"))
    _paid(background, work, email)
    page.reload()
    assert "your order is confirmed" in page.locator("h1").inner_text()
    check("order confirmation", "confirmation")
    _sold_everywhere(journey, work, f"artist={work.artist.slug}")
    assert small == {}, f"controls under 44 × 44 px: {small}"
    journeys.assert_accessible()


# What the focused element is and whether a sighted keyboard user can see where focus is.
_FOCUS = r"""() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0)
        || style.boxShadow !== "none";
    return {
        tag: el.tagName.toLowerCase(),
        text: (el.textContent.replace(/\s+/g, " ").trim() || el.value
               || el.getAttribute("aria-label") || "").slice(0, 60),
        href: el.getAttribute("href") || "",
        name: el.getAttribute("name") || "",
        visible: el.matches(":focus-visible") && ring,
        onScreen: box.bottom > 0 && box.top < innerHeight && box.width > 0,
    };
}"""


class Keyboard:
    """Tab through a page like a keyboard user, checking focus is visible at every stop."""

    def __init__(self, page) -> None:
        self.page = page
        self.stops: list[dict] = []

    def tab_to(self, matches, what: str, limit: int = 60, back: bool = False) -> dict:
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            focus = self.page.evaluate(_FOCUS)
            if focus is None:
                continue
            self.stops.append(focus)
            assert focus["visible"], f"focus not visible on {focus} ({self.page.url})"
            assert focus["onScreen"], f"focused element off screen: {focus} ({self.page.url})"
            if matches(focus):
                return focus
        raise AssertionError(f"{what} not reached in {limit} Tab presses on {self.page.url}")

    def type_into(self, name: str, text: str) -> None:
        self.tab_to(lambda f: f["name"] == name, f"the {name} field")
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.type(text)


def test_collector_buys_with_the_keyboard_alone(journeys, background, committed):
    forget_new_sessions(committed)
    work = committed_work(committed, "Lantern Quay Keyboard")
    email = "keys.collector@example.com"
    journey = journeys.open("collector-keyboard")
    page = journey.page
    keys = Keyboard(page)

    journey.go("/")
    # The first Tab stop is the skip link, shown when focused.
    skip = keys.tab_to(lambda f: True, "the first stop", limit=1)
    assert skip["href"] == "#main" and "Skip" in skip["text"]
    journey.step("skip link focused", "home")
    # Search from the header: suggestions appear; Escape closes them; Enter searches.
    keys.tab_to(lambda f: f["tag"] == "input" and f["name"] == "query", "the header search")
    page.keyboard.type("Lantern Quay")
    page.locator(".search-suggest:not([hidden])").wait_for()
    journey.step("search suggestions")
    page.keyboard.press("Escape")
    assert page.locator(".search-suggest").is_hidden()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    journey.step("search results", "search results")
    keys.tab_to(lambda f: f["href"] == work.get_url(), "the work in the results")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(work.get_url())

    # Zoom the picture with Enter, close it with Escape: focus returns to the picture's link.
    keys.tab_to(lambda f: f["text"].startswith("Zoom"), "the zoom link")
    page.keyboard.press("Enter")
    page.locator("dialog.zoom-dialog[open]").wait_for()
    journey.step("zoomed", "zoom dialog")
    page.keyboard.press("Escape")
    page.locator("dialog.zoom-dialog[open]").wait_for(state="detached")
    assert page.evaluate(_FOCUS)["text"].startswith("Zoom")

    keys.tab_to(lambda f: f["text"] == "Add to cart", "Add to cart")
    journey.step("add to cart focused", "artwork")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/shop/cart/")
    keys.tab_to(lambda f: f["text"] == "Checkout", "Checkout")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    journey.step("checkout", "checkout")

    keys.type_into("email", email)
    keys.tab_to(lambda f: f["name"] == "country", "the country")  # GB is already chosen
    for name, value in {
        "name": "Ana Ruiz",
        "line1": "1 Quay Street",
        "city": "Bristol",
        "postal_code": "BS1 4DJ",
        "phone": "+44 117 496 0123",
    }.items():
        keys.type_into(name, value)
    journey.step("checkout filled")
    keys.tab_to(lambda f: f["text"] == "Continue to payment", "Continue to payment")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/test-payment/" in page.url
    keys.tab_to(lambda f: f["name"] == "card", "the card")  # 4242 4242 4242 4242 is filled in
    keys.tab_to(lambda f: f["name"] == "pay", "Pay")
    journey.step("pay focused", "test payment")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _paid(background, work, email)
    page.reload()
    assert "your order is confirmed" in page.locator("h1").inner_text()
    journey.step("confirmation", "order confirmation")
    assert len(keys.stops) < 150, "the path takes too many Tab presses"
    journeys.assert_accessible()
