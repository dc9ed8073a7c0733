"""Seeded abstract compositions drawn with Pillow: demo and test images that look like artworks."""

import io
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

Palette = list[tuple[int, int, int]]

PALETTES: list[Palette] = [
    [(236, 229, 216), (196, 86, 55), (38, 54, 74), (221, 174, 72), (120, 139, 122)],
    [(245, 240, 232), (24, 24, 24), (203, 44, 49), (46, 89, 160), (242, 196, 45)],
    [(34, 40, 49), (57, 62, 70), (0, 173, 181), (238, 238, 238), (255, 211, 105)],
    [(250, 243, 221), (200, 213, 185), (143, 192, 169), (104, 176, 171), (105, 109, 125)],
    [(42, 21, 60), (122, 40, 90), (224, 88, 88), (247, 167, 101), (252, 228, 170)],
    [(232, 226, 211), (171, 136, 109), (109, 87, 72), (60, 50, 45), (193, 168, 130)],
]


def _colour_field(
    draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, p: Palette
) -> None:
    draw.rectangle((0, 0, w, h), fill=p[0])
    bands = rng.randint(2, 4)
    margin = int(min(w, h) * 0.08)
    band_h = (h - margin * (bands + 1)) // bands
    for i in range(bands):
        top = margin + i * (band_h + margin)
        draw.rectangle((margin, top, w - margin, top + band_h), fill=rng.choice(p[1:]))


def _geometric(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, p: Palette) -> None:
    draw.rectangle((0, 0, w, h), fill=p[0])
    for _ in range(rng.randint(6, 14)):
        colour = rng.choice(p[1:])
        x, y = rng.randint(0, w), rng.randint(0, h)
        size = rng.randint(min(w, h) // 12, min(w, h) // 3)
        shape = rng.choice(["circle", "rect", "line", "triangle"])
        if shape == "circle":
            draw.ellipse((x - size, y - size, x + size, y + size), fill=colour)
        elif shape == "rect":
            draw.rectangle((x, y, x + size, y + size * rng.uniform(0.3, 1.6)), fill=colour)
        elif shape == "line":
            draw.line(
                (x, y, rng.randint(0, w), rng.randint(0, h)), fill=colour, width=max(2, size // 10)
            )
        else:
            draw.polygon([(x, y), (x + size, y), (x + size // 2, y - size)], fill=colour)


def _stripes(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, p: Palette) -> None:
    x = 0
    while x < w:
        stripe = rng.randint(max(4, w // 40), max(8, w // 8))
        draw.rectangle((x, 0, x + stripe, h), fill=rng.choice(p))
        x += stripe


def _horizon(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int, p: Palette) -> None:
    top, bottom = rng.sample(p, 2)
    for y in range(h):
        t = y / max(1, h - 1)
        draw.line(
            (0, y, w, y), fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        )
    horizon = int(h * rng.uniform(0.45, 0.7))
    draw.rectangle((0, horizon, w, h), fill=rng.choice(p))
    r = int(min(w, h) * rng.uniform(0.08, 0.18))
    cx = rng.randint(r, w - r)
    draw.ellipse((cx - r, horizon - 2 * r, cx + r, horizon), fill=rng.choice(p))


STYLES: dict[str, Callable] = {
    "colour field": _colour_field,
    "geometric": _geometric,
    "stripes": _stripes,
    "horizon": _horizon,
}


def compose(seed: int, width: int = 1200, height: int = 900, style: str | None = None) -> bytes:
    """Return JPEG bytes of an abstract composition, the same for the same arguments."""
    rng = random.Random(seed)  # noqa: S311 - art, not security
    palette = rng.choice(PALETTES)
    painter = STYLES[style] if style else rng.choice(list(STYLES.values()))
    image = Image.new("RGB", (width, height))
    painter(ImageDraw.Draw(image), rng, width, height, palette)
    if rng.random() < 0.5:
        image = image.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.5, 2.5)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, optimize=True)
    return buffer.getvalue()
