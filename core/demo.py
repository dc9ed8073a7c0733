"""The demo's image renditions, made once its content exists, so no first view waits for one."""

import logging
import random
import sys

from django.conf import settings
from tqdm import tqdm
from wagtail import hooks
from wagtail.models import Page

from . import renditions

ORDER = 1000  # after every step that adds pages, works or images

logger = logging.getLogger(__name__)


def image_renditions(rng: random.Random) -> None:
    """Every live page's images (page sizes) and those the apps name (``IMAGES_HOOK``: artworks)."""
    if not getattr(settings, "RENDITIONS_AHEAD", True):
        return
    jobs: dict[int, str] = {}
    for page in Page.objects.live().specific().iterator():
        jobs.update(dict.fromkeys(renditions.images_of(page), "page"))
    for images_needing in hooks.get_hooks(renditions.IMAGES_HOOK):
        for pk, role in images_needing():
            jobs[pk] = role
    with tqdm(
        sorted(jobs.items()),
        desc="Image renditions",
        unit="image",
        disable=not sys.stdout.isatty(),
        leave=False,
    ) as bar:
        for pk, role in bar:
            renditions.make([pk], role)


STEPS = [image_renditions]
