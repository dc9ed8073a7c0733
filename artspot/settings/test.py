"""Test settings: real PostgreSQL and Redis on 127.0.0.1 unless DATABASE_URL / REDIS_URL say so."""

import os
from urllib.parse import urlsplit, urlunsplit

# Set before base reads them, so the test run always talks to the real services.
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/artspot")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")

# Under pytest-xdist each worker ("gw0", "gw1", …) gets its own database (pytest-django adds
# the suffix), its own Redis database (tests flush the cache, and real Celery workers take tasks
# from the broker) and its own media folder. Children started by tests inherit these.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if XDIST_WORKER.startswith("gw"):
    # From the run's own REDIS_URL, remembered once: a child process that loads these settings
    # again (a Celery worker started by a test) must land on the same database, not one further.
    _base = os.environ.setdefault("ARTSPOT_TEST_REDIS_URL", os.environ["REDIS_URL"])
    _redis = urlsplit(_base)
    _redis_db = (int(_redis.path.strip("/") or 0) + int(XDIST_WORKER[2:])) % 16
    os.environ["REDIS_URL"] = urlunsplit(_redis._replace(path=f"/{_redis_db}"))
# Unit tests run Celery tasks in-process; integration tests start a real worker on Redis.
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")

from .base import *  # noqa: E402, F403

SECRET_KEY = "test-only-key-for-the-pytest-suite-0123456789abcdefghijklmnop"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WAGTAILADMIN_BASE_URL = "http://testserver"
# Uploaded and generated files from the suite stay apart from the embedded default's media.
MEDIA_ROOT = VAR_DIR / f"test-media{'-' + XDIST_WORKER if XDIST_WORKER else ''}"  # noqa: F405

LOCAL_PAYMENTS_WEBHOOK_SECRET = local_payments_secret(SECRET_KEY)  # noqa: F405

# The origin's page cache is off unless a test turns it on (tests/test_page_cache.py): the
# other tests look at what a page renders and how many queries that takes, not at a cached copy.
PAGE_CACHE_SECONDS = 0
# Renditions are not made ahead (publishing, load_demo) unless a test asks for them
# (tests/test_renditions.py): pages show the originals, as a visitor would before the task ran.
RENDITIONS_AHEAD = False
