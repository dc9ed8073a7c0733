"""Notify me: subscribe, double opt-in, one-click unsubscribe (RFC 8058), and reminders that reach
each confirmed subscriber exactly once per kind, even when beat fires twice at the same moment or
a worker is killed in the middle of a run."""

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from drops import subscriptions
from drops.factories import DropPageFactory, DropSubscriptionFactory
from drops.models import DropPage, DropReminder, DropSubscription, ReminderKind
from drops.tasks import send_drop_reminders
from tests.support.worker import running_workers, start_worker, wait_for, worker_env

START = datetime(2027, 6, 1, 18, 0, 0, tzinfo=UTC)
DAY_BEFORE = START - timedelta(hours=3)  # inside the 24 hours before the start
JUST_STARTED = START + timedelta(minutes=2)


@pytest.fixture
def drop(db):
    return DropPageFactory(
        title="Midnight Editions", starts_at=START, ends_at=START + timedelta(days=2)
    )


def subscribe_url(drop: DropPage) -> str:
    return f"/drop-alerts/{drop.pk}/subscribe/"


def reminders_to(outbox, address: str) -> list[str]:
    return [m.subject for m in outbox if m.to == [address]]


def link(message, name: str) -> str:
    """The path of the /drop-alerts/<name>/… link in an email's text body."""
    url = re.search(rf"http://testserver(/drop-alerts/{name}/[^/\s]+/)", message.body).group(1)
    return urlparse(url).path


# --- Subscribe and confirm ------------------------------------------------------------------


@pytest.mark.django_db
def test_subscribe_sends_a_confirmation_and_the_link_confirms(
    drop, django_capture_on_commit_callbacks
):
    client = Client(enforce_csrf_checks=True)  # the cached drop page's form has no token
    with time_machine.travel(START - timedelta(days=3), tick=True):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(subscribe_url(drop), {"email": " Ana@Example.com "})
        assert response.status_code == 302
        assert response["Location"] == f"/drop-alerts/{drop.pk}/check-your-inbox/"
        assert "Check your inbox" in client.get(response["Location"]).content.decode()

        subscription = DropSubscription.objects.get(drop=drop)
        assert subscription.email == "ana@example.com"
        assert subscription.confirmed_at is None
        [message] = mail.outbox
        assert message.to == ["ana@example.com"]
        assert "Confirm your reminder" in message.subject

        confirm = link(message, "confirm")
        page = client.get(confirm)  # a mail scanner following the link confirms nothing
        assert page.status_code == 200 and "Yes, remind me" in page.content.decode()
        subscription.refresh_from_db()
        assert subscription.confirmed_at is None

        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
        response = client.post(confirm, {"csrfmiddlewaretoken": token.group(1)})
        assert response.status_code == 200
        assert "You are on the list" in response.content.decode()
        subscription.refresh_from_db()
        assert subscription.confirmed_at is not None


@pytest.mark.django_db
def test_asking_again_makes_no_duplicate_and_no_second_email_within_ten_minutes(
    drop, client, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(START - timedelta(days=3), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(subscribe_url(drop), {"email": "ana@example.com"})
        client.post(subscribe_url(drop), {"email": "ANA@example.com"})
    with (
        time_machine.travel(START - timedelta(days=3) + timedelta(minutes=11), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post(subscribe_url(drop), {"email": "Ana@example.com"})
    assert DropSubscription.objects.filter(drop=drop).count() == 1
    assert len(mail.outbox) == 2  # the first, and one again after ten minutes
    # Once confirmed, asking again sends nothing (and the response does not tell).
    subscriptions.confirm(DropSubscription.objects.get(drop=drop))
    with (
        time_machine.travel(START - timedelta(days=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(subscribe_url(drop), {"email": "ana@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_case_insensitive_uniqueness_is_enforced_by_the_database(drop):
    from django.db import IntegrityError, transaction

    DropSubscription.objects.create(drop=drop, email="ana@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        # Even bypassing save()'s lower-casing, the functional unique constraint refuses.
        DropSubscription.objects.bulk_create([DropSubscription(drop=drop, email="ANA@example.com")])


@pytest.mark.django_db
def test_signed_in_collector_subscribes_with_one_click(drop, django_user_model):
    user = django_user_model.objects.create_user("ana", "Ana@Example.com", "pw-123456789")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = f"/drop-alerts/{drop.pk}/subscribe/me/"
    with time_machine.travel(START - timedelta(days=3), tick=True):
        assert client.post(url).status_code == 403  # one click confirms at once: CSRF applies
        html = client.get(drop.url).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        response = client.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == f"{drop.url}#notify"
    subscription = DropSubscription.objects.get(drop=drop)
    assert subscription.user == user
    assert subscription.email == "ana@example.com"
    assert subscription.is_active  # the account's address is known: no confirmation round trip
    assert mail.outbox == []


@pytest.mark.django_db
def test_untrusted_accounts_go_through_double_opt_in(
    drop, django_user_model, settings, client, django_capture_on_commit_callbacks
):
    settings.DROP_ALERTS_TRUST_ACCOUNT_EMAILS = False
    user = django_user_model.objects.create_user("ben", "ben@example.com", "pw-1234567")
    client.force_login(user)
    with (
        time_machine.travel(START - timedelta(days=3), tick=True),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(f"/drop-alerts/{drop.pk}/subscribe/me/")
    assert response["Location"] == f"/drop-alerts/{drop.pk}/check-your-inbox/"
    assert not DropSubscription.objects.get(drop=drop).is_active
    assert len(mail.outbox) == 1


# --- Bad input is a 4xx, never a 500 --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": ""},
        {"email": "not-an-address"},
        {"email": "a" * 250 + "@example.com"},
        {"email": "ana@example.com\r\nBcc: x@example.com"},
        {"email": "ana@example.com", "website": "http://spam.example"},  # the honeypot
    ],
)
def test_bad_subscribe_input_is_a_400_with_errors(drop, client, data):
    with time_machine.travel(START - timedelta(days=3), tick=True):
        response = client.post(subscribe_url(drop), data)
    assert response.status_code == 400
    assert 'class="form-error"' in response.content.decode()
    assert not DropSubscription.objects.exists()


@pytest.mark.django_db
def test_subscribing_to_a_live_ended_draft_or_missing_drop_is_refused(drop, client):
    with time_machine.travel(JUST_STARTED, tick=True):
        response = client.post(subscribe_url(drop), {"email": "ana@example.com"})
        assert response.status_code == 400
        assert "already on sale" in response.content.decode()
    with time_machine.travel(START + timedelta(days=3), tick=True):
        assert client.post(subscribe_url(drop), {"email": "a@example.com"}).status_code == 400
    assert client.post("/drop-alerts/999999/subscribe/", {"email": "a@b.com"}).status_code == 404
    drop.unpublish()
    assert client.post(subscribe_url(drop), {"email": "a@example.com"}).status_code == 404
    assert client.get(subscribe_url(drop)).status_code == 404
    assert not DropSubscription.objects.exists()


@pytest.mark.django_db
def test_subscribe_form_page_and_method_rules(drop, client):
    with time_machine.travel(START - timedelta(days=3), tick=True):
        response = client.get(subscribe_url(drop))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
        assert client.put(subscribe_url(drop)).status_code == 405
        assert client.get(f"/drop-alerts/{drop.pk}/subscribe/me/").status_code == 405


@pytest.mark.django_db
def test_subscribe_form_is_rate_limited(drop, client):
    with time_machine.travel(START - timedelta(days=3), tick=True):
        statuses = [
            client.post(subscribe_url(drop), {"email": f"bot{n}@example.com"}).status_code
            for n in range(12)
        ]
    assert statuses[:10] == [302] * 10
    assert statuses[10:] == [429, 429]
    assert DropSubscription.objects.count() == 10


@pytest.mark.django_db
def test_one_address_cannot_be_flooded_from_many_addresses(
    drop, django_capture_on_commit_callbacks
):
    with time_machine.travel(START - timedelta(days=3), tick=True):
        statuses = []
        for n in range(7):
            client = Client(REMOTE_ADDR=f"10.0.0.{n + 1}")
            with django_capture_on_commit_callbacks(execute=True):
                statuses.append(
                    client.post(subscribe_url(drop), {"email": "victim@example.com"}).status_code
                )
    assert statuses[:5] == [302] * 5 and statuses[5:] == [429, 429]
    assert len(mail.outbox) == 1  # one confirmation: resending waits ten minutes anyway


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "abc:def",
        "abc:def:ghi",
        "%E2%98%83",
        "x" * 500,
        "' OR 1=1 --",
    ],
)
def test_forged_or_garbled_links_are_a_404(drop, client, token):
    for name in ("confirm", "unsubscribe"):
        for method in (client.get, client.post):
            response = method(f"/drop-alerts/{name}/{token}/")
            assert response.status_code == 404, (name, method, response.status_code)


@pytest.mark.django_db
def test_links_cannot_be_swapped_tampered_with_or_used_after_expiry(drop, client):
    with time_machine.travel(START - timedelta(days=20), tick=False):
        subscription = DropSubscriptionFactory(drop=drop, confirmed_at=None)
        confirm = subscriptions.confirm_token(subscription)
    unsubscribe = subscriptions.unsubscribe_token(subscription)
    # A confirm token is no unsubscribe token, and the other way round (different salts).
    assert client.post(f"/drop-alerts/unsubscribe/{confirm}/").status_code == 404
    assert client.post(f"/drop-alerts/confirm/{unsubscribe}/").status_code == 404
    # A valid signature over another value: still refused.
    tampered = unsubscribe.replace(subscription.token, subscription.token[::-1])
    assert client.post(f"/drop-alerts/unsubscribe/{tampered}/").status_code == 404
    # The confirmation link lapses after seven days (a 400 that says so).
    with time_machine.travel(START - timedelta(days=12), tick=False):
        response = client.post(f"/drop-alerts/confirm/{confirm}/")
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.confirmed_at is None
    # A genuine link to a subscription that no longer exists.
    subscription.delete()
    assert client.get(f"/drop-alerts/unsubscribe/{unsubscribe}/").status_code == 404


# --- Reminders: who gets them, and exactly once -----------------------------------------------


@pytest.fixture
def audience(drop):
    """Three confirmed subscribers, one unconfirmed, one unsubscribed."""
    confirmed = [DropSubscriptionFactory(drop=drop, email=f"fan{n}@example.com") for n in range(3)]
    DropSubscriptionFactory(drop=drop, email="unconfirmed@example.com", confirmed_at=None)
    DropSubscriptionFactory(
        drop=drop, email="gone@example.com", unsubscribed_at=START - timedelta(days=5)
    )
    return [s.email for s in confirmed]


@pytest.mark.django_db
def test_each_confirmed_subscriber_gets_each_reminder_once_however_often_beat_runs(drop, audience):
    with time_machine.travel(START - timedelta(days=2), tick=False):
        assert send_drop_reminders() == 0  # more than a day before: nothing yet
    with time_machine.travel(DAY_BEFORE, tick=False):
        assert send_drop_reminders() == 3
        assert send_drop_reminders() == 0  # beat again: nothing new
    with time_machine.travel(JUST_STARTED, tick=False):
        assert send_drop_reminders() == 3
        assert send_drop_reminders() == 0
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        assert send_drop_reminders() == 0  # long past the start: no late "live now"

    for address in audience:
        subjects = reminders_to(mail.outbox, address)
        assert len(subjects) == 2
        assert subjects[0].startswith("Coming soon: “Midnight Editions” opens")
        assert subjects[1] == "Live now: “Midnight Editions” is on sale"
    assert reminders_to(mail.outbox, "unconfirmed@example.com") == []
    assert reminders_to(mail.outbox, "gone@example.com") == []
    assert DropReminder.objects.filter(subscription__drop=drop).count() == 6


@pytest.mark.django_db
def test_unsubscribing_between_reminders_stops_the_next(drop, audience, client):
    with time_machine.travel(DAY_BEFORE, tick=False):
        send_drop_reminders()
    first = next(m for m in mail.outbox if m.to == [audience[0]])
    assert client.post(link(first, "unsubscribe")).status_code == 200
    with time_machine.travel(JUST_STARTED, tick=False):
        assert send_drop_reminders() == 2
    assert len(reminders_to(mail.outbox, audience[0])) == 1


@pytest.mark.django_db
def test_drafts_and_unconfirmed_addresses_get_nothing(drop, audience):
    drop.unpublish()
    with time_machine.travel(DAY_BEFORE, tick=False):
        assert send_drop_reminders() == 0
    assert mail.outbox == []


class FailingBackend(LocmemBackend):
    """Accepts two messages, then the mail server goes away."""

    def send_messages(self, messages):
        if len(mail.outbox) >= 2:
            raise ConnectionRefusedError("mail server down")
        return super().send_messages(messages)


@pytest.mark.django_db
def test_a_mail_server_failure_records_nothing_and_the_next_beat_catches_up(
    drop, audience, settings
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with time_machine.travel(DAY_BEFORE, tick=False):
        assert send_drop_reminders() == 2  # the run stops at the failure
        assert DropReminder.objects.count() == 2  # the failed one left no row behind
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert send_drop_reminders() == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(audience)


@pytest.mark.django_db
def test_reminders_carry_one_click_unsubscribe_headers_that_work_without_csrf(drop, audience):
    with time_machine.travel(DAY_BEFORE, tick=False):
        send_drop_reminders()
    message = next(m for m in mail.outbox if m.to == [audience[1]])
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<http://testserver/drop-alerts/unsubscribe/") and header[-1] == ">"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = urlparse(header[1:-1]).path
    assert path == link(message, "unsubscribe")  # the same URL as the link in the body
    html = message.alternatives[0][0]
    assert path in html

    client = Client(enforce_csrf_checks=True)
    subscription = DropSubscription.objects.get(email=audience[1])
    response = client.get(path)  # a link scanner: shows a button, changes nothing
    assert response.status_code == 200 and "Unsubscribe" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None
    # What a mail client sends for RFC 8058 one-click: a form POST with no cookie and no token.
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
    assert client.post(path).status_code == 200  # twice is fine
    # CSRF stays on everywhere else in the app.
    assert client.post(f"/drop-alerts/{drop.pk}/subscribe/me/").status_code == 403


# --- Concurrency: committed data, real connections, a real worker ------------------------------


@pytest.fixture
def committed_drop(django_db_setup, django_db_blocker):
    """A committed drop with five confirmed subscribers (plus one unconfirmed and one gone),
    starting in three hours, so other connections and processes can see it."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("refusing to commit test data outside a test database")
    with django_db_blocker.unblock():
        drop = DropPageFactory(
            title="Committed Drop", starts_at=timezone.now() + timedelta(hours=3)
        )
        try:
            for n in range(5):
                DropSubscriptionFactory(drop=drop, email=f"racer{n}@example.com")
            DropSubscriptionFactory(drop=drop, email="unconfirmed@example.com", confirmed_at=None)
            DropSubscriptionFactory(
                drop=drop, email="gone@example.com", unsubscribed_at=timezone.now()
            )
            yield drop
        finally:
            DropPage.objects.get(pk=drop.pk).delete()


def confirmed_addresses(drop: DropPage) -> list[str]:
    return sorted(
        DropSubscription.objects.filter(drop=drop, confirmed_at__isnull=False, unsubscribed_at=None)
        .values_list("email", flat=True)
    )  # fmt: skip


class SlowBackend(LocmemBackend):
    """Each message takes a moment, so overlapping runs really overlap."""

    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


def test_two_beats_at_once_still_send_one_each(committed_drop, settings):
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    runs = 4
    barrier = threading.Barrier(runs)
    sent, errors = [], []

    def beat() -> None:
        try:
            barrier.wait(timeout=30)
            sent.append(send_drop_reminders())
        except BaseException as error:  # any other failure is a defect the test must show
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    addresses = sorted(m.to[0] for m in mail.outbox)
    assert addresses == confirmed_addresses(committed_drop)  # five, once each
    assert sum(sent) == 5
    assert len(sent) == runs and max(sent) < 5  # the runs really shared the work
    assert DropReminder.objects.filter(subscription__drop=committed_drop).count() == 5


# Django's file backend writes each message followed by a line of 79 dashes.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def mailed_to(directory) -> list[str]:
    import email

    addresses = []
    for path in sorted(directory.iterdir()):
        for raw in path.read_bytes().split(SEPARATOR):
            if raw.strip():
                addresses.append(email.message_from_bytes(raw)["To"])
    return sorted(addresses)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_worker_killed_mid_run_leaves_no_gap_and_no_duplicate(committed_drop, tmp_path):
    """A worker process runs the beat task against the committed drop. The test holds the
    reminder row of the third subscriber in an open transaction, so the worker is caught mid-run:
    two emails sent and committed, the third subscriber's row locked and its insert waiting. Then
    SIGKILL. PostgreSQL rolls the worker's open transaction back; a new worker's run sends the
    other three, and nobody gets two."""
    from artspot.celery import app

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    addresses = confirmed_addresses(committed_drop)
    third = DropSubscription.objects.get(drop=committed_drop, email=addresses[2])
    blocker = connections.create_connection("default")
    try:
        blocker.set_autocommit(False)
        with blocker.cursor() as cursor:
            cursor.execute(
                "INSERT INTO drops_dropreminder (subscription_id, kind, sent_at) "
                "VALUES (%s, %s, now())",
                [third.pk, ReminderKind.DAY_BEFORE.value],
            )

        def sessions_waiting_on_the_blocker() -> list[int]:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' "
                    "AND query LIKE 'INSERT INTO \"drops_dropreminder\"%%'"
                )
                return [row[0] for row in cursor.fetchall()]

        with running_workers() as workers:
            first = start_worker(worker_env(mail_dir), tmp_path)
            workers.append(first)
            killed_run = app.send_task("drops.tasks.send_drop_reminders").id
            wait_for(
                sessions_waiting_on_the_blocker, "the worker to reach the third subscriber", workers
            )
            [worker_session] = sessions_waiting_on_the_blocker()
            assert mailed_to(mail_dir) == addresses[:2]
            first.kill()
        blocker.rollback()
    finally:
        blocker.close()

    def session_ended() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [worker_session])
            return cursor.fetchone()[0] == 0

    # PostgreSQL notices the dead client once the lock is granted, and rolls its transaction back.
    wait_for(session_ended, "the killed worker's database session to end", [])
    assert DropReminder.objects.filter(subscription__drop=committed_drop).count() == 2
    assert mailed_to(mail_dir) == addresses[:2]

    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    with running_workers() as workers:
        # A short visibility timeout lets this worker also take over the killed worker's
        # unacknowledged run (acks_late), as Redis would an hour later in production.
        second = start_worker(worker_env(mail_dir, CELERY_VISIBILITY_TIMEOUT="2"), tmp_path)
        workers.append(second)
        app.send_task("drops.tasks.send_drop_reminders")
        app.send_task("drops.tasks.send_drop_reminders")  # beat fires twice
        wait_for(
            lambda: DropReminder.objects.filter(subscription__drop=committed_drop).count() == 5,
            "the new worker to send the rest",
            workers,
        )
        wait_for(
            lambda: broker.hlen("unacked") == 0 and broker.llen("celery") == 0,
            "every run, the redelivered one too, to finish",
            workers,
        )
        # The killed run itself came back (acks_late) and found nothing left to send.
        assert f"send_drop_reminders[{killed_run}] succeeded" in second.output()
        assert f"send_drop_reminders[{killed_run}] succeeded" not in first.output()
    assert mailed_to(mail_dir) == addresses  # each of the five exactly once
    assert "unconfirmed@example.com" not in mailed_to(mail_dir)
