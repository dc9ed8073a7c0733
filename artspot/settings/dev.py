"""Local development: the embedded default, with debugging on."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
# Only ever used on a developer's machine; production refuses to start without its own key.
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-never-used-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])
PUBLIC_CACHE_SECONDS = env.int("PUBLIC_CACHE_SECONDS", default=0)

LOCAL_PAYMENTS_WEBHOOK_SECRET = local_payments_secret(SECRET_KEY)  # noqa: F405
