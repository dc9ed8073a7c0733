"""Settings for a Celery worker that an integration test starts as a separate process.

The test settings (same PostgreSQL and Redis as the test process, given through the environment)
with two changes a test needs to observe the worker from outside:

* email goes to files in ``ARTSPOT_TEST_EMAIL_DIR`` (one file per message sent), so the test can
  count what was really sent (``ARTSPOT_TEST_EMAIL_BACKEND`` may name a subclass of the file
  backend, e.g. ``tests.support.stalling_email``);
* ``CELERY_VISIBILITY_TIMEOUT`` (seconds) shortens how long Redis waits before it redelivers a
  task whose worker vanished without acknowledging it (3600 in every real environment), and the
  worker looks for such tasks every second instead of every ~100 seconds.
"""

import os

from artspot.settings.test import *  # noqa: F403
from artspot.settings.test import CELERY_BROKER_TRANSPORT_OPTIONS

EMAIL_BACKEND = os.environ.get(
    "ARTSPOT_TEST_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = os.environ["ARTSPOT_TEST_EMAIL_DIR"]

_visibility = os.environ.get("CELERY_VISIBILITY_TIMEOUT")
if _visibility:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "visibility_timeout": int(_visibility),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
