"""Production: every external service is real, and the process refuses to start half-configured.

Import order matters: the required variables are checked before ``base`` reads them, so a missing
one stops the process with a single line naming every missing variable.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from .required import required_variables

_missing = [name for name in required_variables(os.environ) if not os.environ.get(name, "").strip()]
if _missing:
    raise ImproperlyConfigured(
        "ArtSpot production settings: missing required environment variable(s): "
        + ", ".join(_missing)
        + " (see README.md, 'Configuration')."
    )

os.environ.setdefault("LOG_FORMAT", "json")

from .base import *  # noqa: E402, F403
from .base import STORAGES, env  # noqa: E402

DEBUG = False
CELERY_TASK_ALWAYS_EAGER = False

STORAGES["staticfiles"] = {
    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
}

# TLS terminates at CloudFront / the load balancer, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks come from the load balancer over plain HTTP inside the VPC.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$", r"^readyz/$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)

# Wagtail's live preview shows the page in a same-origin iframe, so frames stay SAMEORIGIN
# (set in base) rather than the DENY that Django's W019 asks for.
SILENCED_SYSTEM_CHECKS = ["security.W019"]

LOCAL_PAYMENTS_WEBHOOK_SECRET = local_payments_secret(SECRET_KEY)  # noqa: F405
