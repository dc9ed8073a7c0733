"""No visitor waits for an image rendition: they are made ahead by a task and only looked up."""

import random
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.template import engines
from django.template.base import Node
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.images import get_image_model
from wagtail.images.models import Filter
from wagtail.images.templatetags.wagtailimages_tags import ImageNode, SrcsetImageNode

from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from core import fragments, renditions
from core.models import OutboxMessage
from stories.models import StoryPage

pytestmark = pytest.mark.django_db

Rendition = get_image_model().get_rendition_model()


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def ahead(settings):
    settings.RENDITIONS_AHEAD = True


def test_a_page_without_renditions_makes_none_and_queues_them(client):
    work = ArtworkFactory(title="Unrendered Heron")
    image = work.main_image
    renditions.queued.clear()
    before = Rendition.objects.count()
    response = client.get(f"/artworks/{work.slug}/")
    assert response.status_code == 200
    assert Rendition.objects.count() == before  # nothing made in the request
    html = response.content.decode()
    assert image.file.url in html  # the original stands in
    assert any(pk == image.pk for pk, _ in renditions.queued)  # and its renditions are asked for
    specs = {spec for pk, queued in renditions.queued if pk == image.pk for spec in queued}
    assert "format-avif|max-600x600" in specs or "format-avif|max-1000x1000" in specs


def test_every_public_page_kind_makes_no_rendition():
    work = ArtworkFactory(title="Unrendered Kestrel")
    visitor = Client()
    before = Rendition.objects.count()
    for url in ["/", "/artworks/", f"/artworks/{work.slug}/", work.artist.url, "/search/?query=a"]:
        assert visitor.get(url).status_code == 200, url
    for story in StoryPage.objects.live()[:2]:
        assert visitor.get(story.url).status_code == 200
    assert Rendition.objects.count() == before


def test_a_stand_in_is_asked_for_once_and_costs_no_query_the_second_time(
    client, django_assert_max_num_queries
):
    work = ArtworkFactory()
    url = f"/artworks/{work.slug}/"
    renditions.queued.clear()
    client.get(url)
    first = len(renditions.queued)
    assert first >= 1
    client.get(url)
    assert len(renditions.queued) == first  # not asked again
    # Remembered: a rendition missing costs no query per view (the page's budget, as in
    # tests/test_artworks.py).
    with django_assert_max_num_queries(11):
        client.get(url)


def test_publishing_an_artwork_makes_its_renditions_through_the_task(ahead, commits):
    work = ArtworkFactory(live=False, images=2)
    images = [item.image for item in work.gallery_images.all()]
    with commits():
        work.save_revision().publish()
    message = OutboxMessage.objects.get(task=renditions.TASK)
    assert message.args == [sorted(image.pk for image in images), "artwork"]
    for image in images:
        made = set(image.renditions.values_list("filter_spec", flat=True))
        assert made == set(renditions.ARTWORK_SPECS)
    # The page now shows renditions, found in one lookup, and makes nothing more.
    before = Rendition.objects.count()
    html = Client().get(f"/artworks/{work.slug}/").content.decode()
    assert ".avif" in html and Rendition.objects.count() == before


def test_publishing_a_page_makes_its_images_renditions(ahead, commits):
    story = StoryPage.objects.live().exclude(hero_image=None).first()
    story.hero_image.renditions.all().delete()
    with commits():
        story.save_revision().publish()
    made = set(story.hero_image.renditions.values_list("filter_spec", flat=True))
    assert made == set(renditions.PAGE_IMAGE_SPECS)


def test_the_task_made_twice_makes_nothing_more(ahead):
    image = ArtworkFactory().main_image
    renditions.make([image.pk], "artwork")
    count = image.renditions.count()
    renditions.make([image.pk], "artwork")
    assert image.renditions.count() == count == len(renditions.ARTWORK_SPECS)


def test_a_stand_in_never_reaches_the_task_or_the_admin(ahead, client):
    work = ArtworkFactory()
    client.get(f"/artworks/{work.slug}/")  # remembers stand-ins in the renditions cache
    renditions.make([work.main_image.pk], "artwork")
    assert work.main_image.renditions.count() == len(renditions.ARTWORK_SPECS)
    # The task wrote the real renditions over the stand-ins: the next view shows them.
    assert ".avif" in client.get(f"/artworks/{work.slug}/").content.decode()


def test_cache_hits_are_not_written_back(ahead, monkeypatch):
    image = ArtworkFactory().main_image
    renditions.make([image.pk], "artwork")
    fresh = get_image_model().objects.get(pk=image.pk)
    fresh.get_renditions(*renditions.ARTWORK_SPECS[:6])  # the database, then the cache
    writes = []
    backend = Rendition.cache_backend
    monkeypatch.setattr(backend, "set_many", lambda *a, **k: writes.append(a))
    again = get_image_model().objects.get(pk=image.pk)
    assert len(again.get_renditions(*renditions.ARTWORK_SPECS[:6])) == 6
    assert writes == []


def test_prefetch_reads_a_pages_renditions_in_one_query(ahead, django_assert_num_queries):
    works = [ArtworkFactory() for _ in range(3)]
    for work in works:
        renditions.make([work.main_image.pk], "artwork")
    images = [get_image_model().objects.get(pk=work.main_image.pk) for work in works]
    with django_assert_num_queries(1):
        renditions.prefetch(images)
    with django_assert_num_queries(0):
        for image in images:
            assert len(image.get_renditions(*renditions.ARTWORK_SPECS)) == len(
                renditions.ARTWORK_SPECS
            )


def _image_nodes(nodelist) -> list[Node]:
    found = []
    for node in nodelist:
        if isinstance(node, ImageNode):
            found.append(node)
        for attr in getattr(node, "child_nodelists", ()):
            found += _image_nodes(getattr(node, attr, None) or [])
    return found


def test_every_template_spec_is_made_ahead():
    """Each `{% picture %}` / `{% image %}` in the templates asks for specs the task makes."""
    made = set(renditions.ARTWORK_SPECS) | set(renditions.PAGE_IMAGE_SPECS)
    engine = engines["django"]
    roots = [Path(settings.BASE_DIR) / "templates"]
    asked: set[str] = set()
    for root in roots:
        for path in root.rglob("*.html"):
            template = engine.get_template(str(path.relative_to(root)))
            for node in _image_nodes(template.template.nodelist):
                if isinstance(node, SrcsetImageNode):
                    asked |= set(Filter.expand_spec(node.filter_specs))
                else:
                    asked.add("|".join(node.filter_specs))
    asked = {spec for spec in asked if "admin" not in spec}
    # The cart's thumbnails are the visitor's own page (not public); made ahead all the same.
    assert asked, "no image tags found"
    assert asked <= made, sorted(asked - made)


def test_browse_reads_its_cards_renditions_in_one_query_or_none(ahead, client):
    """The cards' renditions: one query with a cold renditions cache, none with a warm one, and
    none while the cards are kept (core.fragments)."""

    def rendition_reads() -> tuple[list[str], str]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get("/artworks/").content.decode()
        return [q["sql"] for q in queries if "core_customrendition" in q["sql"]], html

    # Every card on the page gets its renditions first (those the first view found missing),
    # so no view below shows a stand-in that a background thread replaces meanwhile.
    renditions.queued.clear()
    client.get("/artworks/")
    renditions.wait_for_background()
    for image_pk, specs in list(renditions.queued):
        renditions.make([image_pk], list(specs))
    caches["renditions"].clear()
    fragments.local.clear()
    cold, html = rendition_reads()
    assert len(cold) == 1
    assert ".avif" in html and "/original_images/" not in html  # no card shows a stand-in
    fragments.local.clear()
    warm, warm_html = rendition_reads()
    assert warm == []
    assert warm_html == html
    kept, kept_html = rendition_reads()
    assert kept == []
    assert kept_html == html


def making_is_not_the_loaders_job(*args, **kwargs):
    # (Not a count of renditions: earlier tests' background threads may still be making some.)
    pytest.fail("load_demo made renditions itself")


def test_load_demo_queues_the_renditions_for_the_workers_and_makes_none_itself(
    ahead, settings, monkeypatch
):
    from core.demo import IMAGES_PER_TASK, image_renditions

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(renditions, "make", making_is_not_the_loaders_job)
    image_renditions(random.Random(1))
    messages = list(OutboxMessage.objects.filter(task=renditions.TASK))
    assert messages, "the demo's renditions were not queued"
    assert all(len(m.args[0]) <= IMAGES_PER_TASK for m in messages)
    queued = {pk for m in messages for pk in m.args[0]}
    story = StoryPage.objects.live().exclude(hero_image=None).first()
    assert story.hero_image_id in queued
    assert Artwork.objects.public().first().main_image.pk in queued


def test_on_the_embedded_default_load_demo_leaves_renditions_to_first_views(
    ahead, settings, monkeypatch
):
    """No worker: making ~10,000 renditions in the loader would hold `make run` for half an hour."""
    from core.demo import image_renditions

    settings.CELERY_TASK_ALWAYS_EAGER = True
    monkeypatch.setattr(renditions, "make", making_is_not_the_loaders_job)
    image_renditions(random.Random(1))
    assert not OutboxMessage.objects.filter(task=renditions.TASK).exists()


def test_publishing_inside_a_bulk_load_queues_no_renditions(ahead, commits):
    """load_demo publishes hundreds of works inside ``deferred()`` and asks once at its end."""
    work = ArtworkFactory(live=False, images=1)
    with commits(), renditions.deferred():
        work.save_revision().publish()
    assert not OutboxMessage.objects.filter(task=renditions.TASK).exists()
    with commits():
        work.save_revision().publish()
    assert OutboxMessage.objects.filter(task=renditions.TASK).exists()
