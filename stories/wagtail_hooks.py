"""Stories' answer to the frontend cache: which stories show these works.

Stories choose works in StreamField blocks, so Wagtail's reference index (kept by a task after
each save) is how we find them; a story published moments ago is purged by its own publishing.
"""

from django.contrib.contenttypes.models import ContentType
from wagtail import hooks
from wagtail.models import ReferenceIndex

from artworks.models import Artwork
from core.frontend_cache import PAGES_SHOWING_ARTWORKS

from .models import StoryPage


@hooks.register(PAGES_SHOWING_ARTWORKS)
def stories_showing(artwork_ids: list[int]):
    story_ids = ReferenceIndex.objects.filter(
        content_type=ContentType.objects.get_for_model(StoryPage),
        to_content_type=ContentType.objects.get_for_model(Artwork),
        to_object_id__in=[str(pk) for pk in artwork_ids],
    ).values_list("object_id", flat=True)
    return StoryPage.objects.live().filter(pk__in=[int(pk) for pk in set(story_ids)])
