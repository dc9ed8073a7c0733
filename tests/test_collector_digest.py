"""The daily digest: new works and drops by followed artists, at most one email a day per
collector, each work mentioned at most once ever, one-click unsubscribe (RFC 8058), sent through
the outbox, and nothing sent twice when a worker dies between planning and sending or between
the mail server's answer and our record of it (a real Celery worker, killed)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
import time_machine
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import IntegrityError, connection, connections, transaction
from django.test import Client
from django.utils import timezone

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from artworks.models import Artwork
from collectors import digest
from collectors.models import ArtistAlerts, Digest, DigestItem, DigestOutcome, FollowedArtist
from collectors.tasks import plan_daily_digests
from core import outbox
from core.models import OutboxMessage
from drops.factories import DropPageFactory
from tests.support.worker import running_workers, start_worker, wait_for, worker_env

# 09:00 in London, summer time: after COLLECTOR_DIGEST_HOUR (8).
MORNING = datetime(2027, 6, 2, 8, 0, tzinfo=UTC)
LATER_THAT_DAY = MORNING + timedelta(hours=9)
NEXT_MORNING = MORNING + timedelta(days=1)
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def collector(name: str, verified: bool = True, **extra):
    user = get_user_model().objects.create_user(
        username=name, email=f"{name}@example.com", password="a-long-passphrase-9", **extra
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=verified, primary=True)
    return user


def follow(user, artist, at: datetime) -> None:
    ArtistAlerts.objects.get_or_create(user=user)
    FollowedArtist.objects.create(user=user, artist=artist, followed_at=at)


def new_work(artist, title: str, at: datetime, **extra):
    return ArtworkFactory(artist=artist, title=title, first_published_at=at, images=0, **extra)


def emails_to(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address]]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """A beat run at ``now``: plan, then (after each commit) the outbox hands the sends over;
    tasks run in-process in unit tests."""

    def beat(now: datetime) -> int:
        with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
            return digest.plan_digests(now)

    return beat


@pytest.fixture
def artist(db):
    return ArtistPageFactory(title="Wren Alder")


@pytest.fixture
def ana(db):
    return collector("ana", first_name="Ana", last_name="Ruiz")


# --- What goes in ---------------------------------------------------------------------------------


def test_a_new_work_by_a_followed_artist_arrives_in_one_email_with_one_click_unsubscribe(
    run, ana, artist
):
    follow(ana, artist, MORNING - timedelta(days=3))
    work = new_work(artist, "Tidal Ledger", MORNING - timedelta(hours=5))
    assert run(MORNING) == 1
    [email] = mail.outbox
    assert email.to == ["ana@example.com"]
    assert email.subject == "New from Wren Alder on ArtSpot"
    assert "“Tidal Ledger” by Wren Alder" in email.body
    assert f"http://testserver{work.get_url()}" in email.body
    html, mime = email.alternatives[0]
    assert mime == "text/html" and "Tidal Ledger" in html and "Hello Ana Ruiz" in html
    unsubscribe = re.search(r"Stop these emails: (\S+)", email.body).group(1)
    assert email.extra_headers["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email.extra_headers["Message-ID"].startswith("<digest-")
    [sent] = Digest.objects.filter(user=ana)
    assert sent.outcome == DigestOutcome.SENT and sent.sent_at is not None
    assert OutboxMessage.objects.filter(task="collectors.tasks.send_digest").count() == 1


def test_a_collector_whose_address_is_not_verified_gets_no_digest(run, ana, artist):
    stranger = collector("unverified", verified=False)
    follow(ana, artist, MORNING - timedelta(days=3))
    follow(stranger, artist, MORNING - timedelta(days=3))
    new_work(artist, "Tidal Ledger", MORNING - timedelta(hours=5))
    assert run(MORNING) == 1
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    assert not Digest.objects.filter(user=stranger).exists()


def test_only_news_counts(run, ana, artist):
    followed_at = MORNING - timedelta(days=3)
    follow(ana, artist, followed_at)
    new_work(artist, "Before The Follow", followed_at - timedelta(hours=1))
    new_work(artist, "A Draft", MORNING - timedelta(hours=2), live=False)
    new_work(artist, "Long Ago", MORNING - timedelta(days=30))
    new_work(ArtistPageFactory(title="Not Followed"), "Elsewhere", MORNING - timedelta(hours=2))
    hidden = ArtistPageFactory(title="Hidden Hand", live=False)
    follow(ana, hidden, followed_at)
    new_work(hidden, "By A Hidden Artist", MORNING - timedelta(hours=2))
    assert run(MORNING) == 0
    assert mail.outbox == [] and not Digest.objects.exists()


def test_a_newly_scheduled_drop_with_a_followed_artists_work_is_news(run, ana, artist):
    follow(ana, artist, MORNING - timedelta(days=3))
    old = new_work(artist, "Old Favourite", MORNING - timedelta(days=20))
    DropPageFactory(
        title="Midsummer Editions",
        starts_at=MORNING + timedelta(days=5),
        first_published_at=MORNING - timedelta(hours=3),
        works=[old],
    )
    DropPageFactory(
        title="Already Open",
        starts_at=MORNING - timedelta(hours=1),
        first_published_at=MORNING - timedelta(hours=3),
        works=[old],
    )
    assert run(MORNING) == 1
    [email] = mail.outbox
    assert email.subject == "A new drop: “Midsummer Editions”"
    assert "Midsummer Editions" in email.body and "Already Open" not in email.body
    assert "Old Favourite" not in email.body
    assert run(NEXT_MORNING) == 0  # the drop, too, is mentioned once


# --- At most one a day, each work once ever -------------------------------------------------------


def test_the_digest_run_twice_on_the_same_day_sends_one_email_per_collector(run, ana, artist):
    ben = collector("ben")
    for user in (ana, ben):
        follow(user, artist, MORNING - timedelta(days=3))
    new_work(artist, "First Light", MORNING - timedelta(hours=5))
    assert run(MORNING) == 2
    new_work(artist, "Second Light", MORNING + timedelta(hours=1))  # news after the first run
    assert run(MORNING + timedelta(hours=2)) == 0
    assert run(LATER_THAT_DAY) == 0
    assert len(emails_to("ana@example.com")) == len(emails_to("ben@example.com")) == 1

    # The next day's digest has what came since, and nothing already said.
    assert run(NEXT_MORNING) == 2
    for address in ("ana@example.com", "ben@example.com"):
        first, second = emails_to(address)
        assert "First Light" in first.body and "Second Light" not in first.body
        assert "Second Light" in second.body and "First Light" not in second.body


def test_a_work_is_mentioned_at_most_once_ever(run, ana, artist):
    follow(ana, artist, MORNING - timedelta(days=3))
    work = new_work(artist, "Tidal Ledger", MORNING - timedelta(hours=5))
    run(MORNING)
    # Unfollow and follow again: the work is not news again (and the database would refuse it).
    FollowedArtist.objects.filter(user=ana).delete()
    follow(ana, artist, MORNING - timedelta(days=2))
    for day in range(1, 4):
        new_work(artist, f"Day {day}", MORNING + timedelta(days=day, hours=-1))
        run(MORNING + timedelta(days=day))
    bodies = [m.body for m in emails_to("ana@example.com")]
    assert len(bodies) == 4
    assert sum("Tidal Ledger" in body for body in bodies) == 1
    other_day = Digest.objects.create(user=ana, day=(MORNING + timedelta(days=9)).date())
    with pytest.raises(IntegrityError), transaction.atomic():
        DigestItem.objects.create(digest=other_day, user=ana, artwork=work)
    with pytest.raises(IntegrityError), transaction.atomic():
        Digest.objects.create(user=ana, day=MORNING.date())  # one a day, by the database too


def test_planning_runs_at_once_plan_each_collector_once(committed_news):
    """Four beats at the same moment, on four connections: one digest per collector."""
    users, now = committed_news
    runs = 4
    barrier = threading.Barrier(runs)
    planned, errors = [], []

    def beat() -> None:
        try:
            barrier.wait(timeout=30)
            planned.append(digest.plan_digests(now))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=beat) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(planned) == len(users)
    assert Digest.objects.filter(user__in=users).count() == len(users)
    per_user = DigestItem.objects.filter(user__in=users).values_list("user_id", "artwork_id")
    assert len(per_user) == len(set(per_user)) == len(users)


def test_the_beat_task_waits_for_the_digest_hour(ana, artist, django_capture_on_commit_callbacks):
    follow(ana, artist, MORNING - timedelta(days=3))
    new_work(artist, "Dawn Study", MORNING - timedelta(hours=9))
    from artspot.beat_schedule import BEAT_SCHEDULE

    assert BEAT_SCHEDULE["plan-daily-digests"]["task"] == "collectors.tasks.plan_daily_digests"
    with django_capture_on_commit_callbacks(execute=True):
        with time_machine.travel(datetime(2027, 6, 2, 6, 30, tzinfo=UTC), tick=False):  # 07:30
            assert plan_daily_digests() == 0
        with time_machine.travel(datetime(2027, 6, 2, 7, 5, tzinfo=UTC), tick=False):  # 08:05
            assert plan_daily_digests() == 1
    assert len(mail.outbox) == 1


# --- Unsubscribe ----------------------------------------------------------------------------------


def unsubscribe_path(email) -> str:
    return urlparse(email.extra_headers["List-Unsubscribe"].strip("<>")).path


def test_one_click_unsubscribe_works_without_a_cookie_or_token_and_twice(run, ana, artist):
    follow(ana, artist, MORNING - timedelta(days=3))
    new_work(artist, "Tidal Ledger", MORNING - timedelta(hours=5))
    run(MORNING)
    path = unsubscribe_path(mail.outbox[0])
    mail_client = Client(enforce_csrf_checks=True)

    shown = mail_client.get(path)  # a link scanner: shows a button, changes nothing
    assert shown.status_code == 200 and ">Unsubscribe</button>" in shown.content.decode()
    assert ArtistAlerts.objects.get(user=ana).is_active

    # What a mail client sends for RFC 8058 one-click: a form POST, no cookie, no token.
    response = mail_client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    when = ArtistAlerts.objects.get(user=ana).unsubscribed_at
    assert when is not None
    again = mail_client.post(path, "List-Unsubscribe=One-Click", content_type="text/plain")
    assert again.status_code == 200
    assert ArtistAlerts.objects.get(user=ana).unsubscribed_at == when  # idempotent

    new_work(artist, "After Unsubscribing", NEXT_MORNING - timedelta(hours=2))
    assert run(NEXT_MORNING) == 0
    assert len(mail.outbox) == 1
    assert FollowedArtist.objects.filter(user=ana).exists()  # still following, just no email


@pytest.mark.parametrize("token", ["nope", "x" * 300, "abc:def", "abc:def:ghi"])
def test_a_forged_unsubscribe_link_is_a_404(db, token):
    response = Client().post(f"/account/alerts/unsubscribe/{token}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_the_following_page_turns_the_digest_off_and_on(ana, artist):
    follow(ana, artist, MORNING)
    client = Client()
    client.force_login(ana)
    assert client.post("/account/alerts/", {"digest": "off"}).status_code == 302
    assert not ArtistAlerts.objects.get(user=ana).is_active
    assert "Email me what is new" in client.get("/account/following/").content.decode()
    assert client.post("/account/alerts/", {"digest": "on"}).status_code == 302
    assert ArtistAlerts.objects.get(user=ana).is_active
    assert client.post("/account/alerts/", {"digest": "sometimes"}).status_code == 400


def test_a_digest_planned_before_an_unsubscribe_is_not_sent(ana, artist):
    follow(ana, artist, MORNING - timedelta(days=3))
    new_work(artist, "Tidal Ledger", MORNING - timedelta(hours=5))
    with time_machine.travel(MORNING, tick=False):
        digest.plan_digests(MORNING)  # the send waits (its commit callbacks are not run)
    [planned] = Digest.objects.filter(user=ana)
    digest.unsubscribe(ArtistAlerts.objects.get(user=ana))
    assert digest.send_digest(planned.pk) is False
    planned.refresh_from_db()
    assert planned.outcome == DigestOutcome.SKIPPED and mail.outbox == []


# --- Nothing lost, nothing twice (in-process) -----------------------------------------------------


@pytest.fixture
def planned(ana, artist) -> Digest:
    """Ana's digest, planned and committed, its send not yet run (as if the broker were down
    or the worker died before taking it)."""
    follow(ana, artist, MORNING - timedelta(days=3))
    new_work(artist, "Tidal Ledger", MORNING - timedelta(hours=5))
    with time_machine.travel(MORNING, tick=False):
        assert digest.plan_digests(MORNING) == 1
    return Digest.objects.get(user=ana)


def test_a_send_lost_between_planning_and_sending_is_queued_again_and_sent_once(planned, run):
    assert mail.outbox == [] and planned.outcome == DigestOutcome.PENDING
    run(MORNING + timedelta(minutes=10))  # too soon to call it lost: nothing
    assert mail.outbox == []
    run(MORNING + timedelta(hours=1))  # the next hourly beat queues it again
    assert len(mail.outbox) == 1
    # The first copy of the task arrives after all (redelivered): nothing more.
    assert digest.send_digest(planned.pk) is False
    run(MORNING + timedelta(hours=2))
    assert len(mail.outbox) == 1


class Killed(BaseException):
    """Stands for the worker dying: not an Exception, so nothing on the way catches it."""


def test_a_worker_dying_after_the_send_and_before_the_record_never_sends_again(
    planned, monkeypatch
):
    real_send = digest.email.send

    def send_then_die(message):
        real_send(message)  # the mail server has it …
        raise Killed  # … and the worker dies before COMMIT

    monkeypatch.setattr(digest.email, "send", send_then_die)
    with pytest.raises(Killed):
        digest.send_digest(planned.pk)
    monkeypatch.undo()
    planned.refresh_from_db()
    assert len(mail.outbox) == 1
    assert planned.attempted_at is not None and planned.sent_at is None

    assert digest.send_digest(planned.pk) is False  # the redelivered task
    planned.refresh_from_db()
    assert planned.outcome == DigestOutcome.UNCERTAIN
    assert len(mail.outbox) == 1
    with time_machine.travel(MORNING + timedelta(hours=2), tick=False):
        digest.plan_digests(MORNING + timedelta(hours=2))  # no re-queue, no new digest
    assert digest.send_digest(planned.pk) is False
    assert len(mail.outbox) == 1


def test_a_mail_server_failure_is_retried_and_sends_once(planned, settings):
    settings.EMAIL_BACKEND = "tests.test_collector_digest.RefusingBackend"
    with pytest.raises(OSError):
        digest.send_digest(planned.pk)
    planned.refresh_from_db()
    assert planned.attempted_at is None and planned.outcome == DigestOutcome.PENDING
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert digest.send_digest(planned.pk) is True
    assert digest.send_digest(planned.pk) is False
    assert len(mail.outbox) == 1


class RefusingBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


def test_a_work_unpublished_before_the_send_is_left_out_and_an_empty_digest_is_not_sent(
    planned,
):
    Artwork.objects.filter(title="Tidal Ledger").update(live=False)
    assert digest.send_digest(planned.pk) is False
    planned.refresh_from_db()
    assert planned.outcome == DigestOutcome.SKIPPED and mail.outbox == []


# --- A real worker, killed ------------------------------------------------------------------------


@pytest.fixture
def committed_news(django_db_setup, django_db_blocker):
    """Three collectors following one artist with a new work each can be told about, committed
    so other connections and a worker process see them; removed afterwards."""
    if not connection.settings_dict["NAME"].startswith("test_"):
        pytest.fail("refusing to commit test data outside a test database")
    now = timezone.now()
    with django_db_blocker.unblock():
        artist = ArtistPageFactory(title="Committed Artist")
        users = [collector(f"racer{n}") for n in range(3)]
        work = new_work(artist, "Committed Work", now - timedelta(hours=1))
        for user in users:
            follow(user, artist, now - timedelta(days=1))
        try:
            yield users, now
        finally:
            OutboxMessage.objects.filter(task="collectors.tasks.send_digest").delete()
            get_user_model().objects.filter(pk__in=[u.pk for u in users]).delete()
            work.delete()
            artist.delete()


def mailed(directory: Path) -> list[str]:
    import email

    found = []
    for path in sorted(directory.iterdir()):
        for raw in path.read_bytes().split(SEPARATOR):
            if raw.strip():
                found.append(email.message_from_bytes(raw)["To"])
    return sorted(found)


def _sessions_waiting_on_digest_lock() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE '%%FROM \"collectors_digest\"%%'"
        )
        return [row[0] for row in cursor.fetchall()]


def _session_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_worker_killed_between_planning_and_sending_leaves_one_email(
    committed_news, tmp_path, monkeypatch
):
    """Planned and committed, then the worker taking the send is SIGKILLed while it waits for
    the digest's lock (held here): nothing was attempted, so the redelivered task sends it, and
    a duplicate delivery of the same task sends nothing more."""
    from artspot.celery import app

    users, now = committed_news
    monkeypatch.setattr(outbox, "relay_soon", lambda pks: None)  # the broker is down
    digest.plan_digests(now)
    target = Digest.objects.get(user=users[0])
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    blocker = connections.create_connection("default")
    try:
        blocker.set_autocommit(False)
        with blocker.cursor() as cursor:
            cursor.execute("SELECT id FROM collectors_digest WHERE id = %s FOR UPDATE", [target.pk])
        with running_workers() as workers:
            first = start_worker(worker_env(mail_dir), tmp_path)
            workers.append(first)
            app.send_task("collectors.tasks.send_digest", args=[target.pk])
            wait_for(_sessions_waiting_on_digest_lock, "the worker to wait for the lock", workers)
            [pid] = _sessions_waiting_on_digest_lock()
            first.kill()
        blocker.rollback()
    finally:
        blocker.close()
    wait_for(lambda: _session_gone(pid), "the killed worker's session to end", [])
    target.refresh_from_db()
    assert target.attempted_at is None and mailed(mail_dir) == []

    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    with running_workers() as workers:
        second = start_worker(worker_env(mail_dir, CELERY_VISIBILITY_TIMEOUT="2"), tmp_path)
        workers.append(second)
        app.send_task("collectors.tasks.send_digest", args=[target.pk])  # delivered twice
        for user in users[1:]:
            app.send_task("collectors.tasks.send_digest", args=[Digest.objects.get(user=user).pk])
        wait_for(
            lambda: not Digest.objects.filter(user__in=users, sent_at__isnull=True).exists(),
            "every digest to be sent",
            workers,
            timeout=60,
        )
        wait_for(
            lambda: broker.hlen("unacked") == 0 and broker.llen("celery") == 0,
            "every delivery, the redelivered one too, to finish",
            workers,
            timeout=60,
        )
    assert mailed(mail_dir) == sorted(u.email for u in users)  # each once


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_a_worker_killed_after_the_send_before_the_record_sends_nothing_twice(
    committed_news, tmp_path, monkeypatch
):
    """The mail server accepted the digest (a file written) and the worker is SIGKILLed before
    it records that: the redelivered task finds a send begun and not recorded, and sends no
    second copy."""
    from artspot.celery import app

    users, now = committed_news
    monkeypatch.setattr(outbox, "relay_soon", lambda pks: None)  # handed over by the test below
    digest.plan_digests(now)
    target = Digest.objects.get(user=users[0])
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    stalled = tmp_path / "stalled"
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    with running_workers() as workers:
        env = worker_env(
            mail_dir,
            ARTSPOT_TEST_EMAIL_BACKEND="tests.support.stalling_email.EmailBackend",
            ARTSPOT_TEST_STALL_FLAG=str(stalled),
        )
        first = start_worker(env, tmp_path)
        workers.append(first)
        app.send_task("collectors.tasks.send_digest", args=[target.pk])
        wait_for(stalled.exists, "the worker to send and stall", workers)
        first.kill()
    assert mailed(mail_dir) == [users[0].email]
    target.refresh_from_db()
    assert target.attempted_at is not None and target.sent_at is None

    with running_workers() as workers:
        second = start_worker(worker_env(mail_dir, CELERY_VISIBILITY_TIMEOUT="2"), tmp_path)
        workers.append(second)
        wait_for(
            lambda: Digest.objects.get(pk=target.pk).outcome != DigestOutcome.PENDING,
            "the redelivered task to look at the digest",
            workers,
            timeout=60,
        )
        wait_for(lambda: broker.hlen("unacked") == 0, "the redelivery to finish", workers)
    target.refresh_from_db()
    assert target.outcome == DigestOutcome.UNCERTAIN
    assert mailed(mail_dir) == [users[0].email]  # one copy, not two
