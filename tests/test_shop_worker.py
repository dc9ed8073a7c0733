"""After payment, a real Celery worker process does the rest: email, then ShipStation.

The test process pays for an order (committed, so the worker can see it) and queues the
after-payment tasks on Redis; a worker started with ``python -m celery -A artspot worker`` runs
them against the same PostgreSQL, with ShipStation played by a fake on loopback and email written
to files (``tests.support.worker_settings``).
"""

import email
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from artworks.factories import ArtworkFactory
from core.models import OutboxMessage
from shop.models import FulfilmentStatus, Order, OrderEvent, PaymentStatus
from tests.support.shop import checkout, pay, remove_artworks, through_the_broker
from tests.support.worker import (
    running_workers,
    start_worker,
    wait_for,
    wait_until_ready,
    worker_env,
)

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.fakes.fixtures"]

# Django's file backend writes each message followed by a line of 79 dashes.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Real commits the worker process can read; what the test made is removed afterwards."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("refusing to commit test data outside a test database")
    made: list = []
    with django_db_blocker.unblock():
        yield made
        remove_artworks(made)


@pytest.mark.django_db
def test_workers_are_given_the_test_database_and_no_eager_celery(tmp_path):
    """(Being a database test, this also makes pytest-django create the test database when this
    module runs on its own: the tests below commit, so they cannot ask for ``db`` themselves.)"""
    env = worker_env(tmp_path)
    assert env["DATABASE_URL"].rsplit("/", 1)[1] == connection.settings_dict["NAME"]
    assert connection.settings_dict["NAME"].startswith("test_")
    assert env["REDIS_URL"] == settings.REDIS_URL
    assert env["CELERY_TASK_ALWAYS_EAGER"] == "false"


@pytest.fixture
def env(tmp_path, fake_shipstation):
    (tmp_path / "mail").mkdir()

    def make(**overrides: str) -> dict[str, str]:
        api_key, api_secret = fake_shipstation.auth
        return worker_env(
            tmp_path / "mail",
            SHIPSTATION_API_KEY=api_key,
            SHIPSTATION_API_SECRET=api_secret,
            SHIPSTATION_API_BASE=fake_shipstation.url,
            **overrides,
        )

    return make


def sent_mail(directory: Path) -> list[email.message.Message]:
    messages = []
    for path in sorted(directory.iterdir()):
        for raw in path.read_bytes().split(SEPARATOR):
            if raw.strip():
                messages.append(email.message_from_bytes(raw))
    return messages


def confirmations(directory: Path, order: Order) -> list[email.message.Message]:
    return [m for m in sent_mail(directory) if m["Subject"] == f"Your ArtSpot order {order.number}"]


def paid_order(committed, title: str) -> Order:
    artwork = ArtworkFactory(title=title, price=Decimal("1200.00"), images=0)
    committed.append(artwork)
    order = checkout(artwork, "mara@example.com")
    with through_the_broker():  # the three after-payment tasks go to Redis, not in-process
        order = pay(order)
    assert (order.payment_status, order.fulfilment_status) == (
        PaymentStatus.PAID, FulfilmentStatus.UNFULFILLED,
    )  # fmt: skip
    assert order.confirmation_sent_at is None  # nothing ran here
    # The webhook wrote the three tasks to the outbox; its commit handed them to the broker.
    sent = OutboxMessage.objects.filter(args=[order.pk], task__startswith="shop.tasks.")
    assert sorted(sent.values_list("task", flat=True)) == [
        "shop.tasks.create_shipment",
        "shop.tasks.notify_team_of_order",
        "shop.tasks.send_order_confirmation",
    ]
    assert not sent.filter(relayed_at__isnull=True).exists()
    return order


def test_a_worker_emails_the_collector_and_creates_the_shipstation_order(
    committed, env, fake_shipstation, tmp_path
):
    with running_workers() as workers:
        workers.append(start_worker(env(), tmp_path))
        wait_until_ready(workers[0])
        order = paid_order(committed, "Northern Light")

        def done() -> bool:
            order.refresh_from_db()
            return bool(
                order.confirmation_sent_at and order.team_notified_at and order.shipstation_order_id
            )

        wait_for(done, "the after-payment tasks", workers, timeout=30)
        broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        wait_for(lambda: broker.hlen("unacked") == 0, "the tasks to be acknowledged", workers)

    [confirmation] = confirmations(tmp_path / "mail", order)
    assert confirmation["To"] == "mara@example.com"
    body = confirmation.get_payload(0).get_payload(decode=True).decode()
    assert order.number in body and "Northern Light" in body
    assert [m["Subject"] for m in sent_mail(tmp_path / "mail")].count(
        f"New order {order.number}"
    ) == 1

    [remote] = fake_shipstation.orders.values()
    assert remote["orderKey"] == order.number
    assert remote["shipTo"]["city"] == "Whitby"
    assert order.shipstation_order_id == str(remote["orderId"])
    assert order.last_error == ""
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds.count(OrderEvent.Kind.EMAIL_SENT) == 2
    assert kinds.count(OrderEvent.Kind.SHIPMENT_CREATED) == 1


def test_a_task_whose_worker_is_killed_runs_again_without_repeating_its_effects(
    committed, env, fake_shipstation, tmp_path
):
    """SIGKILL the worker inside ``create_shipment``, after ShipStation has made the order but
    before its answer arrives. The task was never acknowledged (acks_late), so Redis hands it to
    the next worker once the visibility timeout has passed (shortened here to 5 s); it runs
    again, ShipStation's upsert on orderKey keeps one order, and no email goes out twice.

    (``reject_on_worker_lost`` covers a pool child dying under a live parent; here the whole
    worker dies, and redelivery comes from the broker's visibility timeout.)
    """
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    worker_settings = env(CELERY_VISIBILITY_TIMEOUT="5")
    with running_workers() as workers:
        first = start_worker(worker_settings, tmp_path)
        workers.append(first)
        wait_until_ready(first)
        # ShipStation takes the first createorder at once but answers it only after 30 s.
        fake_shipstation.delay_next(1, seconds=30)
        order = paid_order(committed, "Slack Water")

        wait_for(
            lambda: fake_shipstation.calls("POST", "/orders/createorder"),
            "the worker to call ShipStation",
            workers,
        )
        first.kill()

        order.refresh_from_db()
        assert order.confirmation_sent_at is not None  # the email tasks finished first
        assert order.shipstation_order_id == ""  # the task died before recording the order
        assert len(fake_shipstation.orders) == 1  # but ShipStation had made it
        assert broker.hlen("unacked") == 1  # and the broker still holds the task unacknowledged

        second = start_worker(worker_settings, tmp_path)
        workers.append(second)
        wait_for(
            lambda: Order.objects.filter(pk=order.pk).exclude(shipstation_order_id="").exists(),
            "the redelivered task to finish on the new worker",
            [second],
            timeout=40,
        )
        wait_for(lambda: broker.hlen("unacked") == 0, "the task to be acknowledged", [second])

    order.refresh_from_db()
    calls = fake_shipstation.calls("POST", "/orders/createorder")
    assert len(calls) == 2  # the task ran twice …
    assert {call.params["orderKey"] for call in calls} == {order.number}
    [remote] = fake_shipstation.orders.values()  # … and ShipStation has the order once
    assert order.shipstation_order_id == str(remote["orderId"])
    assert len(confirmations(tmp_path / "mail", order)) == 1
    kinds = list(order.events.values_list("kind", flat=True))
    assert kinds.count(OrderEvent.Kind.EMAIL_SENT) == 2  # confirmation and team, once each
    assert kinds.count(OrderEvent.Kind.SHIPMENT_CREATED) == 1
    assert "shop.tasks.create_shipment" in second.output()
