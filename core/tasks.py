"""Site-wide Celery tasks: the django-tasks bridge and housekeeping on the beat schedule."""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from celery import shared_task
from django.core.management import call_command
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@shared_task(name="core.tasks.run_django_task")
def run_django_task(module_path: str, args: list, kwargs: dict) -> None:
    """Run a django-tasks task (e.g. Wagtail's index updates) on the Celery worker."""
    task = import_string(module_path)
    task.call(*args, **kwargs)


@shared_task(name="core.tasks.publish_scheduled_content")
def publish_scheduled_content() -> None:
    """Publish and unpublish pages and snippets whose go-live or expiry time has passed."""
    call_command("publish_scheduled")


@shared_task(name="core.tasks.clear_expired_sessions")
def clear_expired_sessions() -> None:
    call_command("clearsessions")


@shared_task(name="core.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Beat: hand waiting outbox messages to the broker (see ``core.outbox``)."""
    from core import outbox

    return outbox.relay()


@shared_task(name="core.tasks.prune_outbox", ignore_result=True)
def prune_outbox() -> int:
    """Daily: forget outbox messages relayed a week ago."""
    from core import outbox

    return outbox.prune()


@shared_task(name="core.tasks.flush_frontend_cache", ignore_result=True)
def flush_frontend_cache() -> str | None:
    """After a commit: turn pending purges into one invalidation batch (core.frontend_cache)."""
    from core import frontend_cache

    return frontend_cache.flush()


@shared_task(
    name="core.tasks.invalidate_frontend_cache",
    ignore_result=True,
    autoretry_for=(BotoCoreError, ClientError),
    retry_backoff=5,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def invalidate_frontend_cache(reference: str, urls: list[str]) -> None:
    """Send one batch of URLs to CloudFront; AWS errors are retried with back-off, then logged."""
    from core import frontend_cache

    frontend_cache.invalidate(reference, urls)


@shared_task(name="core.tasks.make_renditions", ignore_result=True)
def make_renditions(image_ids: list[int], specs: list[str] | str) -> int:
    """Make the renditions pages show (a role of ``core.renditions.ROLES`` or a list of specs)
    of these images; those that exist are left alone, so running it twice does nothing more."""
    from core import renditions

    return renditions.make(image_ids, specs)
