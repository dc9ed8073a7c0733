"""The origin's page cache: whole public pages for anonymous visitors, never stale.

What is kept: a ``GET`` answer that ``core.pages`` judged the same for every anonymous visitor
(``response.shareable``: a plain 200 with no session, cookie, CSRF token or message in it) and
that no middleware below this one turned private (a cookie set after the view). It is asked for
only by a visitor with no session cookie (signed-in visitors, carts and flash messages all live
in the session), and never for the admin, the shop, accounts, drop sign-up, health checks or
CSRF tokens. ``HEAD`` is answered from the ``GET`` entry, without a body.

Key: scheme, host, path and the query string normalised (parameters sorted, empty ones dropped,
only parameters some public page reads: :data:`KNOWN_PARAMETERS`). An address with an unknown or
empty parameter is answered from the clean address's entry when there is one, and otherwise
rendered and never stored, so junk in a query string can neither fill the cache nor plant itself
in what others are served. At most :data:`MAX_VARIANTS_PER_PATH` query variants of one path are
stored per lifetime, and over-long values are never stored (cache-busting bounded).

Never stale: each entry carries the *generations* that were current before its page was read
from the database: the site's (``global``), its section's (the first path segment) and its
path's. A change bumps them right after its commit, in the hook that also queues CloudFront's
purge (``core.frontend_cache``): works (publish, unpublish, price, every availability change)
bump the paths that show them (``urls_showing_works``), the section of a wildcard such as
``/artworks/?*`` (browse, every work page, related works) and search; pages and settings bump the
global generation (menus and index pages change everywhere). One ``MGET`` reads the entry's
token and its generations; a mismatch is a miss. The content comes from this process's copy of
the entry with that token (:class:`_LocalCopies`), else from Redis. Moments known in advance (a
drop opening, a hold lapsing) end an entry on the second, like the headers
(``request.max_public_cache_seconds``).

Outages: a Redis error makes the page render uncached (no 500), Redis is not asked again for
:data:`RETRY_SECONDS`, and the first process to reach Redis again after failing bumps the global
generation, since a change it committed meanwhile could not bump its own.

Storage: the ``pages`` cache alias, Redis in production and tests, per-process memory on the
embedded default (one process: ``make run``).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from functools import cache as memoize
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.cache import cc_delim_re

from .csp import allow_analytics, analytics_allowed
from .db_routing import on_primary, replica_configured
from .pages import apply_public_cache_headers, carries_visitor_state
from .redis_outage import RedisOutage

logger = logging.getLogger(__name__)

CACHE_ALIAS = "pages"
HEADER = "X-Page-Cache"
RETRY_SECONDS = 5.0
MAX_VARIANTS_PER_PATH = 1000
MAX_PARAMETERS = 8
MAX_VALUE_LENGTH = 200
# Query parameters a public page reads: browse's filters are added from artworks.filters.
KNOWN_PARAMETERS = frozenset({"page", "tag", "available", "query", "type"})
# Paths whose answers are the visitor's own or must always be fresh.
NEVER = (
    "/admin/",
    "/shop/",
    "/accounts/",
    "/drop-alerts/",
    "/healthz/",
    "/readyz/",
    "/csrf/",
    "/documents/",
    "/email/",
    "/search/autocomplete/",
    "/static/",
    "/media/",
)
# Stored headers that are worked out again on every answer.
UNSTORED_HEADERS = {"cache-control", "set-cookie", HEADER.lower(), "expires"}

GLOBAL_KEY = "g"
# Pages each process keeps a copy of (see _LocalCopies), in bytes of content.
LOCAL_COPIES_BYTES = 32 * 1024 * 1024


def lifetime() -> int:
    """Seconds an entry may live at most (0: the page cache is off)."""
    return int(getattr(settings, "PAGE_CACHE_SECONDS", 0) or 0)


def enabled() -> bool:
    return lifetime() > 0


def _cache():
    return caches[CACHE_ALIAS]


# --- Redis trouble --------------------------------------------------------------------------------


outage = RedisOutage(
    "Page cache", "pages render uncached", "every cached page is renewed", RETRY_SECONDS
)


def _call(operation: Callable, default=None):
    """Run ``operation(cache)``; on a Redis error note the outage and return ``default``.

    The first call after an outage first renews every page: a change committed meanwhile
    could not renew its own.
    """
    return outage.call(
        lambda: operation(_cache()),
        default,
        recover=lambda: _cache().set(GLOBAL_KEY, _token(), None),
    )


# --- Keys -----------------------------------------------------------------------------------------


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def _token() -> str:
    return uuid.uuid4().hex[:16]


def section_of(path: str) -> str:
    """The first segment of a path: ``/artworks/`` for ``/artworks/a-work/``."""
    first = path.lstrip("/").split("/", 1)[0]
    return f"/{first}/" if first else "/"


def _section_key(path: str) -> str:
    return "s:" + _digest(section_of(path))


def _path_key(path: str) -> str:
    return "p:" + _digest(path)


@memoize
def known_parameters() -> frozenset[str]:
    from artworks.filters import ArtworkFilter

    return KNOWN_PARAMETERS | frozenset(ArtworkFilter.base_filters) | {"sort"}


@memoize
def code_version() -> str:
    """Changes with the templates, code and static manifest: a deploy starts a fresh cache."""
    configured = getattr(settings, "PAGE_CACHE_VERSION", "")
    if configured:
        return configured
    base = Path(settings.BASE_DIR).resolve()
    roots = [Path(d) for engine in settings.TEMPLATES for d in engine.get("DIRS", [])]
    roots += [
        Path(config.path)
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(base) and ".venv" not in config.path
    ]
    files: set[Path] = set()
    for root in roots:
        for pattern in ("*.py", "*.html", "*.txt", "*.xml"):
            files.update(path for path in root.rglob(pattern) if "migrations" not in path.parts)
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.is_file():
        files.add(manifest)
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(files):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


class Plan:
    """Where a request's page would be kept, if it may be."""

    __slots__ = ("entry_key", "gen_keys", "path", "storable", "token_key")

    def __init__(self, request: HttpRequest) -> None:
        self.path = request.path
        pairs, clean = _normalise(request)
        self.storable = clean
        query = urlencode(pairs)
        where = f"{request.scheme}://{request.get_host()}{self.path}?{query}"
        self.entry_key = f"e:{code_version()}:{_digest(where)}"
        self.token_key = "t" + self.entry_key[1:]
        self.gen_keys = (GLOBAL_KEY, _section_key(self.path), _path_key(self.path))


def _normalise(request: HttpRequest) -> tuple[list[tuple[str, str]], bool]:
    """Known, non-empty parameters sorted; and whether the address had nothing else."""
    known = known_parameters()
    pairs = []
    clean = True
    for name, values in request.GET.lists():
        for value in values:
            if name not in known or not value.strip():
                clean = False
                continue
            if len(value) > MAX_VALUE_LENGTH:
                clean = False
            pairs.append((name, value))
    if len(pairs) > MAX_PARAMETERS:
        clean = False
    return sorted(pairs), clean


def plan_for(request: HttpRequest) -> Plan | None:
    """The plan for a request the page cache may answer, or None."""
    if request.method not in ("GET", "HEAD") or not enabled():
        return None
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    path = request.path_info
    if path.startswith(NEVER) or path.startswith(settings.ADMIN_PATH_PREFIX):
        return None
    return Plan(request)


# --- Entries --------------------------------------------------------------------------------------


def _current_generations(plan: Plan, found: dict) -> tuple[str, ...]:
    """The generations as they are now; missing ones (new, or evicted) are made."""
    current = {key: found.get(key) for key in plan.gen_keys}
    for key, token in current.items():
        if token is None:
            made = _token()
            added = _call(lambda c, k=key, t=made: c.add(k, t, None), False)
            current[key] = made if added else _call(lambda c, k=key: c.get(k))
    return tuple(current[key] for key in plan.gen_keys)


class _LocalCopies:
    """The entries this process read or wrote lately, at most ``limit`` bytes of pages.

    Redis holds each entry's content and, apart, its *token* (a new one at every store). A hit
    reads the token and the generations (a few bytes) and answers from the copy here when it
    carries that token; only a process without it reads the content from Redis. Freshness is
    decided as before, by the generations Redis holds, on every request.
    """

    def __init__(self, limit: int) -> None:
        self.lock = threading.Lock()
        self.limit = limit
        self.entries: OrderedDict[str, dict] = OrderedDict()
        self.size = 0

    def get(self, key: str, token: str) -> dict | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None or entry.get("token") != token:
                return None
            self.entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: dict) -> None:
        with self.lock:
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= len(old["content"])
            self.entries[key] = entry
            self.size += len(entry["content"])
            while self.size > self.limit and self.entries:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped["content"])

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.size = 0


local = _LocalCopies(LOCAL_COPIES_BYTES)


def lookup(plan: Plan) -> tuple[dict | None, tuple[str, ...] | None]:
    """The fresh entry for ``plan`` (or None), and the generations to store a new one under."""
    found = _call(lambda c: c.get_many([plan.token_key, *plan.gen_keys]))
    if found is None:
        return None, None  # Redis down: render, keep nothing
    generations = _current_generations(plan, found)
    if None in generations:
        return None, None
    token = found.get(plan.token_key)
    if token is None:
        return None, generations
    entry = local.get(plan.entry_key, token)
    if entry is None:
        entry = _call(lambda c: c.get(plan.entry_key))
        if not isinstance(entry, dict) or entry.get("token") != token:
            return None, generations
        local.put(plan.entry_key, entry)
    if entry["generations"] == generations and (
        entry["until"] is None or entry["until"] > time.time()
    ):
        return entry, generations
    return None, generations


def _storable_headers(response: HttpResponse) -> list[tuple[str, str]] | None:
    vary = {v.strip().lower() for v in cc_delim_re.split(response.get("Vary", "")) if v.strip()}
    if vary - {"cookie"}:
        return None  # varies on something the key does not hold
    return [
        (name, value)
        for name, value in response.headers.items()
        if name.lower() not in UNSTORED_HEADERS
    ]


def keep_at_most(request: HttpRequest, seconds: float) -> None:
    """The page being rendered may be kept here ``seconds`` at most (shared caches unchanged)."""
    current = getattr(request, "_page_cache_at_most", None)
    request._page_cache_at_most = seconds if current is None else min(current, seconds)


def store(request: HttpRequest, response: HttpResponse, plan: Plan, generations) -> bool:
    """Keep ``response`` if it is shareable and nothing below made it personal; whether kept."""
    if (
        request.method != "GET"
        or not plan.storable
        or not getattr(response, "shareable", False)
        or response.status_code != 200
        or response.streaming
        or carries_visitor_state(request, response)
    ):
        return False
    headers = _storable_headers(response)
    if headers is None:
        return False
    seconds = float(lifetime())
    cap = getattr(response, "shareable_for", None)
    until = None
    if cap is not None:
        seconds = min(seconds, cap)
        until = time.time() + cap
    at_most = getattr(request, "_page_cache_at_most", None)
    if at_most is not None:
        seconds = min(seconds, at_most)
    if seconds < 1:
        return False
    variants_key = "v:" + _digest(plan.path)
    timeout = int(seconds)

    def count(c) -> int:
        c.add(variants_key, 0, lifetime())
        return c.incr(variants_key)

    try:
        variants = _call(count, MAX_VARIANTS_PER_PATH + 1)
    except ValueError:  # the counter expired between add and incr
        variants = 1
    if variants > MAX_VARIANTS_PER_PATH:
        return False
    token = _token()
    entry = {
        "content": response.content,
        "headers": headers,
        "generations": generations,
        "until": until,
        "analytics": analytics_allowed(request),
        "token": token,
    }
    # Written together; a token that does not match the entry a reader gets is a miss.
    _call(lambda c: c.set_many({plan.entry_key: entry, plan.token_key: token}, timeout))
    local.put(plan.entry_key, entry)
    return True


def answer(request: HttpRequest, entry: dict) -> HttpResponse:
    """The response for a stored entry: headers as stored, ``Cache-Control`` worked out now."""
    response = HttpResponse(b"" if request.method == "HEAD" else entry["content"])
    for name, value in entry["headers"]:
        response[name] = value
    response["Content-Length"] = str(len(entry["content"]))
    if entry["until"] is not None:
        request.max_public_cache_seconds = max(0.0, entry["until"] - time.time())
    if entry["analytics"]:
        allow_analytics(request)
    apply_public_cache_headers(request, response)
    response[HEADER] = "hit"
    return response


class PageCacheMiddleware:
    """Answer anonymous visitors from the page cache (see the module). Sits below the security
    and CSP middleware, whose headers are added to every answer, and above sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        plan = plan_for(request)
        if plan is None:
            return self.get_response(request)
        entry, generations = lookup(plan)
        if entry is not None:
            return answer(request, entry)
        if generations is not None and plan.storable and replica_configured():
            # What is kept must be what was committed: a lagging replica would pin old data.
            with on_primary():
                response = self.get_response(request)
        else:
            response = self.get_response(request)
        if generations is not None and store(request, response, plan, generations):
            response[HEADER] = "miss"
        elif plan is not None:
            response[HEADER] = "pass"
        return response


# --- Invalidation (after the commit) --------------------------------------------------------------


def _bump(keys: Iterable[str]) -> None:
    keys = set(keys)
    if keys:
        _call(lambda c: c.set_many({key: _token() for key in keys}, None))


def _after_commit(bump: Callable[[], None]) -> None:
    if enabled():
        # robust: a failure is logged, never raised into a request that already committed.
        transaction.on_commit(bump, robust=True)


def invalidate_all() -> None:
    """After the commit, every page is renewed (pages published, menus, site settings)."""
    _after_commit(lambda: _bump([GLOBAL_KEY]))


def invalidate_urls(urls: Iterable[str]) -> None:
    """After the commit, the pages at these URLs (``/x/?*``: every page under ``/x/``)."""
    urls = list(urls)
    _after_commit(lambda: _bump(_keys_for_urls(urls)))


class _WorksChanged:
    """One after-commit renewal per transaction, however many works its changes touched."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        from .frontend_cache import urls_showing_works

        with on_primary():
            urls = urls_showing_works(self.ids)
        _bump(_keys_for_urls(urls) | {_path_key(path) for path in _always_with_works()})


def invalidate_works(artwork_ids: Iterable[int]) -> None:
    """After the commit, every page that shows these works (and search, which may)."""
    ids = {int(pk) for pk in artwork_ids}
    if not ids or not enabled():
        return
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _, callback, *_ in connection.run_on_commit:
            if isinstance(callback, _WorksChanged) and not callback.ran:
                callback.ids |= ids
                return
    pending = _WorksChanged()
    pending.ids = ids
    _after_commit(pending)


def _always_with_works() -> list[str]:
    """Pages that may show any work but name none in advance: search results, the sitemap."""
    paths = []
    for name in ("search", "sitemap"):
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue
    return paths


def _keys_for_urls(urls: Iterable[str]) -> set[str]:
    keys = set()
    for url in urls:
        parts = urlsplit(url)
        path = parts.path or "/"
        keys.add(_path_key(path))
        if "*" in url:
            keys.add(_section_key(path))
    return keys


def renew_everything(**kwargs) -> None:
    """Now, not after a commit: every entry is out of date (development: a file changed)."""
    code_version.cache_clear()
    _bump([GLOBAL_KEY])
