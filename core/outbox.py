"""The transactional outbox: side effects that must follow a commit, and survive a broker outage.

``enqueue("shop.tasks.send_order_confirmation", order.pk)`` writes a row in the caller's
transaction, so the task exists exactly when the change that causes it does. When the transaction
commits, the rows are handed to Celery at once if the broker answers; if it does not, the request
carries on (nothing is raised to the collector) and the relay (:func:`relay`, run by the beat task
``core.tasks.relay_outbox`` and by ``manage.py relay_outbox``) hands them over later, retrying
until the broker answers.

A row is marked relayed in the same database transaction that publishes it. A relay killed after
publishing and before committing publishes that row again, so delivery is at least once: every
task sent through here must be idempotent (shop emails record that they were sent, under a row
lock; ShipStation orders are upserts keyed by our order number). Together: performed once.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from importlib import import_module

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from .db_routing import on_primary
from .models import OutboxMessage

logger = logging.getLogger(__name__)

# After the broker refused, requests stop trying to publish for this long (the relay goes on).
BACKOFF_SECONDS = 10.0
_broker_down_until = 0.0
BROKER_ERRORS = (OperationalError, ConnectionError, OSError, TimeoutError)


def enqueue(task: str, *args, **kwargs) -> OutboxMessage:
    """Record ``task(*args, **kwargs)`` to run after the current transaction commits."""
    message = OutboxMessage.objects.create(task=task, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: relay_soon([message.pk]))
    return message


def broker_resting() -> bool:
    """Whether the broker refused a moment ago (requests then leave it alone a while)."""
    return time.monotonic() < _broker_down_until


def broker_failed() -> None:
    """The broker refused: requests stop trying for ``BACKOFF_SECONDS``."""
    global _broker_down_until
    _broker_down_until = time.monotonic() + BACKOFF_SECONDS


def relay_soon(pks: list[int]) -> None:
    """Try to publish these rows now; on any trouble leave them to the relay."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return
    try:
        relay(pks=pks)
    except BROKER_ERRORS:  # the broker is down or slow: never the caller's problem
        _broker_down_until = time.monotonic() + BACKOFF_SECONDS
        logger.warning("Broker unavailable; %d outbox message(s) left for the relay", len(pks))
    except Exception:  # an eager task (embedded default) failed: logged, left for the relay
        logger.exception("Outbox message(s) %s failed; left for the relay", pks)


def _publish(message: OutboxMessage) -> None:
    from artspot.celery import app

    # Task names are "<module>.<function>": importing the module registers the task.
    import_module(message.task.rpartition(".")[0])
    task = app.tasks[message.task]
    options = dict(message.options)
    if "eta" in options:
        options["eta"] = datetime.fromisoformat(options["eta"])
    task.apply_async(args=message.args, kwargs=message.kwargs, retry=False, **options)


@on_primary()
def relay(limit: int = 500, pks: list[int] | None = None) -> int:
    """Publish waiting messages, oldest first, each in its own transaction; how many went.

    Rows another relay is publishing are skipped (``skip_locked``). An error stops the run and
    is raised after it is recorded on the row, which stays waiting for the next run.
    """
    sent = 0
    while sent < limit:
        failure: Exception | None = None
        with transaction.atomic():
            waiting = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
                relayed_at__isnull=True
            )
            if pks is not None:
                waiting = waiting.filter(pk__in=pks)
            message = waiting.order_by("pk").first()
            if message is None:
                return sent
            try:
                _publish(message)
            except Exception as error:  # recorded below, outside the rolled-back block
                failure = error
            else:
                message.relayed_at = timezone.now()
                message.attempts += 1
                message.save(update_fields=["relayed_at", "attempts"])
        if failure is not None:
            OutboxMessage.objects.filter(pk=message.pk).update(
                attempts=F("attempts") + 1,
                last_error=f"{type(failure).__name__}: {failure}"[:500],
            )
            raise failure
        sent += 1
    return sent


@on_primary()
def waiting_count() -> int:
    return OutboxMessage.objects.filter(relayed_at__isnull=True).count()


def prune(older_than_days: int = 7) -> int:
    """Delete messages relayed more than ``older_than_days`` ago (the outbox is not a log)."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = OutboxMessage.objects.filter(relayed_at__lt=cutoff).delete()
    return deleted
