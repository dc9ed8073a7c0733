"""What the journeys share: committed test works, sessions to clean up, page checks."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal

from django.contrib.sessions.models import Session

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork, Medium
from tests.support.shop import CHECKOUT_ADDRESSES, remove_artworks

# Interactive controls a finger must hit: at least 44 x 44 CSS pixels (WCAG 2.5.5, Apple HIG).
# Links inside running text are exempt (WCAG 2.5.8's inline exception).
TOUCH_TARGETS = (
    "button:not([hidden]), select, summary, .button, "
    "input:not([type=hidden]):not([type=checkbox]):not([type=radio])"
)


def committed_work(undo: list[Callable[[], None]], title: str, **fields) -> Artwork:
    """A live unique painting by its own artist, committed; removed with its orders afterwards."""
    artist = ArtistPageFactory(title=f"{title} Painter")
    work = ArtworkFactory(
        artist=artist,
        title=title,
        medium=Medium.PAINTING,
        price=Decimal("1250.00"),
        **fields,
    )
    undo.append(lambda: remove_artworks([Artwork.objects.get(pk=work.pk)]))
    return work


def forget_new_sessions(undo: list[Callable[[], None]]) -> None:
    """Sessions the browser starts (cart, sign-in) are deleted after the test."""
    before = set(Session.objects.values_list("session_key", flat=True))
    undo.append(lambda: Session.objects.exclude(session_key__in=before).delete())


def fill_checkout(page, email: str, country: str = "GB") -> None:
    page.fill('input[name="email"]', email)
    page.select_option('select[name="country"]', country)
    for name, value in CHECKOUT_ADDRESSES[country].items():
        page.fill(f'input[name="{name}"]', value)


def no_horizontal_scroll(page) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths}"


def small_touch_targets(page) -> list[str]:
    """Visible controls smaller than 44 x 44 CSS pixels on the current page."""
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
            .filter(el => el.checkVisibility({contentVisibilityAuto: true,
                                              visibilityProperty: true}))
            .filter(el => !el.closest(".visually-hidden, [hidden]"))
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, box]) => box.width > 0 && (box.height < 44 || box.width < 44))
            .map(([el, box]) => el.tagName.toLowerCase()
                 + (el.name ? `[name=${el.name}]` : "")
                 + ` "${(el.innerText || el.value || "").trim().slice(0, 30)}"`
                 + ` ${Math.round(box.width)}x${Math.round(box.height)}`)""",
        TOUCH_TARGETS,
    )


def wait_until(condition: Callable[[], object], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.2)


def hero_headline_contrast(page, folder) -> float:
    """Contrast of the hero's white headline against the lightest pixel behind it.

    The headline's text is made transparent for a moment and the area it covers is screenshot:
    what is left is the picture with its overlay, the background the text is read against.
    """
    from PIL import Image

    heading = page.locator(".hero h1")
    color = heading.evaluate("el => getComputedStyle(el).color")
    assert color == "rgb(255, 255, 255)", color
    heading.evaluate("el => { el.style.color = 'transparent'; el.style.textShadow = 'none'; }")
    path = folder / "hero-behind-headline.png"
    try:
        heading.screenshot(path=str(path), animations="disabled")
    finally:
        heading.evaluate("el => { el.style.color = ''; el.style.textShadow = ''; }")

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    with Image.open(path) as image:
        pixels = image.convert("RGB").getdata()
        lightest = max(
            0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b) for r, g, b in pixels
        )
    path.unlink()
    return 1.05 / (lightest + 0.05)


def cut_off_selects(page) -> list[str]:
    """Filter selects too narrow for their longest option (text, padding and the arrow)."""
    return page.evaluate(
        """() => {
            const canvas = document.createElement("canvas").getContext("2d");
            return Array.from(document.querySelectorAll(".filters select"))
                .filter(el => el.checkVisibility())
                .flatMap(el => {
                    const style = getComputedStyle(el);
                    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
                    const room = el.getBoundingClientRect().width - parseFloat(style.paddingLeft)
                        - parseFloat(style.borderLeftWidth) - 24;  // Chromium's arrow
                    return Array.from(el.options)
                        .filter(option => canvas.measureText(option.text).width > room)
                        .map(option => `${el.name}: "${option.text}"`);
                });
        }"""
    )
