"""Production settings refuse to start half-configured and pass Django's deployment checks."""

import json
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from artspot.settings.required import REQUIRED_VARIABLES
from tests.support.processes import ROOT, clean_env, manage
from tests.support.production import FULL_PRODUCTION_ENV
from tests.support.shop import buyable_demo_artwork

pytestmark = pytest.mark.slow


def _start(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_every_required_variable_is_in_the_full_environment():
    assert set(REQUIRED_VARIABLES) <= set(FULL_PRODUCTION_ENV)


def test_refuses_to_start_without_secret_key_and_names_it():
    env = clean_env(**FULL_PRODUCTION_ENV)
    del env["SECRET_KEY"]
    result = _start(env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "missing required environment variable(s): SECRET_KEY " in last_line


def test_names_every_missing_variable_in_one_line():
    env = clean_env(DJANGO_SETTINGS_MODULE="artspot.settings.production")
    result = _start(env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    for name in REQUIRED_VARIABLES:
        assert name in last_line


# Started under production settings: fetch home, an artwork and checkout (with the work in the
# cart) through Django's test client and print what matters of each answer. Media and static
# files are local here (no bucket, no collectstatic); everything else is production's.
_PAGES = """
import json, sys
import django
django.setup()
from django.contrib.sessions.models import Session
from django.test import Client, override_settings

artwork_path, artwork_pk, media_root = sys.argv[1:4]
local_files = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": media_root}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
answers = {}
with override_settings(STORAGES=local_files):
    client = Client(HTTP_HOST="artspot.example")
    for name, path in [("home", "/"), ("artwork", artwork_path)]:
        answers[name] = client.get(path, secure=True)
    client.post("/shop/cart/add/", {"artwork": artwork_pk, "quantity": 1}, secure=True)
    answers["checkout"] = client.get("/shop/checkout/", secure=True)
    Session.objects.filter(session_key=client.session.session_key).delete()
print("PAGES " + json.dumps({
    name: {"status": r.status_code, "csp": r.get("Content-Security-Policy", ""),
           "permissions": r.get("Permissions-Policy", ""), "cache": r.get("Cache-Control", "")}
    for name, r in answers.items()
}))
"""


def _test_database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db
def test_starts_with_every_variable_set_and_its_pages_send_the_csp():
    """One start under production settings, on the session's test database and Redis."""
    artwork = buyable_demo_artwork()
    env = clean_env(
        **{
            **FULL_PRODUCTION_ENV,
            "DATABASE_URL": _test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "AWS_S3_CUSTOM_DOMAIN": "media.artspot.example",
        }
    )
    args = [artwork.get_url(), str(artwork.pk), str(settings.MEDIA_ROOT)]
    result = subprocess.run(
        [sys.executable, "-c", _PAGES, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    [line] = [line for line in result.stdout.splitlines() if line.startswith("PAGES ")]
    pages = json.loads(line.removeprefix("PAGES "))
    assert pages["artwork"]["cache"].startswith("public")  # CloudFront may keep it
    for name, page in pages.items():
        assert page["status"] == 200, name
        policy = {
            part.split()[0]: part.split()[1:] for part in page["csp"].split(";") if part.strip()
        }
        assert policy["script-src"] == ["'self'"], name
        assert "'unsafe-inline'" not in page["csp"] and "nonce-" not in page["csp"], name
        assert policy["img-src"] == ["'self'", "https://media.artspot.example"], name
        assert "camera=()" in page["permissions"], name


def test_email_through_ses_needs_the_webhook_secret_instead_of_an_email_url():
    env = clean_env(**FULL_PRODUCTION_ENV, EMAIL_PROVIDER="ses")
    del env["EMAIL_URL"]
    result = _start(env)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "missing required environment variable(s): SES_WEBHOOK_SECRET " in last_line
    assert "EMAIL_URL" not in last_line
    env["SES_WEBHOOK_SECRET"] = "sns:a-long-random-password"
    check = [sys.executable, "-c", "import django; django.setup(); from django.conf import "
             "settings; print(settings.EMAIL_BACKEND)"]  # fmt: skip
    result = subprocess.run(check, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "anymail.backends.amazon_ses.EmailBackend"


@pytest.mark.parametrize(
    "extra",
    [{}, {"DATABASE_REPLICA_URL": "postgres://artspot@127.0.0.1:5433/artspot"}],
    ids=["primary-only", "with-replica"],
)
def test_check_deploy_is_clean(extra):
    result = manage(
        clean_env(**FULL_PRODUCTION_ENV, **extra), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
