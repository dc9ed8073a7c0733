"""Production settings refuse to start half-configured and pass Django's deployment checks."""

import subprocess
import sys

import pytest

from artspot.settings.required import REQUIRED_VARIABLES
from tests.support.processes import ROOT, clean_env, manage

pytestmark = pytest.mark.slow

FULL_PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "artspot.settings.production",
    "SECRET_KEY": "x7#production-grade-secret-key-for-the-deploy-check-0123456789-abcdefghij",
    "DATABASE_URL": "postgres://artspot@127.0.0.1:5432/artspot",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "artspot.example",
    "WAGTAILADMIN_BASE_URL": "https://artspot.example",
    "AWS_STORAGE_BUCKET_NAME": "artspot-media",
    "EMAIL_URL": "smtp+tls://user:pass@127.0.0.1:587",
    "STRIPE_SECRET_KEY": "sk_live_placeholder_for_the_check",
    "STRIPE_WEBHOOK_SECRET": "whsec_placeholder_for_the_check",
}


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
