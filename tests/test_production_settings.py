"""Production settings refuse to start half-configured and pass Django's deployment checks."""

import subprocess
import sys

import pytest

from artspot.settings.required import REQUIRED_VARIABLES
from tests.support.processes import ROOT, clean_env, manage
from tests.support.production import FULL_PRODUCTION_ENV

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


def test_starts_with_every_variable_set():
    assert _start(clean_env(**FULL_PRODUCTION_ENV)).returncode == 0


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


def test_check_deploy_is_clean():
    result = manage(
        clean_env(**FULL_PRODUCTION_ENV), "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
