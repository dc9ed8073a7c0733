"""Wagtail's background work (django-tasks) runs through Celery, after the transaction commits."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.core.cache import cache

from tests.support.processes import ROOT
from tests.support.tasks import record_run

pytestmark = pytest.mark.django_db


def test_django_task_waits_for_commit_then_runs_on_celery(django_capture_on_commit_callbacks):
    key = f"task-{uuid.uuid4().hex}"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        record_run.enqueue(key)
        assert cache.get(key) is None  # nothing runs inside the request's transaction
    assert len(callbacks) == 1
    callbacks[0]()  # the commit: Celery (eager in unit tests) runs the task
    assert cache.get(key) == "ran"


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_real_worker_runs_tasks_from_the_redis_broker():
    """A Celery worker process on Redis receives the task and runs it."""
    from artspot.celery import app

    env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "artspot", "worker", "--pool=solo",
         "--concurrency=1", "--without-heartbeat", "--without-gossip", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    key = f"worker-{uuid.uuid4().hex}"
    try:
        # send_task always goes through the broker (unit-test settings run tasks eagerly).
        app.send_task(
            "core.tasks.run_django_task", args=("tests.support.tasks.record_run", [key], {})
        )
        deadline = time.monotonic() + 30
        while cache.get(key) is None and time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read()
            time.sleep(0.2)
        assert cache.get(key) == "ran"
    finally:
        worker.terminate()
        worker.wait(timeout=20)
