"""Test settings: real PostgreSQL and Redis on 127.0.0.1 unless DATABASE_URL / REDIS_URL say so."""

import os

# Set before base reads them, so the test run always talks to the real services.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/artspot")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
# Unit tests run Celery tasks in-process; integration tests start a real worker on Redis.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from .base import *  # noqa: F403

SECRET_KEY = "test-only-key-for-the-pytest-suite-0123456789abcdefghijklmnop"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WAGTAILADMIN_BASE_URL = "http://testserver"
# Uploaded and generated files from the suite stay apart from the embedded default's media.
MEDIA_ROOT = VAR_DIR / "test-media"  # noqa: F405

LOCAL_PAYMENTS_WEBHOOK_SECRET = local_payments_secret(SECRET_KEY)  # noqa: F405
