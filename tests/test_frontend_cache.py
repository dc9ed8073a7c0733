"""CloudFront purges: what a change shows reaches CloudFront (moto) in one batch, after commit."""

import logging
from datetime import timedelta

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from artists.factories import ArtistPageFactory
from artspot.settings.cloudfront import frontend_cache as frontend_cache_settings
from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from core import frontend_cache, outbox
from core.factories import ImageFactory
from core.models import OutboxMessage, PendingPurge
from curations.factories import ArtworkCollectionPageFactory
from drops.factories import DropPageFactory
from drops.models import DropWindowPurge
from drops.tasks import purge_opened_and_closed_drops
from shop import inventory
from tests.support.aws import REGION
from tests.support.shop import checkout, pay
from tests.test_artworks import _admin_form, _url

pytestmark = pytest.mark.django_db

PURGE_TASKS = (frontend_cache.FLUSH_TASK, frontend_cache.INVALIDATE_TASK)


def _distribution(cloudfront) -> str:
    config = {
        "CallerReference": "artspot-test",
        "Comment": "ArtSpot",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "web",
                    "DomainName": "origin.artspot.test",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "web",
            "ViewerProtocolPolicy": "redirect-to-https",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
        },
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


@pytest.fixture
def cloudfront(moto, settings):
    """A CloudFront distribution in moto; ``cloudfront.configure()`` sets it as
    CLOUDFRONT_DISTRIBUTION_ID would (tests make their content first, then turn purging on)."""
    client = boto3.client("cloudfront", region_name=REGION)
    client.distribution_id = _distribution(client)

    def configure(distribution_id: str = client.distribution_id) -> None:
        settings.CLOUDFRONT_DISTRIBUTION_ID = distribution_id
        settings.WAGTAILFRONTENDCACHE = frontend_cache_settings(distribution_id)

    client.configure = configure
    return client


def invalidations(client) -> list[list[str]]:
    """The paths of every invalidation the distribution received, oldest first."""
    listed = client.list_invalidations(DistributionId=client.distribution_id)
    items = listed["InvalidationList"].get("Items", [])
    batches = []
    for item in reversed(items):
        detail = client.get_invalidation(DistributionId=client.distribution_id, Id=item["Id"])
        batches.append(sorted(detail["Invalidation"]["InvalidationBatch"]["Paths"]["Items"]))
    return batches


def relay_purges() -> None:
    """What the worker does: run the waiting purge tasks (flush, then invalidation) until none."""
    while True:
        waiting = OutboxMessage.objects.filter(relayed_at__isnull=True, task__in=PURGE_TASKS)
        pks = list(waiting.values_list("pk", flat=True))
        if not pks:
            return
        outbox.relay(pks=pks)


def _path(page) -> str:
    return page.get_url()


def test_publishing_an_artwork_sends_one_invalidation_after_the_request(
    cloudfront, admin_client, django_capture_on_commit_callbacks
):
    artist = ArtistPageFactory(title="Maud Lisle")
    image = ImageFactory(width=320, height=120)
    admin_client.post(_url("add"), _admin_form(artist, image))
    artwork = Artwork.objects.get(title="Tidal Ledger")
    assert not artwork.live
    cloudfront.configure()

    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            _url("edit", artwork.pk), {**_admin_form(artist, image), "action-publish": "publish"}
        )
    assert response.status_code == 302
    # The request only recorded the purge: CloudFront has heard nothing yet.
    assert invalidations(cloudfront) == []
    assert PendingPurge.objects.filter(key=f"artwork:{artwork.pk}").exists()

    for callback in callbacks:  # the commit: the flush is queued through the outbox
        callback()
    assert invalidations(cloudfront) == []
    relay_purges()

    [paths] = invalidations(cloudfront)
    assert "/artworks/tidal-ledger-maud-lisle/" in paths
    assert {"/artworks/", "/artworks/?*"} <= set(paths)  # browse and its filtered variants
    assert _path(artist) in paths
    assert not PendingPurge.objects.exists()
    relay_purges()
    assert len(invalidations(cloudfront)) == 1  # nothing more to send

    # Unpublishing takes it off the same pages.
    with django_capture_on_commit_callbacks(execute=True):
        Artwork.objects.get(pk=artwork.pk).unpublish()
    relay_purges()
    assert invalidations(cloudfront)[1] == paths


def test_a_sale_and_a_refund_to_sale_purge_every_page_that_shows_the_work(
    cloudfront, django_capture_on_commit_callbacks
):
    artwork = ArtworkFactory(title="Salt Marsh")
    collection = ArtworkCollectionPageFactory(title="Coastal", works=[artwork])
    cloudfront.configure()

    order = checkout(artwork, "ana@example.com")
    assert not PendingPurge.objects.exists()  # a hold is not a sale
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
    assert order.lines.get().unit.sold_at is not None
    relay_purges()
    [sale] = invalidations(cloudfront)
    assert artwork.get_url() in sale
    assert _path(artwork.artist) in sale
    assert _path(collection) in sale and f"{_path(collection)}?available=1" in sale

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert inventory.return_to_sale(order.lines.all()) == 1
    relay_purges()
    assert len(invalidations(cloudfront)) == 2
    assert invalidations(cloudfront)[1] == sale


def test_repeated_changes_in_one_transaction_make_one_batch(
    cloudfront, django_capture_on_commit_callbacks
):
    first, second = ArtworkFactory(), ArtworkFactory()
    cloudfront.configure()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for _ in range(3):
            first.price += 100
            first.save_revision().publish()
        second.save_revision().publish()
        unit = second.units.get()
        unit.withheld = True
        unit.save()
    flushes = OutboxMessage.objects.filter(task=frontend_cache.FLUSH_TASK)
    assert flushes.count() == 1
    assert sum(isinstance(c, frontend_cache._FlushAfterCommit) for c in callbacks) == 1
    relay_purges()
    [paths] = invalidations(cloudfront)
    assert first.get_url() in paths and second.get_url() in paths
    assert len(paths) == len(set(paths))


def test_a_rolled_back_change_purges_nothing(cloudfront, django_capture_on_commit_callbacks):
    artwork = ArtworkFactory()
    cloudfront.configure()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        artwork.save_revision().publish()
        raise RuntimeError("the editor's request failed")
    assert not PendingPurge.objects.exists()
    assert not OutboxMessage.objects.filter(task__in=PURGE_TASKS).exists()


def test_a_cloudfront_error_is_logged_and_retried_without_breaking_the_request(
    cloudfront, settings, admin_client, django_capture_on_commit_callbacks, caplog
):
    artist = ArtistPageFactory(title="Maud Lisle")
    image = ImageFactory(width=320, height=120)
    admin_client.post(_url("add"), _admin_form(artist, image))
    artwork = Artwork.objects.get(title="Tidal Ledger")
    cloudfront.configure("E0UNKNOWN0000")

    caplog.set_level(logging.ERROR)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            _url("edit", artwork.pk), {**_admin_form(artist, image), "action-publish": "publish"}
        )
    assert response.status_code == 302
    artwork.refresh_from_db()
    assert artwork.live

    failed = OutboxMessage.objects.get(task=frontend_cache.INVALIDATE_TASK)
    assert failed.relayed_at is None  # left waiting for the relay
    assert "NoSuchDistribution" in failed.last_error
    assert "left for the relay" in caplog.text

    # CloudFront (or the setting) is fixed: the relay sends the same batch, once.
    cloudfront.configure()
    relay_purges()
    relay_purges()
    [paths] = invalidations(cloudfront)
    assert "/artworks/tidal-ledger-maud-lisle/" in paths


def test_a_batch_sent_again_carries_the_same_caller_reference(cloudfront):
    """A retried task (acks_late redelivery, a relay that published twice) sends the batch's
    caller reference again, which CloudFront answers with the invalidation it already has
    (moto does not model that, so this checks what we send)."""
    cloudfront.configure()
    urls = ["http://localhost/artworks/", "http://localhost/artworks/?*"]
    frontend_cache.invalidate("artspot-batch-1", urls)
    frontend_cache.invalidate("artspot-batch-1", list(reversed(urls)))
    listed = cloudfront.list_invalidations(DistributionId=cloudfront.distribution_id)
    sent = [
        cloudfront.get_invalidation(DistributionId=cloudfront.distribution_id, Id=item["Id"])[
            "Invalidation"
        ]["InvalidationBatch"]
        for item in listed["InvalidationList"]["Items"]
    ]
    assert [batch["CallerReference"] for batch in sent] == ["artspot-batch-1"] * 2
    assert [batch["Paths"]["Items"] for batch in sent] == [["/artworks/", "/artworks/?*"]] * 2


def test_without_a_distribution_nothing_is_recorded(
    settings, admin_client, django_capture_on_commit_callbacks
):
    assert settings.WAGTAILFRONTENDCACHE == {}
    artwork = ArtworkFactory()
    order = checkout(artwork, "ana@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        artwork.save_revision().publish()
        pay(order)
    assert not PendingPurge.objects.exists()
    assert not OutboxMessage.objects.filter(task__in=PURGE_TASKS).exists()


def test_a_drop_opening_purges_its_works_once(cloudfront, django_capture_on_commit_callbacks):
    artwork = ArtworkFactory()
    drop = DropPageFactory(starts_at=timezone.now() + timedelta(minutes=5), works=[artwork])
    cloudfront.configure()
    with django_capture_on_commit_callbacks(execute=True):
        purge_opened_and_closed_drops()  # whatever opened lately (the demo's drops)
    assert not DropWindowPurge.objects.filter(drop=drop).exists()  # not open yet
    assert not PendingPurge.objects.exists()
    before = len(invalidations(cloudfront))

    type(drop).objects.filter(pk=drop.pk).update(starts_at=timezone.now() - timedelta(seconds=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_opened_and_closed_drops() == 1
    assert purge_opened_and_closed_drops() == 0  # the next beat: already done
    relay_purges()
    assert len(invalidations(cloudfront)) == before + 1
    paths = invalidations(cloudfront)[-1]
    assert artwork.get_url() in paths
    assert _path(drop) in paths


def test_publishing_a_drop_purges_it_and_its_works_in_one_invalidation(
    cloudfront, django_capture_on_commit_callbacks
):
    """Page publishing is purged by our handler, with what it touches (Wagtail's own handler,
    which would send the page alone in a second invalidation, is not installed)."""
    artwork = ArtworkFactory()
    drop = DropPageFactory(starts_at=timezone.now() + timedelta(days=2), works=[artwork])
    cloudfront.configure()
    with django_capture_on_commit_callbacks(execute=True):
        drop.save_revision().publish()
    relay_purges()
    [paths] = invalidations(cloudfront)
    assert {_path(drop), _path(drop.get_parent()), artwork.get_url()} <= set(paths)


@pytest.mark.parametrize("value", ["arn:aws:cloudfront::1:distribution/E2", "d1.cloudfront.net"])
def test_a_malformed_distribution_id_stops_the_start(value):
    with pytest.raises(ImproperlyConfigured, match="CLOUDFRONT_DISTRIBUTION_ID"):
        frontend_cache_settings(value)


def test_making_a_section_private_purges_its_pages(cloudfront, django_capture_on_commit_callbacks):
    """CloudFront must stop answering for a section as soon as it needs a password."""
    from wagtail.models import PageViewRestriction

    from stories.models import StoryIndexPage

    index = StoryIndexPage.objects.live().first()
    story = index.get_children().live().first()
    cloudfront.configure()
    with django_capture_on_commit_callbacks(execute=True):
        PageViewRestriction.objects.create(
            page=index, restriction_type=PageViewRestriction.PASSWORD, password="a-secret"
        )
    relay_purges()
    [paths] = invalidations(cloudfront)
    assert {_path(index), _path(story)} <= set(paths)
