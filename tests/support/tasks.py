"""A django-tasks task for the tests: records that it ran, in the shared Redis cache."""

from django.core.cache import cache
from django_tasks import task


@task()
def record_run(key: str) -> None:
    cache.set(key, "ran", timeout=60)
