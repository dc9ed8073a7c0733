"""The Celery app, configured from Django settings (``CELERY_*``)."""

import os
import signal
import threading

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "artspot.settings.dev")

app = Celery("artspot")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def stop_beat_between_ticks(sender, **kwargs) -> None:
    """SIGTERM and SIGINT stop beat after the tick in hand; it saves its schedule and exits 0.

    Celery's own handler closes the schedule file at once and raises, so a signal that lands in
    the middle of a tick ends in "invalid operation on closed shelf" and exit code 1. Beat's
    ticks are at most 5 s apart (the outbox relay), so it stops within 5 s.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # beat embedded in a worker (-B) stops with the worker

    def stop(signum, frame) -> None:
        sender.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
