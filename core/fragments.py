"""Rendered parts of pages kept by each process, keyed by everything they show.

A page the page cache (``core.page_cache``) has to render again usually shows mostly what it
showed before: one work changed, the other 23 cards on browse did not. A fragment kept here is
found under a key made of the values it shows and of its templates' source, so it never needs
invalidating: a change to any of them is another key, and the old entry ages out.

* **Per process**: a dictionary, no round trip (a card is rendered once per process and key); a
  deploy starts new processes, so nothing kept outlives the code that rendered it.
  Bounded in bytes (``FRAGMENT_CACHE_BYTES``, 0: off), least recently used dropped first, and
  each entry lives :data:`LIFETIME_SECONDS` at most, so even a change no key foresaw heals.
* **Never a passing state**: a fragment that shows something temporary (an original standing in
  for a rendition not made yet: ``core.renditions``) calls :func:`do_not_keep` while it renders,
  and is shown once but not kept.
* **Anonymous only**: callers render a signed-in visitor's fragments afresh (tokens, saved hearts).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.template import engines

LIFETIME_SECONDS = 3600
DEFAULT_BYTES = 16 * 1024 * 1024


class FragmentCache:
    """HTML by key, at most ``max_bytes`` of it, the least recently used dropped first."""

    def __init__(
        self,
        max_bytes: int,
        lifetime: float = LIFETIME_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.lifetime = lifetime
        self.clock = clock
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, html = entry
            if expires < self.clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return html

    def put(self, key: str, html: str) -> None:
        size = len(html)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            self._entries[key] = (self.clock() + self.lifetime, html)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    @property
    def size(self) -> int:
        """Bytes of HTML held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def _drop(self, key: str) -> None:
        _expires, html = self._entries.pop(key)
        self._bytes -= len(html)


local = FragmentCache(int(getattr(settings, "FRAGMENT_CACHE_BYTES", DEFAULT_BYTES)))


def enabled() -> bool:
    return local.max_bytes > 0


# --- Fragments that must not be kept ------------------------------------------------------------


class _Rendering:
    keep = True


_current: ContextVar[_Rendering | None] = ContextVar("artspot_fragment_rendering", default=None)


def do_not_keep() -> None:
    """What is being rendered now shows a passing state: show it, but keep no fragment of it."""
    rendering = _current.get()
    if rendering is not None:
        rendering.keep = False


@contextmanager
def rendering() -> Iterator[_Rendering]:
    """Render one fragment inside the block; ``.keep`` then says whether it may be kept."""
    state = _Rendering()
    token = _current.set(state)
    try:
        yield state
    finally:
        _current.reset(token)


# --- Keys ---------------------------------------------------------------------------------------


def template_source(*names: str) -> str:
    """The source of these templates, as loaded (a deploy that changes one changes every key)."""
    engine = engines["django"].engine
    return "\0".join(engine.get_template(name).source for name in names)


def key(*parts: Any) -> str:
    """A key for the values a fragment shows (their ``repr``: give plain values)."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def render_each(
    items: list[Any],
    key_of: Callable[[Any], str],
    render: Callable[[Any], str],
    prepare: Callable[[list[Any]], None] | None = None,
) -> list[str]:
    """Each item's HTML: the kept copy under ``key_of(item)``, else ``render(item)``, kept unless
    it called :func:`do_not_keep`. ``prepare`` gets the items to render first, all at once (to
    read what they need in one query)."""
    keys = [key_of(item) for item in items]
    found = [local.get(item_key) for item_key in keys]
    missing = [item for item, html in zip(items, found, strict=True) if html is None]
    if missing and prepare is not None:
        prepare(missing)
    out = []
    for item, item_key, html in zip(items, keys, found, strict=True):
        if html is None:
            with rendering() as state:
                html = render(item)
            if state.keep:
                local.put(item_key, html)
        out.append(html)
    return out
