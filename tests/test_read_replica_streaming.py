"""Acceptance with a real PostgreSQL streaming replica that this module sets up on loopback.

``pg_basebackup -R`` copies the server the test database lives on into a temporary directory and
a second postgres server runs it as a hot standby on a free port, streaming from the first; the
``replica`` alias (tests.support.replica) points at it. Data is committed for real (the standby
only receives commits) and each test waits for the standby to replay the primary's current WAL
position instead of sleeping. With replay paused on the standby, its lag can be held still: the
anonymous artwork page shows what the replica last replayed, while a signed-in page, the cart
and checkout read the primary, so a unit sold meanwhile is never sold again.

Needs the primary to accept physical replication connections from 127.0.0.1 for its user (a
``replication`` line in pg_hba.conf, ``wal_level`` replica or logical, a free WAL sender): the
module probes for that first and fails, naming what is missing (``scripts/ensure_services.sh``,
run by ``make test``, adds the loopback replication line to a local cluster). No replication
slot: the backup streams its own WAL (``-X stream``) and the
standby connects a moment later, long before the primary could recycle a segment it needs; a
slot would pin WAL on a shared server for ever if a teardown were ever skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection, connections
from django.test import Client

from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from core.db_routing import REPLICA
from shop.models import Hold, Order, OrderLine, PaymentStatus
from shop.payments import completed_session_event, get_gateway, sign_payload
from tests.support.processes import free_port
from tests.support.replica import (
    committed_data,
    only_site_settings_lookups,
    queries_on,
    replica_alias,
)
from tests.support.shop import ADDRESS, checkout, checkout_form, pay

pytestmark = pytest.mark.slow

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
USERNAME = "replica-editor"
# A hot standby needs at least the primary's values of these.
STANDBY_MINIMUMS = (
    "max_connections",
    "max_worker_processes",
    "max_wal_senders",
    "max_prepared_transactions",
    "max_locks_per_transaction",
)


def _as_postgres() -> list[str]:
    """postgres refuses to run as root: run its tools as the postgres OS user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _primary() -> dict:
    config = connection.settings_dict
    return {
        "host": config["HOST"] or "127.0.0.1",
        "port": str(config["PORT"] or 5432),
        "user": config["USER"] or "postgres",
    }


def replication_refusal() -> str | None:
    """Why the primary would refuse a streaming replica, or None if it accepts one."""
    primary = _primary()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int"
        )
        wal_level, senders = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_stat_replication")
        (in_use,) = cursor.fetchone()
    if wal_level not in ("replica", "logical"):
        return f"wal_level is {wal_level!r}, a standby needs 'replica'"
    if senders <= in_use:
        return f"max_wal_senders ({senders}) are all in use"
    try:
        psycopg.connect(**primary, replication="true", connect_timeout=5).close()
    except psycopg.OperationalError as error:
        return (
            f"the primary refuses a physical replication connection ({str(error).strip()}): "
            f"pg_hba.conf needs a line like 'host replication {primary['user']} "
            f"{primary['host']}/32 trust'"
        )
    return None


def _run(*command: str) -> None:
    result = subprocess.run(
        [*_as_postgres(), *command], capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr or result.stdout}")


@pytest.fixture(scope="module")
def streaming_replica(django_db_setup, django_db_blocker) -> Iterator[dict]:
    """A hot standby of the test database's server, on a free loopback port, for this module."""
    with django_db_blocker.unblock():
        refusal = replication_refusal()
        if refusal:
            pytest.fail(f"no streaming replica: {refusal}", pytrace=False)
        with connection.cursor() as cursor:
            minimums = {}
            for name in STANDBY_MINIMUMS:
                cursor.execute("SELECT current_setting(%s)", [name])
                minimums[name] = cursor.fetchone()[0]
    primary = _primary()
    root = Path(tempfile.mkdtemp(prefix="artspot-replica-"))
    data = root / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    started = False
    try:
        _run(
            str(PG_BIN / "pg_basebackup"), "-h", primary["host"], "-p", primary["port"],
            "-U", primary["user"], "-D", str(data), "-R", "-X", "stream", "--checkpoint=fast",
            "--no-sync",
        )  # fmt: skip
        # Debian keeps the server's configuration outside its data directory: the standby
        # gets its own, on loopback only, with trust for local connections.
        (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        (data / "pg_ident.conf").write_text("")
        settings_lines = {
            "port": port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{root}'",
            "hot_standby": "on",
            "shared_buffers": "'32MB'",
            "fsync": "off",
            "logging_collector": "off",
            **minimums,
        }
        (data / "postgresql.conf").write_text(
            "".join(f"{name} = {value}\n" for name, value in settings_lines.items())
        )
        if os.geteuid() == 0:
            for path in (data / "pg_hba.conf", data / "pg_ident.conf", data / "postgresql.conf"):
                shutil.chown(path, "postgres", "postgres")
        _run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "start")
        started = True
        with django_db_blocker.unblock(), replica_alias(HOST="127.0.0.1", PORT=str(port)):
            wait_for_replica()
            yield {"port": port}
    finally:
        if started:
            _run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _replica_cursor():
    return connections[REPLICA].cursor()


def wait_for_replica(timeout: float = 60.0) -> None:
    """Until the standby has replayed everything the primary has written so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        (target,) = cursor.fetchone()
    deadline = time.monotonic() + timeout
    while True:
        with _replica_cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
            )
            in_recovery, caught_up = cursor.fetchone()
        assert in_recovery, "the replica is not a standby"
        if caught_up:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the replica did not replay up to {target} in {timeout} s")
        time.sleep(0.02)


def pause_replay() -> None:
    with _replica_cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
        for _ in range(500):
            cursor.execute("SELECT pg_get_wal_replay_pause_state()")
            if cursor.fetchone()[0] == "paused":
                return
            time.sleep(0.01)
    raise AssertionError("the replica did not pause its replay")


def resume_replay() -> None:
    with _replica_cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture
def committed(streaming_replica, django_db_blocker):
    """Real commits the standby can replay; removed afterwards, and replay never left paused."""
    with committed_data(django_db_blocker, USERNAME) as made:
        try:
            yield made
        finally:
            resume_replay()


def on_each_alias(function) -> tuple[object, int, int]:
    """``function()``'s result, and how many queries it ran on the primary and on the replica."""
    with queries_on("default", REPLICA) as seen:
        result = function()
    return result, len(seen["default"]), len(seen[REPLICA])


@pytest.mark.django_db
def test_the_test_database_exists():
    """(Makes pytest-django create the test database when this module runs on its own: the
    tests below commit, so they cannot ask for ``db`` themselves.)"""
    assert connection.settings_dict["NAME"].startswith("test_")


def test_the_replica_is_a_streaming_hot_standby_of_the_test_database(committed):
    with _replica_cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), current_database()")
        assert cursor.fetchone() == (True, connection.settings_dict["NAME"])
        cursor.execute("SELECT status FROM pg_stat_wal_receiver")
        assert cursor.fetchone() == ("streaming",)


def test_an_anonymous_artwork_page_reads_from_the_replica(committed):
    work = ArtworkFactory(title="Replica Harbour", price=Decimal("1200.00"))
    committed.append(work)
    editor = get_user_model().objects.create_superuser(USERNAME, "editor@example.com", "x" * 20)
    wait_for_replica()
    visitor, signed_in = Client(), Client()
    signed_in.force_login(editor)
    page = f"/artworks/{work.slug}/"
    assert "Replica Harbour" in visitor.get(page).content.decode()

    with queries_on("default", REPLICA) as seen:
        assert visitor.get(page).status_code == 200
    assert len(seen[REPLICA]) > 0
    assert only_site_settings_lookups(seen["default"]), seen["default"]

    pause_replay()
    Artwork.objects.filter(pk=work.pk).update(title="Replica Harbour, retitled")
    caches["default"].clear()
    # The anonymous page is the replica's, still before the change …
    html = visitor.get(page).content.decode()
    assert "Replica Harbour" in html and "retitled" not in html
    # … while a signed-in visitor and the admin read the primary.
    response, _, on_replica = on_each_alias(lambda: signed_in.get(page))
    assert "Replica Harbour, retitled" in response.content.decode()
    assert on_replica == 0
    admin = signed_in.get(f"/admin/snippets/artworks/artwork/edit/{work.pk}/")
    assert "Replica Harbour, retitled" in admin.content.decode()

    resume_replay()
    wait_for_replica()
    assert "Replica Harbour, retitled" in visitor.get(page).content.decode()


def test_checkout_writes_and_reads_on_the_primary(committed):
    work = ArtworkFactory(title="Primary Lantern", price=Decimal("800.00"))
    committed.append(work)
    wait_for_replica()
    collector = Client()

    def buy():
        added = collector.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
        assert added.status_code == 302
        assert "Primary Lantern" in collector.get("/shop/cart/").content.decode()
        started = collector.post("/shop/checkout/", checkout_form("lantern@example.com"))
        assert started.status_code == 302, started.content.decode()[:500]
        order = Order.objects.get(lines__artwork=work)
        event = completed_session_event(order, order.payment_session_id, ADDRESS, "Mara Quinn")
        payload = json.dumps(event).encode()
        webhook = Client().post(
            "/shop/webhooks/stripe/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, get_gateway().webhook_secret),
        )
        assert webhook.status_code == 200, webhook.content
        return order

    order, on_primary, on_replica = on_each_alias(buy)
    assert on_replica == 0
    assert on_primary > 0
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID


def test_a_page_rendered_on_the_replicas_lag_never_sells_a_sold_unit(committed):
    work = ArtworkFactory(title="Last Light", price=Decimal("2400.00"))  # unique: one unit
    committed.append(work)
    wait_for_replica()
    pause_replay()
    paid = pay(checkout(work, "first@example.com"))  # bought on the primary
    assert paid.payment_status == PaymentStatus.PAID

    # A visitor who never had a session gets the replica's page: still for sale there.
    late = Client()
    html = late.get(f"/artworks/{work.slug}/").content.decode()
    assert 'action="/shop/cart/add/"' in html

    def try_to_buy():
        added = late.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1}, follow=True)
        # An old cart that already holds the work (added before the sale) goes to checkout.
        session = late.session
        session["cart"] = {str(work.pk): 1}
        session.save()
        started = late.post("/shop/checkout/", checkout_form("late@example.com"), follow=True)
        return added, started

    (added, started), _, on_replica = on_each_alias(try_to_buy)
    assert on_replica == 0
    assert "“Last Light” has been sold" in added.content.decode()
    assert "is in your cart" not in added.content.decode()
    # Checkout reads the primary and sends the collector back to the cart, saying why.
    assert started.redirect_chain[-1][0] == "/shop/cart/"
    assert "Sold since you added it" in started.content.decode()
    assert not Order.objects.filter(email="late@example.com", lines__artwork=work).exists()
    assert OrderLine.objects.filter(artwork=work).count() == 1
    assert not Hold.objects.filter(unit__artwork=work).exists()
    assert work.units.filter(sold_at__isnull=False).count() == 1
