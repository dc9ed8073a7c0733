"""The demo's image renditions, asked for once its content exists, so no first view waits for one."""

import logging
import random
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from wagtail import hooks
from wagtail.models import Page

from . import renditions

ORDER = 1000  # after every step that adds pages, works or images
IMAGES_PER_TASK = 20

logger = logging.getLogger(__name__)


def image_renditions(rng: random.Random) -> None:
    """Queue every live page's images (page sizes) and those the apps name (``IMAGES_HOOK``).

    ``load_demo`` runs inside ``renditions.deferred()``: publishing the demo's works and pages
    queued nothing, so this step is the one request for them all.

    With a worker, the renditions are made by ``core.tasks.make_renditions`` (through the
    outbox, in batches the workers share) while the loader goes on. On the embedded default
    (eager Celery, no worker) nothing is made here: the demo's ~10,000 renditions would hold
    ``make run`` for half an hour. Its pages show each original at the rendition's size, and the
    server makes the missing renditions in a background thread after a page's first view.
    """
    if not getattr(settings, "RENDITIONS_AHEAD", True):
        return
    if settings.CELERY_TASK_ALWAYS_EAGER:
        logger.info("Renditions are made in the background as the demo's pages are first viewed")
        return
    with transaction.atomic():
        for role, ids in rendition_jobs().items():
            for start in range(0, len(ids), IMAGES_PER_TASK):
                renditions.queue_now(ids[start : start + IMAGES_PER_TASK], role)


def rendition_jobs() -> dict[str, list[int]]:
    """The ids of every image the live site shows, by role (``renditions.ROLES``)."""
    jobs: dict[int, str] = {}
    for page in Page.objects.live().specific().iterator():
        jobs.update(dict.fromkeys(renditions.images_of(page), "page"))
    for images_needing in hooks.get_hooks(renditions.IMAGES_HOOK):
        for pk, role in images_needing():
            jobs[pk] = role
    by_role: dict[str, list[int]] = defaultdict(list)
    for pk, role in sorted(jobs.items()):
        by_role[role].append(pk)
    return dict(by_role)


STEPS = [image_renditions]
