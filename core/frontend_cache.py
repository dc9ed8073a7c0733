"""CloudFront purges: every public URL that shows a changed work or page, batched, after the commit.

How a change reaches CloudFront:

1. Inside the change's transaction, :func:`purge_works` / :func:`purge_pages` / :func:`purge_urls`
   write what changed to ``PendingPurge`` (one row per work, page or URL, unique, so repeats
   collapse). After the commit, one outbox message per transaction queues
   ``core.tasks.flush_frontend_cache`` (beat also runs it every minute, for rows whose process
   died between the commit and that message). Nothing is asked of CloudFront, nor any URL worked
   out, in the request.
2. The flush (a task, through ``core.outbox`` so a broker outage delays it and loses nothing)
   takes every pending row, asks the content apps which public URLs show those works
   (:func:`urls_showing_works`), and in one transaction deletes the rows and enqueues one
   ``core.tasks.invalidate_frontend_cache`` with the URLs and a new caller reference. Changes
   that commit while a flush runs, or in one transaction, end up in one batch.
3. The invalidation sends the batch as one CloudFront invalidation (more only past
   ``MAX_PATHS_PER_INVALIDATION``). Its caller reference is fixed per batch, so a retried task
   never makes a second invalidation; AWS errors are raised, logged and retried with back-off.

Which URLs show a work has one owner, :func:`urls_showing_works`: it asks every app that
registered the Wagtail hook ``PAGES_SHOWING_ARTWORKS`` (artworks: the work's page and browse;
artists, curations, stories, drops: their pages that list it). Core knows no domain app.

The origin's own page cache is renewed by the same three functions, at the commit, whether or
not CloudFront is configured (``core.page_cache``).

The real implementation is Wagtail's CloudFront backend (``wagtail.contrib.frontend_cache``),
through :class:`CloudFrontBackend`; the embedded one is nothing at all: without
``CLOUDFRONT_DISTRIBUTION_ID`` (``WAGTAILFRONTENDCACHE`` empty) no row is written.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from wagtail import hooks
from wagtail.contrib.frontend_cache.backends.base import BaseBackend
from wagtail.contrib.frontend_cache.backends.cloudfront import CloudfrontBackend
from wagtail.contrib.frontend_cache.utils import PurgeBatch, get_backends
from wagtail.models import Page

from . import page_cache
from .models import PendingPurge
from .outbox import enqueue

logger = logging.getLogger(__name__)

# Hook: fn(artwork_ids: list[int]) -> iterable of live pages or absolute URLs showing those works.
PAGES_SHOWING_ARTWORKS = "artspot_pages_showing_artworks"
FLUSH_TASK = "core.tasks.flush_frontend_cache"
INVALIDATE_TASK = "core.tasks.invalidate_frontend_cache"
# CloudFront accepts up to 3,000 paths in progress (15 with a wildcard); batches stay well below.
MAX_PATHS_PER_INVALIDATION = 1000
MAX_KEYS_PER_FLUSH = 2000
MAX_URL_LENGTH = 2000  # PendingPurge.key holds "url:" and the URL


def enabled() -> bool:
    return bool(getattr(settings, "WAGTAILFRONTENDCACHE", None))


# --- 1. In the change's transaction ------------------------------------------------------------


def purge_works(artwork_ids: Iterable[int]) -> None:
    """Purge, after the commit, every public URL that shows these works.

    The origin's page cache (``core.page_cache``) is renewed at the commit itself, with or
    without CloudFront.
    """
    artwork_ids = [int(pk) for pk in artwork_ids]
    page_cache.invalidate_works(artwork_ids)
    _record(f"artwork:{pk}" for pk in artwork_ids)


def purge_pages(pages: Iterable[Page]) -> None:
    """Purge, after the commit, these pages (their cached paths) and the index above each.

    A page published or unpublished may change every page's menu: the origin's page cache is
    renewed as a whole at the commit.
    """
    page_cache.invalidate_all()
    _record(f"page:{page.pk}" for page in pages)


def purge_urls(urls: Iterable[str]) -> None:
    """Purge, after the commit, these absolute URLs (for what will be gone by then)."""
    urls = [url for url in urls if url and len(url) <= MAX_URL_LENGTH]
    page_cache.invalidate_urls(urls)
    _record(f"url:{url}" for url in urls)


def _record(keys: Iterable[str]) -> None:
    if not enabled():
        return
    keys = sorted(set(keys))
    if not keys:
        return
    with transaction.atomic():
        PendingPurge.objects.bulk_create(
            [PendingPurge(key=key) for key in keys], ignore_conflicts=True
        )
        if not _flush_scheduled():
            # robust: a failure here is logged, never raised into a request already committed.
            transaction.on_commit(_FlushAfterCommit(), robust=True)


class _FlushAfterCommit:
    """Queues one flush after the transaction commits, however many changes it recorded.

    The pending rows are written in the transaction; should this never run (the process died
    right after the commit), the beat's flush (``flush-frontend-cache``) takes them.
    """

    def __init__(self) -> None:
        self.ran = False

    def __call__(self) -> None:
        self.ran = True
        enqueue(FLUSH_TASK)


def _flush_scheduled() -> bool:
    """Has this transaction already scheduled its flush? (A rolled-back savepoint drops its
    on-commit callbacks together with its rows, so the answer stays true to the database.)"""
    return any(
        isinstance(entry[1], _FlushAfterCommit) and not entry[1].ran
        for entry in transaction.get_connection().run_on_commit
    )


# --- 2. The flush: which URLs, in one batch ----------------------------------------------------


def urls_showing_works(artwork_ids: Iterable[int]) -> set[str]:
    """Every absolute URL of a public page that shows one of these works (asks each app)."""
    ids = sorted({int(pk) for pk in artwork_ids})
    batch = PurgeBatch()
    if ids:
        for pages_showing in hooks.get_hooks(PAGES_SHOWING_ARTWORKS):
            for item in pages_showing(ids):
                if isinstance(item, Page):
                    batch.add_page(item)
                else:
                    batch.add_url(item)
    return batch.urls


def _urls_for_pages(page_ids: list[int]) -> set[str]:
    batch = PurgeBatch()
    pages = list(Page.objects.filter(pk__in=page_ids).specific())
    parents = Page.objects.filter(
        path__in={page.path[: -Page.steplen] for page in pages if page.depth > 2}
    ).specific()
    for page in [*pages, *parents.live()]:
        batch.add_page(page)
    return batch.urls


def flush() -> str | None:
    """Turn every pending row into one invalidation batch; its caller reference, if any."""
    with transaction.atomic():
        rows = list(
            PendingPurge.objects.select_for_update(skip_locked=True).order_by("pk")[
                :MAX_KEYS_PER_FLUSH
            ]
        )
        if not rows:
            return None
        kinds: dict[str, list[str]] = {"artwork": [], "page": [], "url": []}
        for row in rows:
            kind, _, value = row.key.partition(":")
            kinds.setdefault(kind, []).append(value)
        urls = urls_showing_works(int(pk) for pk in kinds["artwork"])
        urls |= _urls_for_pages([int(pk) for pk in kinds["page"]])
        urls |= set(kinds["url"])
        PendingPurge.objects.filter(pk__in=[row.pk for row in rows]).delete()
        reference = None
        if urls and enabled():
            reference = f"artspot-{uuid.uuid4().hex}"
            enqueue(INVALIDATE_TASK, reference, sorted(urls))
        more = len(rows) == MAX_KEYS_PER_FLUSH
        if more:
            enqueue(FLUSH_TASK)
    return reference


# --- 3. The invalidation -----------------------------------------------------------------------


def invalidate(reference: str, urls: list[str]) -> None:
    """Send ``urls`` to each configured frontend cache; AWS errors raise (the task retries)."""
    for name, backend in get_backends().items():
        wanted = [url for url in urls if backend.invalidates_hostname(urlparse(url).netloc)]
        if not wanted:
            continue
        logger.info("Purging %d URL(s) from %s (%s)", len(wanted), name, reference)
        if isinstance(backend, CloudFrontBackend):
            backend.invalidate(wanted, reference)
        else:
            backend.purge_batch(wanted)


def cloudfront_path(url: str) -> str:
    """The path CloudFront caches ``url`` under (query string included, as Wagtail sends it)."""
    parsed = urlparse(url)
    path = parsed.path or "/"
    return f"{path}?{parsed.query}" if parsed.query else path


class CloudFrontBackend(CloudfrontBackend):
    """Wagtail's CloudFront backend with timeouts, one caller reference per batch, and errors
    raised rather than only logged, so the purge task retries them."""

    def __init__(self, params: dict) -> None:
        import boto3
        from botocore.config import Config

        BaseBackend.__init__(self, params)
        self.cloudfront_distribution_id = params["DISTRIBUTION_ID"]
        self.client = boto3.client(
            "cloudfront",
            config=Config(
                connect_timeout=3, read_timeout=10, retries={"max_attempts": 3, "mode": "standard"}
            ),
        )

    def purge_batch(self, urls) -> None:
        self.invalidate(list(urls), f"artspot-{uuid.uuid4().hex}")

    def invalidate(self, urls: list[str], reference: str) -> list[str]:
        """One invalidation per ``MAX_PATHS_PER_INVALIDATION`` paths; their ids."""
        paths = sorted({cloudfront_path(url) for url in urls})
        ids = []
        for start in range(0, len(paths), MAX_PATHS_PER_INVALIDATION):
            chunk = paths[start : start + MAX_PATHS_PER_INVALIDATION]
            suffix = f"-{start // MAX_PATHS_PER_INVALIDATION}" if start else ""
            response = self.client.create_invalidation(
                DistributionId=self.cloudfront_distribution_id,
                InvalidationBatch={
                    "Paths": {"Quantity": len(chunk), "Items": chunk},
                    # The same batch sent again (a retry) is the same invalidation to CloudFront.
                    "CallerReference": reference + suffix,
                },
            )
            ids.append(response["Invalidation"]["Id"])
        return ids
