"""A django-tasks backend that runs every task on Celery.

Wagtail queues its own background work through django-tasks (``TASKS`` setting): reference and
search index updates, image focal points, file deletion, frontend cache purges. No maintained
django-tasks/Celery bridge supports Django 5.2 on Python 3.11 (``django-tasks-celery`` needs
Django 6 and Python 3.12), so this backend is the small bridge: ``enqueue`` writes one generic
Celery task, :func:`core.tasks.run_django_task`, to the outbox (``core.outbox``), which sends it
once the current transaction commits and the broker answers. On the
embedded default Celery runs eagerly, so the work runs in-process right after the commit; in
production it runs on the worker, never inside a request.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id

SEARCH_INDEX_TASK = "modelsearch.tasks.insert_or_update_object_task"

# Set inside batched_tasks(): the distinct tasks queued so far, in order.
_batch: ContextVar[dict[str, tuple[str, list, dict]] | None] = ContextVar(
    "django_task_batch", default=None
)


@contextmanager
def batched_tasks() -> Iterator[None]:
    """Hold back the tasks queued inside the block; then run each distinct one once, here.

    For bulk loads (``load_demo``): thousands of saves queue thousands of index updates, mostly
    for the same few hundred objects, each through the outbox. Run after the block (and after
    the transaction it wraps has committed), in one transaction; nothing runs if the block fails.
    """
    batch: dict[str, tuple[str, list, dict]] = {}
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)
    with transaction.atomic():
        to_index: dict[tuple[str, str], list[str]] = {}
        for module_path, args, kwargs in batch.values():
            if module_path == SEARCH_INDEX_TASK and len(args) == 3 and not kwargs:
                to_index.setdefault((args[0], args[1]), []).append(args[2])
            else:
                import_string(module_path).call(*args, **kwargs)
        # Search index updates: a few statements per model, not a task per object.
        for (app_label, model_name), pks in to_index.items():
            index_in_bulk(apps.get_model(app_label, model_name), pks)


def index_in_bulk(model, pks: list) -> None:
    """What ``insert_or_update_object_task`` does for each of ``pks``, a thousand at a time."""
    from modelsearch import index

    from core.search_index import bulk_index

    queryset = model.get_indexed_objects()
    for field in model.get_search_fields():
        if isinstance(field, index.RelatedFields):
            queryset = field.select_on_queryset(queryset)
    for start in range(0, len(pks), 1000):
        by_model: dict[type, list] = {}
        for obj in queryset.filter(pk__in=pks[start : start + 1000]):
            indexed = index.get_indexed_instance(obj, check_exists=False)
            if indexed is not None:
                by_model.setdefault(type(indexed), []).append(indexed)
        for indexed_model, objects in by_model.items():
            bulk_index(indexed_model, objects)


class CeleryTaskBackend(BaseTaskBackend):
    supports_defer = True

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        batch = _batch.get()
        if batch is not None:
            key = json.dumps([task.module_path, result.args, result.kwargs], default=str)
            batch.setdefault(key, (task.module_path, result.args, result.kwargs))
            return result
        from core.models import OutboxMessage
        from core.outbox import relay_soon

        options = {"task_id": result.id}
        if task.queue_name != "default":
            options["queue"] = task.queue_name
        if task.run_after is not None:
            options["eta"] = task.run_after.isoformat()
        # Through the outbox, so a broker outage delays the work instead of failing the request.
        message = OutboxMessage.objects.create(
            task="core.tasks.run_django_task",
            args=[task.module_path, result.args, result.kwargs],
            options=options,
        )
        transaction.on_commit(lambda: relay_soon([message.pk]))
        return result
