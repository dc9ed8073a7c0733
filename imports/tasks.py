"""The admin door's import, on the Celery worker (sent through the outbox after the commit)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from . import engine
from .layouts import ImportFileError
from .models import ImportRun

logger = logging.getLogger(__name__)


def progress_key(run_id: int) -> str:
    return f"imports:progress:{run_id}"


@shared_task(name="imports.tasks.run_import", ignore_result=True)
def run_import(run_id: int) -> None:
    """Apply a checked upload. Runs once: a run that is no longer queued is left alone."""
    with transaction.atomic():
        run = ImportRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != ImportRun.Status.QUEUED:
            return
        run.status = ImportRun.Status.RUNNING
        run.save(update_fields=["status"])

    def progress(done: int, total: int) -> None:
        # The rows are written in one transaction: progress goes through the cache, not the row.
        cache.set(progress_key(run_id), [done, total], 3600)

    try:
        with run.file.open("rb") as handle:
            data = handle.read()
        artists = None
        if run.artists_file:
            with run.artists_file.open("rb") as handle:
                artists = (handle.read(), run.artists_file.name)
        report = engine.run(
            data,
            run.original_name,
            artists=artists,
            layout=run.layout or None,
            source=run.source or None,
            user=run.created_by,
            progress=progress,
        )
    except (ImportFileError, engine.ImportFailed) as error:
        run.status, run.error = ImportRun.Status.FAILED, f"{error} Nothing was written."
    except Exception as error:  # recorded for the admin; the import rolled back
        logger.exception("Import %s failed", run_id)
        run.status = ImportRun.Status.FAILED
        run.error = f"Unexpected error ({type(error).__name__}); nothing was written."
    else:
        run.status, run.report = ImportRun.Status.DONE, report.as_dict()
        run.rows_done = run.rows_total
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "report", "rows_done", "finished_at"])
