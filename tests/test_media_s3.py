"""Media on S3: a private bucket behind the CloudFront media domain (moto's S3 on loopback)."""

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from wagtail.images import get_image_model

from artspot.settings.media import MEDIA_CACHE_CONTROL, media_storage
from core.artgen import compose
from tests.support.aws import REGION

BUCKET = "artspot-media-test"
DOMAIN = "media.artspot.test"


def _private_bucket(s3) -> None:
    """The bucket as production has it: no ACLs (bucket owner enforced), public access blocked."""
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_ownership_controls(
        Bucket=BUCKET,
        OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    )
    s3.put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _s3_storages(settings, endpoint: str) -> dict:
    storage = media_storage(BUCKET, custom_domain=DOMAIN, region=REGION, endpoint_url=endpoint)
    return {**settings.STORAGES, "default": storage}


@pytest.mark.django_db
def test_an_image_uploaded_in_the_admin_lands_in_the_bucket_with_its_renditions(
    moto, settings, admin_client
):
    s3 = boto3.client("s3", region_name=REGION)
    _private_bucket(s3)
    Image = get_image_model()
    fields = [Image._meta.get_field("file"), Image.get_rendition_model()._meta.get_field("file")]
    # Both file fields store through Django's default storage, which the override swaps.
    assert all(field.storage is default_storage for field in fields)

    with override_settings(STORAGES=_s3_storages(settings, moto)):
        upload = SimpleUploadedFile(
            "estuary at dusk.jpg", compose(7, 640, 480), content_type="image/jpeg"
        )
        response = admin_client.post(
            reverse("wagtailimages:add"),
            {"title": "Estuary at dusk", "file": upload, "description": "A grey estuary"},
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        image = Image.objects.get(title="Estuary at dusk")

        # The original is in the bucket, private, with a long cache lifetime.
        assert image.file.name.startswith("original_images/")
        head = s3.head_object(Bucket=BUCKET, Key=image.file.name)
        assert head["CacheControl"] == MEDIA_CACHE_CONTROL
        assert head["ContentType"] == "image/jpeg"
        grants = s3.get_object_acl(Bucket=BUCKET, Key=image.file.name)["Grants"]
        assert not [g for g in grants if "URI" in g["Grantee"]], grants  # no AllUsers grant

        # A rendition is generated from the bucket and stored there, served from CloudFront.
        rendition = image.get_rendition("fill-200x200|format-webp")
        assert rendition.file.name.startswith("images/")
        assert s3.head_object(Bucket=BUCKET, Key=rendition.file.name)["ContentLength"] > 0
        assert rendition.url == f"https://{DOMAIN}/{rendition.file.name}"
        assert image.file.url == f"https://{DOMAIN}/{image.file.name}"
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
        assert keys == {image.file.name, rendition.file.name}
        # Nothing of it reached the local disk.
        assert not FileSystemStorage().exists(image.file.name)

        assert type(default_storage._wrapped).__name__ == "S3Storage"

    # Afterwards the rest of the suite stores media on the local disk again.
    assert not default_storage.exists(image.file.name)
    assert isinstance(default_storage._wrapped, FileSystemStorage)


@pytest.mark.django_db
def test_stored_names_are_never_reused():
    """Each upload gets its own folder, so an immutable cached object is never replaced."""
    Image = get_image_model()
    names = {Image(file=None).get_upload_to("photo.jpg") for _ in range(20)}
    assert len(names) == 20
    long_name = Image(file=None).get_upload_to("x" * 200 + ".jpeg")
    assert len(long_name) <= 100 and long_name.endswith(".jpeg")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bucket": "b"}, "without AWS_S3_CUSTOM_DOMAIN"),
        ({"bucket": "b", "custom_domain": "https://media.example"}, "must be a host name"),
        ({"bucket": "b", "custom_domain": "media.example/"}, "must be a host name"),
        ({"custom_domain": "media.example"}, "without AWS_STORAGE_BUCKET_NAME"),
        ({"endpoint_url": "http://127.0.0.1:9000"}, "without AWS_STORAGE_BUCKET_NAME"),
        (
            {"bucket": "b", "custom_domain": "media.example", "endpoint_url": "127.0.0.1:9000"},
            "must start with http",
        ),
    ],
)
def test_bad_media_settings_stop_the_start_with_a_clear_error(kwargs, message):
    bucket = kwargs.pop("bucket", "")
    with pytest.raises(ImproperlyConfigured, match=message):
        media_storage(bucket, **kwargs)


def test_without_a_bucket_media_stays_on_the_local_disk():
    assert media_storage("") == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    s3 = media_storage("b", custom_domain="media.example")["OPTIONS"]
    assert s3["default_acl"] is None
    assert s3["querystring_auth"] is False
