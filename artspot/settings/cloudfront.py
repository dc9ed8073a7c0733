"""CloudFront purges (core.frontend_cache): Wagtail's frontend cache from the distribution id."""

from __future__ import annotations

import re

from django.core.exceptions import ImproperlyConfigured

_DISTRIBUTION_ID = re.compile(r"[A-Z0-9]{6,32}")


def frontend_cache(distribution_id: str = "") -> dict:
    """Wagtail's frontend cache settings: CloudFront with an id, none (no purges) without."""
    distribution_id = distribution_id.strip()
    if not distribution_id:
        return {}
    if not _DISTRIBUTION_ID.fullmatch(distribution_id):
        raise ImproperlyConfigured(
            "CLOUDFRONT_DISTRIBUTION_ID must be the distribution's id (e.g. E2QWRUHAPOMQZL), not "
            f"an ARN or a domain; got {distribution_id!r}."
        )
    return {
        "cloudfront": {
            "BACKEND": "core.frontend_cache.CloudFrontBackend",
            "DISTRIBUTION_ID": distribution_id,
        }
    }
