"""Show why a result matched: the query's words marked in a title or a short excerpt.

Every piece of text is HTML-escaped here; the only markup added is our own ``<mark>`` tags, so the
result is safe to render even when the text or the query holds markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import unescape

from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

EXCERPT_LENGTH = 180
# Endings dropped from a query word so "paintings" marks "painting" and "painted" too, roughly as
# the full-text stemmer matched them. Longest first.
SUFFIXES = ("ings", "ing", "ies", "es", "ed", "s", "y")
MIN_STEM = 3


def _stem(term: str) -> str:
    word = term.casefold()
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


def term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern for words that start with a query word's stem; short words must match whole."""
    parts = []
    for term in terms:
        if len(term) < MIN_STEM:
            parts.append(rf"\b{re.escape(term)}\b")
        else:
            parts.append(rf"\b{re.escape(_stem(term))}\w*")
    if not parts:
        return None
    # Longest alternatives first, so a longer word wins over its own prefix.
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), re.IGNORECASE)


def plain_text(value: object) -> str:
    """Text from a field value: rich text loses its tags, lists are joined, spaces collapsed."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return " ".join(plain_text(item) for item in value)
    text = str(value)
    if "<" in text:
        text = unescape(strip_tags(text))
    return " ".join(text.split())


def count_matches(text: str, pattern: re.Pattern[str] | None) -> int:
    """How many different query words occur in ``text``."""
    if not pattern or not text:
        return 0
    return len({match.group(0).casefold() for match in pattern.finditer(text)})


def highlight(text: str, pattern: re.Pattern[str] | None) -> SafeString:
    """``text`` escaped, with each match wrapped in ``<mark>``."""
    if not pattern:
        return mark_safe(escape(text))  # noqa: S308 - escaped just now
    pieces, position = [], 0
    for match in pattern.finditer(text):
        pieces.append(escape(text[position : match.start()]))
        pieces.append(f"<mark>{escape(match.group(0))}</mark>")
        position = match.end()
    pieces.append(escape(text[position:]))
    return mark_safe("".join(pieces))  # noqa: S308 - every piece escaped above


def excerpt(text: str, pattern: re.Pattern[str] | None, length: int = EXCERPT_LENGTH) -> SafeString:
    """About ``length`` characters of ``text`` around its first match, highlighted."""
    if len(text) <= length:
        return highlight(text, pattern)
    first = pattern.search(text) if pattern else None
    start = 0
    if first and first.start() > length // 3:
        # Start a third of the way before the match, at a word break when one is near.
        cut = first.start() - length // 3
        space = text.rfind(" ", max(cut - 30, 0), cut)
        start = space + 1 if space >= 0 else cut
    end = text.rfind(" ", start, start + length)
    end = end if end > start else start + length
    window = text[start:end].strip()
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(f"{prefix}{highlight(window, pattern)}{suffix}")  # noqa: S308
