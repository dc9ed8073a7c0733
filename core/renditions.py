"""Image renditions are made ahead, by a task; a visitor's request only looks them up.

* **Ahead**: publishing an artwork makes its images' renditions (:data:`ARTWORK_SPECS`), publishing
  a page makes its images' (:data:`PAGE_IMAGE_SPECS`), and ``load_demo`` makes the demo's, all
  through the task ``core.tasks.make_renditions`` (queued through the outbox, after the commit).
* **Looked up**: during any request outside the admin (:class:`LookupOnlyMiddleware`) the custom
  image model (``core.models.CustomImage``) never makes a rendition. One it cannot find is
  answered with the original file's URL at the rendition's size, the origin's page cache keeps
  the page for :data:`FALLBACK_SECONDS` at most, and the missing specs are queued for the task.
  That answer is remembered in the renditions cache for as long, so a page with a missing
  rendition costs no more queries than one without.
* **Read once**: renditions found in the cache are not written back to it (Wagtail 8.0 writes
  every cache hit back: 24 ``set_many`` on a warm browse page), and :func:`prefetch` reads the
  renditions of a page's images in one query.

The specs are those the templates' ``{% picture %}`` and ``{% image %}`` tags ask for
(``tests/test_renditions.py`` reads every template and checks that each spec is listed here).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, models
from django.http import HttpRequest, HttpResponse
from wagtail.images import get_image_model
from wagtail.images.models import Filter

from core.seo import OG_IMAGE_SPEC

logger = logging.getLogger(__name__)


def _expand(*parts: str) -> list[str]:
    return Filter.expand_spec(list(parts))


# Artwork images: cards (browse, artist, collection, drop, story shop cards), the work's page
# (main image, thumbnails, zoom, view in a room), story artwork blocks, search hits and the cart.
ARTWORK_SPECS = [
    *_expand(
        "format-{avif,webp,jpeg}", "max-{300x300,400x400,600x600,800x800,1000x1000,1600x1600}"
    ),
    *_expand("format-{webp,jpeg}", "max-{160x160,320x320}"),
    "max-2000x2000",
    "max-800x800",
    OG_IMAGE_SPEC,  # link previews (og:image, JSON-LD)
]
# Page images: heroes, portraits, cards of pages, blocks, search hits.
PAGE_IMAGE_SPECS = [
    *_expand(
        "format-{avif,webp,jpeg}",
        "fill-{800x450,1600x900,480x360,960x720,800x400,1600x800,600x600,1200x1200,800x600,"
        "2400x1200}-c80",
    ),
    *_expand("format-{avif,webp,jpeg}", "fill-{400x300,800x600,400x500,800x1000}"),
    *_expand("format-{avif,webp,jpeg}", "width-{640,1280}"),
    OG_IMAGE_SPEC,
]
# What an artwork card shows (browse, artist, collection, drop pages): prefetched per list.
CARD_SPECS = _expand("format-{avif,webp,jpeg}", "max-{400x400,800x800}")
ROLES = {"artwork": ARTWORK_SPECS, "page": PAGE_IMAGE_SPECS, "card": CARD_SPECS}
# The origin keeps a page showing an original in place of a missing rendition this long at most.
FALLBACK_SECONDS = 60
# One queued task per image and specs for this long, however many visitors see the gap.
QUEUE_DEDUPE_SECONDS = 300
TASK = "core.tasks.make_renditions"
# Hook: fn() -> iterable of (image id, role) that load_demo makes renditions for (besides pages).
IMAGES_HOOK = "artspot_images_needing_renditions"

_lookup_only: ContextVar[bool] = ContextVar("artspot_renditions_lookup_only", default=False)
_request: ContextVar[HttpRequest | None] = ContextVar("artspot_renditions_request", default=None)
_deferred: ContextVar[bool] = ContextVar("artspot_renditions_deferred", default=False)
# What requests queued lately, newest last (for logs and tests).
queued: deque[tuple[int, tuple[str, ...]]] = deque(maxlen=200)
_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="renditions")


@lru_cache(maxsize=512)
def _filter_for(spec: str) -> Filter:
    return Filter(spec=spec)


def shared_filter(filter: Filter | str) -> Filter:
    """One ``Filter`` per spec for the process: its parsed operations are kept, not parsed again
    for every image of every page (``{% picture %}`` makes new filters on each render; parsing
    them was a tenth of a browse page's time). Filters hold nothing but their spec."""
    return _filter_for(filter if isinstance(filter, str) else filter.spec)


def lookup_only() -> bool:
    """Whether renditions may only be looked up now (a visitor's request)."""
    return _lookup_only.get()


@contextmanager
def making() -> Any:
    """Renditions may be made in this block (the task, ``load_demo``), whatever the caller."""
    token = _lookup_only.set(False)
    try:
        yield
    finally:
        _lookup_only.reset(token)


class LookupOnlyMiddleware:
    """No visitor's request makes a rendition; the admin's (editors, previews) still may."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(settings.ADMIN_PATH_PREFIX):
            return self.get_response(request)
        only = _lookup_only.set(True)
        current = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(current)
            _lookup_only.reset(only)


# --- Missing renditions in a request ---------------------------------------------------------


def fallback(image, filter: Filter):
    """An unsaved rendition: the original file at the size the rendition would have."""
    Rendition = image.get_rendition_model()
    try:
        width, height = filter.get_transform(image).size
    except Exception:  # an unusual spec: the original's size is still a true answer
        width, height = image.width, image.height
    rendition = Rendition(
        image=image,
        filter_spec=filter.spec,
        focal_point_key=filter.get_cache_key(image),
        width=width,
        height=height,
    )
    rendition.file.name = image.file.name
    rendition.fallback = True
    return rendition


def stand_in_for_missing(image, filters: list[Filter]) -> dict[Filter, Any]:
    """Fallbacks for ``filters``, remembered briefly in the cache; their creation queued."""
    Rendition = image.get_rendition_model()
    made = {f: fallback(image, f) for f in filters}
    Rendition.cache_backend.set_many(
        {
            Rendition.construct_cache_key(image, f.get_cache_key(image), f.spec): rendition
            for f, rendition in made.items()
        },
        FALLBACK_SECONDS,
    )
    for rendition in made.values():
        rendition._from_cache = True  # never written to the cache again by get_renditions
    shows_fallback()
    queue_missing(image.pk, [f.spec for f in filters])
    return made


def shows_fallback() -> None:
    """The page being rendered shows an original in place of a rendition: the origin keeps it
    briefly, and no fragment of it (``core.fragments``), so the renditions show once made.
    (Shared caches keep it as long as any page: it is right, only heavier.)"""
    from core import fragments

    fragments.do_not_keep()
    request = _request.get()
    if request is not None:
        from core import page_cache

        page_cache.keep_at_most(request, FALLBACK_SECONDS)


def queue_missing(image_pk: int, specs: list[str]) -> None:
    """Ask for these renditions once (per :data:`QUEUE_DEDUPE_SECONDS`); never raise."""
    specs_key = tuple(sorted(specs))
    key = f"renditions:queued:{image_pk}:{hash(specs_key) & 0xFFFFFFFF:x}"
    if not cache.add(key, 1, QUEUE_DEDUPE_SECONDS):
        return
    queued.append((image_pk, specs_key))
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded default: no worker; a thread of this process makes them after the answer.
        if getattr(settings, "RENDITIONS_AHEAD", True):
            _background.submit(_make_in_thread, image_pk, list(specs_key))
        return
    from core import outbox

    if outbox.broker_resting():
        return  # the broker failed a moment ago: the next view asks again
    try:
        from core.tasks import make_renditions

        make_renditions.apply_async(args=[[image_pk], list(specs_key)], retry=False)
    except outbox.BROKER_ERRORS:
        outbox.broker_failed()
        logger.warning("Broker unavailable; renditions of image %s not queued", image_pk)


def wait_for_background(timeout: float = 30.0) -> bool:
    """Wait until what this process queued for its own thread is made (the embedded default);
    whether it finished in time. Tests call it after each test, so no thread of one test runs
    into the next."""
    try:
        _background.submit(lambda: None).result(timeout=timeout)
    except TimeoutError:
        return False
    return True


def _make_in_thread(image_pk: int, specs: list[str]) -> None:
    try:
        make([image_pk], specs)
    except Exception:
        logger.exception("Renditions of image %s could not be made", image_pk)
    finally:
        connection.close()


# --- Made ahead ---------------------------------------------------------------------------------


def make(image_ids: Iterable[int], specs: list[str] | str) -> int:
    """Make the renditions ``specs`` (a list, or a role of :data:`ROLES`) of these images that
    do not exist yet; how many images were looked at. Runs in the task and in ``load_demo``."""
    if isinstance(specs, str):
        specs = ROLES[specs]
    images = get_image_model().objects.filter(pk__in=sorted(set(image_ids)))
    done = 0
    with making():
        for image in images:
            try:
                image.get_renditions(*specs)
            except Exception:
                logger.exception("Renditions of image %s could not be made", image.pk)
                continue
            done += 1
    return done


@contextmanager
def deferred() -> Iterator[None]:
    """Queue nothing per publish inside the block: a bulk load (``load_demo``) asks for every
    image's renditions once, in its last step (``core.demo``), with :func:`queue_now`."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def queue(image_ids: Iterable[int], role: str) -> None:
    """After the commit, make the renditions of ``role`` for these images (through the outbox)."""
    if not _deferred.get():
        queue_now(image_ids, role)


def queue_now(image_ids: Iterable[int], role: str) -> None:
    """:func:`queue`, even inside :func:`deferred`."""
    ids = sorted({int(pk) for pk in image_ids if pk})
    if not ids or not getattr(settings, "RENDITIONS_AHEAD", True):
        return
    from core.outbox import enqueue

    enqueue(TASK, ids, role)


def images_of(obj: models.Model) -> set[int]:
    """The ids of the images a page or snippet shows: image foreign keys and StreamField blocks."""
    image_model = get_image_model()
    found: set[int] = set()
    for field in obj._meta.concrete_fields:
        if isinstance(field, models.ForeignKey) and field.related_model is image_model:
            pk = getattr(obj, field.attname)
            if pk:
                found.add(pk)
        elif field.get_internal_type() == "StreamField" or hasattr(field, "stream_block"):
            _walk(getattr(obj, field.attname, None), image_model, found)
    return found


def _walk(value: Any, image_model: type, found: set[int], depth: int = 0) -> None:
    if value is None or depth > 8:
        return
    if isinstance(value, image_model):
        found.add(value.pk)
        return
    if isinstance(value, str | bytes | int | float):
        return
    if hasattr(value, "value") and hasattr(value, "block"):  # a bound block
        _walk(value.value, image_model, found, depth + 1)
        return
    if isinstance(value, dict) or hasattr(value, "items"):
        for item in value.values():
            _walk(item, image_model, found, depth + 1)
        return
    try:
        items = list(value)
    except TypeError:
        return
    for item in items:
        _walk(item, image_model, found, depth + 1)


# --- One query per page ---------------------------------------------------------------------


def prefetch(images: Iterable[Any], specs: list[str] | None = None) -> None:
    """Read the renditions of these images ahead; each image then looks no further.

    With ``specs``, the renditions cache is read first (one ``get_many``), and the database (one
    query, whose renditions are then cached) only for the images it lacks some of. A rendition
    missing from both is missing (see the module): it is stood in for and queued, never made
    here. A stand-in the cache remembers is used as one (``CustomImage`` calls
    :func:`shows_fallback` when a page shows it).
    """
    images = [image for image in images if image is not None and image.pk]
    pending = list(
        {
            image.pk: image for image in images if not hasattr(image, "prefetched_renditions")
        }.values()
    )
    if not pending:
        return
    Rendition = get_image_model().get_rendition_model()
    if specs:
        pending = _prefetch_from_cache(Rendition, pending, specs)
        if not pending:
            return
    rows = Rendition.objects.filter(image_id__in={image.pk for image in pending})
    if specs:
        rows = rows.filter(filter_spec__in=specs)
    by_image: dict[int, list] = {image.pk: [] for image in pending}
    for rendition in rows:
        by_image[rendition.image_id].append(rendition)
    if specs:  # for the next page that shows them (written before an image is attached to each)
        images_by_pk = {image.pk: image for image in pending}
        Rendition.cache_backend.set_many(
            {
                Rendition.construct_cache_key(
                    images_by_pk[rendition.image_id],
                    rendition.focal_point_key,
                    rendition.filter_spec,
                ): rendition
                for found in by_image.values()
                for rendition in found
            }
        )
    for image in pending:
        for rendition in by_image[image.pk]:
            rendition.image = image
        image.prefetched_renditions = by_image[image.pk]


def _prefetch_from_cache(Rendition: type, images: list[Any], specs: list[str]) -> list[Any]:
    """Give the images whose every spec the cache holds their renditions; the others."""
    keys: dict[str, Any] = {}
    for image in images:
        for spec in specs:
            focal_key = shared_filter(spec).get_cache_key(image)
            keys[Rendition.construct_cache_key(image, focal_key, spec)] = image
    by_image: dict[int, list] = {image.pk: [] for image in images}
    for key, rendition in Rendition.cache_backend.get_many(list(keys)).items():
        image = keys[key]
        rendition.image = image
        rendition._from_cache = True  # never written back (core.models.CustomImage)
        by_image[image.pk].append(rendition)
    rest = []
    for image in images:
        found = by_image[image.pk]
        if len(found) == len(set(specs)):
            image.prefetched_renditions = found  # stand-ins among them say so when used
        else:
            rest.append(image)
    return rest
