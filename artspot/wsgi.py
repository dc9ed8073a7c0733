"""WSGI entry point (gunicorn ``artspot.wsgi``); production settings unless told otherwise."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artspot.settings.production")

application = get_wsgi_application()
