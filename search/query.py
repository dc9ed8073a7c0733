"""What a visitor typed, made safe to search with: cleaned, shortened and split into words."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_QUERY_LENGTH = 200
# More words than this adds nothing but a longer full-text query.
MAX_TERMS = 12
# Letters and digits in any script; punctuation, symbols, emoji and underscores separate words.
WORD = re.compile(r"[^\W_]+")
# Categories dropped outright: control characters (NUL included), lone surrogates, unassigned.
DROPPED_CATEGORIES = frozenset({"Cc", "Cs", "Cn"})


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFC", _drop_surrogates(raw))
    kept = (
        " " if char.isspace() else char
        for char in text
        if char.isspace() or unicodedata.category(char) not in DROPPED_CATEGORIES
    )
    return " ".join("".join(kept).split())


def _drop_surrogates(raw: str) -> str:
    # A lone surrogate cannot be encoded as UTF-8 (nor normalised): drop it before anything else.
    return raw.encode("utf-8", "ignore").decode("utf-8")


@dataclass(frozen=True)
class SearchQuery:
    """A cleaned query: ``text`` to show back, ``terms`` to search and highlight with."""

    text: str = ""
    truncated: bool = False
    terms: tuple[str, ...] = field(default=())

    @classmethod
    def parse(cls, raw: str | None, max_length: int = MAX_QUERY_LENGTH) -> SearchQuery:
        """Strip control characters and lone surrogates, collapse spaces, cut to ``max_length``."""
        text = _clean(raw or "")
        truncated = len(text) > max_length
        if truncated:
            text = text[:max_length].rstrip()
        terms = tuple(dict.fromkeys(WORD.findall(text)))[:MAX_TERMS]
        return cls(text=text, truncated=truncated, terms=terms)

    @property
    def searchable(self) -> str:
        """The words alone, for the search backend: no operator or quote can reach its parser."""
        return " ".join(self.terms)

    def __bool__(self) -> bool:
        return bool(self.terms)
