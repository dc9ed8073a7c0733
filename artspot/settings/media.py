"""Where uploaded media lives: local files, or a private S3 bucket served through CloudFront.

``media_storage()`` is the one place that turns the ``AWS_*`` variables into ``STORAGES["default"]``
and refuses combinations that would start a site with broken images: a bucket without the
CloudFront media domain (the bucket is private, so its own URLs answer 403), a domain given as a
URL, or S3 variables without a bucket (media would silently stay on the local disk).
"""

from __future__ import annotations

import re

from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured

# Every stored name is unique (a random folder per upload, see core.models), so an object never
# changes once written and CloudFront and browsers may keep it for a year.
MEDIA_CACHE_CONTROL = "public, max-age=31536000, immutable"
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")


def media_storage(
    bucket: str = "",
    *,
    custom_domain: str = "",
    region: str = "",
    endpoint_url: str = "",
    location: str = "",
) -> dict:
    """``STORAGES["default"]`` for these settings (local files when ``bucket`` is empty)."""
    bucket, custom_domain = bucket.strip(), custom_domain.strip()
    region, endpoint_url = region.strip(), endpoint_url.strip()
    if not bucket:
        stray = [
            name
            for name, value in (
                ("AWS_S3_CUSTOM_DOMAIN", custom_domain),
                ("AWS_S3_REGION_NAME", region),
                ("AWS_S3_ENDPOINT_URL", endpoint_url),
            )
            if value
        ]
        if stray:
            raise ImproperlyConfigured(
                f"{', '.join(stray)} set without AWS_STORAGE_BUCKET_NAME: media would stay on "
                "the local disk. Set the bucket too, or unset them."
            )
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if not custom_domain:
        raise ImproperlyConfigured(
            "AWS_STORAGE_BUCKET_NAME is set without AWS_S3_CUSTOM_DOMAIN: the bucket is private "
            "and media is reached only through CloudFront, so set the CloudFront media domain "
            "(e.g. media.artspot.example)."
        )
    if not _HOST.match(custom_domain):
        raise ImproperlyConfigured(
            f"AWS_S3_CUSTOM_DOMAIN must be a host name such as media.artspot.example, without "
            f"scheme, path or slash; got {custom_domain!r}."
        )
    if endpoint_url and not endpoint_url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"AWS_S3_ENDPOINT_URL must start with http:// or https://; got {endpoint_url!r}."
        )
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            # Key prefix inside the bucket ("media" when CloudFront serves it under /media/).
            "location": location.strip().strip("/"),
            "region_name": region or None,
            "endpoint_url": endpoint_url or None,
            # Private bucket (Object Ownership "bucket owner enforced", public access blocked):
            # no ACL on any object; CloudFront reads it with origin access control.
            "default_acl": None,
            "custom_domain": custom_domain,
            "url_protocol": "https:",
            # URLs are plain CloudFront URLs: no signature, so pages stay cacheable.
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": MEDIA_CACHE_CONTROL},
            # An upload in the admin waits for S3: never longer than this.
            "client_config": Config(
                connect_timeout=3, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"}
            ),
        },
    }
