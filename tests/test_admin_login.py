"""Admin sign-in throttling (django-axes): 10 failed sign-ins from one address lock it out with a
clear message, whatever the password next; another address still signs in; a forged
X-Forwarded-For cannot rotate the address; an administrator lifts the lock."""

import itertools
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
USERNAME = "lockout-admin"
PASSWORD = "correct horse battery staple"
ATTACKER = "203.0.113.66"
COLLEAGUE = "198.51.100.7"
PROXY = "10.0.0.1"
LOCKED = (
    "Too many failed sign-in attempts from your connection. "
    "Try again in 30 minutes or ask an administrator to lift the lock."
)
WRONG = "didn&#x27;t match"  # Wagtail's "Your username and password didn't match."


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(USERNAME, "lockout@artspot.test", PASSWORD)


def sign_in(client: Client, password: str, username: str = USERNAME, **meta):
    return client.post(LOGIN_URL, {"username": username, "password": password}, **meta)


def is_signed_in(client: Client) -> bool:
    return client.get("/admin/").status_code == 200


def fail_until_locked(client: Client, **meta):
    """Ten wrong passwords: nine answered "wrong password", the tenth with the lockout page."""
    for attempt in range(1, 10):
        response = sign_in(client, f"wrong-{attempt}", **meta)
        assert response.status_code == 200, attempt
        assert WRONG in response.content.decode(), attempt
        assert LOCKED not in response.content.decode()
    return sign_in(client, "wrong-10", **meta)


def test_the_limit_is_ten_failures_within_thirty_minutes():
    assert django_settings.AXES_FAILURE_LIMIT == 10
    assert django_settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    assert django_settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    # Attempts live in PostgreSQL, so a Redis outage neither forgets nor blocks them.
    assert django_settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"


def test_ten_wrong_passwords_lock_the_address_out_even_for_the_right_one(admin_user):
    client = Client(REMOTE_ADDR=ATTACKER)

    tenth = fail_until_locked(client)
    assert tenth.status_code == 429
    assert LOCKED in tenth.content.decode()

    eleventh = sign_in(client, PASSWORD)
    assert eleventh.status_code == 429
    body = eleventh.content.decode()
    assert LOCKED in body
    assert "Sign-in locked" in body
    assert 'class="login"' in body  # the admin sign-in page's look, without its form
    assert 'name="password"' not in body
    assert "no-store" in eleventh["Cache-Control"]
    assert not is_signed_in(client)

    attempts = AccessAttempt.objects.filter(ip_address=ATTACKER)
    assert sum(attempts.values_list("failures_since_start", flat=True)) == 11


def test_failures_under_different_usernames_count_against_the_address(admin_user):
    client = Client(REMOTE_ADDR=ATTACKER)
    for attempt in range(5):
        assert sign_in(client, f"wrong-{attempt}").status_code == 200
    for attempt in range(4):
        assert sign_in(client, "guess", username=f"nobody-{attempt}").status_code == 200
    assert sign_in(client, "guess", username="someone-else").status_code == 429

    refused = sign_in(client, PASSWORD)
    assert refused.status_code == 429
    assert not is_signed_in(client)


def test_another_address_still_signs_in_to_the_same_account(admin_user):
    assert fail_until_locked(Client(REMOTE_ADDR=ATTACKER)).status_code == 429

    colleague = Client(REMOTE_ADDR=COLLEAGUE)
    response = sign_in(colleague, PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(colleague)


def test_a_forged_forwarded_for_cannot_rotate_the_address(admin_user, settings):
    settings.TRUSTED_PROXY_HOPS = 1  # one load balancer, which appends the connecting address
    forged = (f"192.0.2.{n}" for n in itertools.count(1))

    def via_proxy(client_address: str) -> dict:
        return {"HTTP_X_FORWARDED_FOR": f"{next(forged)}, {client_address}"}

    client = Client(REMOTE_ADDR=PROXY)
    for attempt in range(1, 10):
        assert sign_in(client, f"wrong-{attempt}", **via_proxy(ATTACKER)).status_code == 200
    assert sign_in(client, "wrong-10", **via_proxy(ATTACKER)).status_code == 429

    refused = sign_in(client, PASSWORD, **via_proxy(ATTACKER))
    assert refused.status_code == 429
    assert LOCKED in refused.content.decode()
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}

    # Another collector behind the same load balancer is someone else.
    colleague = Client(REMOTE_ADDR=PROXY)
    assert sign_in(colleague, PASSWORD, **via_proxy(COLLEAGUE)).status_code == 302


def test_an_administrator_lifts_the_lock_with_the_command(admin_user):
    client = Client(REMOTE_ADDR=ATTACKER)
    assert fail_until_locked(client).status_code == 429
    assert sign_in(client, PASSWORD).status_code == 429

    call_command("axes_reset_ip", ATTACKER, stdout=StringIO())

    assert not AccessAttempt.objects.filter(ip_address=ATTACKER).exists()
    assert sign_in(client, PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_an_administrator_lifts_the_lock_in_the_wagtail_admin(admin_user):
    client = Client(REMOTE_ADDR=ATTACKER)
    assert fail_until_locked(client).status_code == 429

    administrator = Client(REMOTE_ADDR=COLLEAGUE)
    administrator.force_login(admin_user)
    assert "Sign-in lockouts" in administrator.get("/admin/").content.decode()  # the menu
    listing = administrator.get("/admin/lockouts/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert ATTACKER in page
    assert USERNAME in page
    assert "Lift the lock" in page

    lifted = administrator.post("/admin/lockouts/", {"address": ATTACKER}, follow=True)
    assert lifted.status_code == 200
    assert f"Lifted the lock on {ATTACKER}" in lifted.content.decode()
    assert "No address is locked out." in lifted.content.decode()

    assert sign_in(client, PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_only_superusers_see_or_lift_lockouts(admin_user, django_user_model):
    assert fail_until_locked(Client(REMOTE_ADDR=ATTACKER)).status_code == 429
    editor = django_user_model.objects.create_user("editor", "editor@artspot.test", "pw-editor")
    editor.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client = Client(REMOTE_ADDR=COLLEAGUE)
    client.force_login(editor)

    # Wagtail answers a refused admin view with a redirect to the dashboard.
    for response in (
        client.get("/admin/lockouts/"),
        client.post("/admin/lockouts/", {"address": ATTACKER}),
    ):
        assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert AccessAttempt.objects.filter(ip_address=ATTACKER).exists()
    assert "Sign-in lockouts" not in client.get("/admin/").content.decode()


def test_the_right_password_before_the_limit_signs_in(admin_user):
    client = Client(REMOTE_ADDR=ATTACKER)
    for attempt in range(9):
        assert sign_in(client, f"wrong-{attempt}").status_code == 200

    response = sign_in(client, PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)
