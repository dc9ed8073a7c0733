"""Nothing lost when the broker is down: payments and enquiries answer normally, and what follows
them (emails, the ShipStation order) happens exactly once when the broker is back.

The broker here is a redis-server of the test's own on a free port (never the shared one): first
nothing listens there, then the test starts it and a real Celery worker on it. The payment arrives
through the site's own webhook view, signed as the local test gateway signs it; the enquiry through
the artwork page's form. Email goes to files (``tests.support.worker_settings``) so it can be
counted; ShipStation is the fake on loopback.
"""

import json
import shutil
import subprocess
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client

from artworks.factories import ArtworkFactory
from artworks.models import ArtworkInquiry
from core import outbox
from core.models import OutboxMessage
from shop.models import Order, OrderEvent, PaymentStatus
from shop.payments import completed_session_event, get_gateway, sign_payload
from tests.support.processes import free_port
from tests.support.shop import ADDRESS, checkout, remove_artworks
from tests.support.worker import running_workers, start_worker, wait_for, worker_env

pytestmark = pytest.mark.slow
pytest_plugins = ["tests.fakes.fixtures"]

SEPARATOR = b"\n" + b"-" * 79 + b"\n"


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Real commits the worker can read; what the test made is removed afterwards."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("refusing to commit test data outside a test database")
    made: list = []
    outbox._broker_down_until = 0.0  # no back-off left over from an earlier test
    with django_db_blocker.unblock():
        OutboxMessage.objects.all().delete()
        yield made
        OutboxMessage.objects.all().delete()
        ArtworkInquiry.objects.filter(artwork__in=made).delete()
        remove_artworks(made)


@pytest.mark.django_db
def test_the_test_database_exists():
    """(Makes pytest-django create the test database when this module runs on its own.)"""
    assert connection.settings_dict["NAME"].startswith("test_")


@contextmanager
def broker_at(url: str):
    """Point this process's Celery app at ``url`` and stop running tasks in-process."""
    from artspot.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager)

    def reset() -> None:
        app._pool = None
        app.amqp._producer_pool = None

    app.conf.broker_url, app.conf.task_always_eager = url, False
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        reset()


@contextmanager
def own_redis(port: int):
    """A redis-server of the test's own on ``port``, stopped at the end."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is needed (scripts/ensure_services.sh installs it)"
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import redis

        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def sent_mail(directory: Path) -> list[str]:
    subjects = []
    for path in sorted(directory.iterdir()):
        for raw in path.read_bytes().split(SEPARATOR):
            for line in raw.decode(errors="replace").splitlines():
                if line.startswith("Subject: "):
                    subjects.append(line.removeprefix("Subject: "))
    return subjects


def pay_through_the_webhook(order: Order) -> tuple[int, float]:
    """POST the signed payment event to the site's webhook view; (status, seconds taken)."""
    event = completed_session_event(order, order.payment_session_id, ADDRESS, "Mara Quinn")
    payload = json.dumps(event).encode()
    signature = sign_payload(payload, get_gateway().webhook_secret)
    started = time.monotonic()
    response = Client().post(
        "/shop/webhooks/stripe/",
        payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    return response.status_code, time.monotonic() - started


def test_a_payment_and_an_enquiry_with_the_broker_down_are_completed_once_it_is_back(
    committed, fake_shipstation, tmp_path
):
    port = free_port()
    work = ArtworkFactory(title="Slack Water", price=Decimal("1200.00"), images=0)
    enquired = ArtworkFactory(title="Tern Light", price=Decimal("900.00"), images=0)
    committed += [work, enquired]
    order = checkout(work, "mara@example.com")

    with broker_at(f"redis://127.0.0.1:{port}/0"):  # nothing listens there yet
        status, seconds = pay_through_the_webhook(order)
        enquiry = Client().post(
            enquired.get_url() + "enquire/",
            {"name": "Ivo Hart", "email": "ivo@example.com", "message": "Is it framed?"},
        )
    assert status == 200 and seconds < 5
    assert enquiry.status_code == 302
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    waiting = OutboxMessage.objects.filter(relayed_at__isnull=True)
    # (Wagtail's own index updates for the enquiry wait in the outbox too.)
    ours = waiting.exclude(task="core.tasks.run_django_task").values_list("task", flat=True)
    assert sorted(ours) == [
        "artworks.tasks.notify_team_of_inquiry",
        "shop.tasks.create_shipment",
        "shop.tasks.notify_team_of_order",
        "shop.tasks.send_order_confirmation",
    ]
    assert order.confirmation_sent_at is None and order.shipstation_order_id == ""
    waiting_before = waiting.count()

    (tmp_path / "mail").mkdir()
    api_key, api_secret = fake_shipstation.auth
    with own_redis(port) as broker_url, broker_at(broker_url), running_workers() as workers:
        env = worker_env(
            tmp_path / "mail",
            CELERY_BROKER_URL=broker_url,
            SHIPSTATION_API_KEY=api_key,
            SHIPSTATION_API_SECRET=api_secret,
            SHIPSTATION_API_BASE=fake_shipstation.url,
        )
        workers.append(start_worker(env, tmp_path))
        assert outbox.relay() == waiting_before  # the broker is back: everything waiting goes
        assert outbox.relay() == 0  # and once only

        def done() -> bool:
            order.refresh_from_db()
            inquiry = ArtworkInquiry.objects.get(artwork=enquired)
            return bool(
                order.confirmation_sent_at
                and order.team_notified_at
                and order.shipstation_order_id
                and inquiry.team_notified_at
            )

        wait_for(done, "the work that waited for the broker", workers, timeout=60)

    subjects = sent_mail(tmp_path / "mail")
    assert subjects.count(f"Your ArtSpot order {order.number}") == 1
    assert subjects.count(f"New order {order.number}") == 1
    assert sum("Tern Light" in subject for subject in subjects) == 1
    assert len(fake_shipstation.orders) == 1


def test_a_relay_killed_after_publishing_sends_nothing_twice(committed, fake_shipstation, tmp_path):
    """A relay that dies after handing messages to the broker and before its commit leaves them
    waiting, so the next relay publishes them again. Each task's own record (sent at, ShipStation
    upsert) makes the second delivery a no-op: one email of each kind, one ShipStation order."""
    port = free_port()
    work = ArtworkFactory(title="Holm Fog", price=Decimal("800.00"), images=0)
    committed.append(work)
    order = checkout(work, "ada@example.com")
    (tmp_path / "mail").mkdir()
    api_key, api_secret = fake_shipstation.auth
    with own_redis(port) as broker_url, broker_at(broker_url), running_workers() as workers:
        status, _ = pay_through_the_webhook(order)  # published at once: the broker is up
        assert status == 200
        published = OutboxMessage.objects.filter(args=[order.pk])
        assert published.count() == 3 and not published.filter(relayed_at__isnull=True).exists()
        # What a relay killed between publishing and committing leaves behind:
        published.update(relayed_at=None)
        assert outbox.relay() == 3  # published a second time

        env = worker_env(
            tmp_path / "mail",
            CELERY_BROKER_URL=broker_url,
            SHIPSTATION_API_KEY=api_key,
            SHIPSTATION_API_SECRET=api_secret,
            SHIPSTATION_API_BASE=fake_shipstation.url,
        )
        workers.append(start_worker(env, tmp_path))
        import redis

        queue = redis.Redis.from_url(broker_url)
        wait_for(lambda: queue.llen("celery") == 0, "both copies to be taken", workers, 60)
        wait_for(lambda: queue.hlen("unacked") == 0, "both copies to finish", workers, 60)

    order.refresh_from_db()
    subjects = sent_mail(tmp_path / "mail")
    assert subjects.count(f"Your ArtSpot order {order.number}") == 1
    assert subjects.count(f"New order {order.number}") == 1
    assert len(fake_shipstation.orders) == 1
    assert order.events.filter(kind=OrderEvent.Kind.SHIPMENT_CREATED).count() == 1
    assert len(fake_shipstation.calls("POST", "/orders/createorder")) == 1


@pytest.mark.django_db
def test_the_relay_command_reports_a_broker_that_is_down(capsys):
    from django.core.management import call_command

    OutboxMessage.objects.filter(relayed_at__isnull=True).delete()
    created = OutboxMessage.objects.create(task="shop.tasks.send_order_confirmation", args=[0])
    with broker_at(f"redis://127.0.0.1:{free_port()}/0"):
        call_command("relay_outbox")
    err = capsys.readouterr().err
    assert "Broker unavailable" in err and "1 wait" in err
    message = OutboxMessage.objects.get(pk=created.pk)
    assert message.relayed_at is None and message.attempts == 1 and message.last_error
