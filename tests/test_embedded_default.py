"""The embedded default built from nothing, as `make run` builds it: SQLite, no services."""

import json

import pytest

from tests.support.processes import clean_env, closed_port, fetch, manage, serve

pytestmark = pytest.mark.slow

LIST_PAGES = (
    "import json; from wagtail.models import Page; "
    "pages = Page.objects.live().public().filter(depth__gte=2).specific(); "
    "print(json.dumps([p.url for p in pages]))"
)


def shell_output(env: dict[str, str], code: str) -> str:
    """The last line a ``manage.py shell -c`` printed (log lines share stdout)."""
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def embedded_env(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("embedded-var")
    env = clean_env(
        ARTSPOT_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="artspot.settings.dev",
        HEALTH_DETAIL_TOKEN="embedded-operator",
    )
    # The demo is loaded once here; test_load_demo_twice_changes_nothing runs it the second time.
    for args in (("migrate", "--noinput"), ("load_demo",), ("ensure_admin",)):
        result = manage(env, *args)
        assert result.returncode == 0, f"{args}: {result.stderr[-2000:]}"
    assert (var_dir / "db.sqlite3").exists()
    return env


def test_load_demo_twice_changes_nothing(embedded_env):
    count = (
        "from wagtail.models import Page; from wagtail.images import get_image_model; "
        "print(Page.objects.count(), get_image_model().objects.count())"
    )
    before = shell_output(embedded_env, count)
    assert manage(embedded_env, "load_demo").returncode == 0
    assert shell_output(embedded_env, count) == before


# /readyz/ names its checks only to operators (HEALTH_DETAIL_TOKEN, see embedded_env).
OPERATOR = {"X-Health-Token": "embedded-operator"}


def test_every_demo_page_and_service_url_answers(embedded_env):
    urls = json.loads(shell_output(embedded_env, LIST_PAGES))
    assert len(urls) >= 4
    with serve(embedded_env) as base:
        for url in urls:
            status, _ = fetch(base + url)
            assert status == 200, url
        status, home = fetch(base + "/")
        assert "Original art from the artists we believe in" in home
        status, login = fetch(base + "/admin/login/")
        assert status == 200 and 'name="password"' in login
        assert fetch(base + "/healthz/")[0] == 200
        status, ready = fetch(base + "/readyz/", OPERATOR)
        assert status == 200
        assert set(json.loads(ready)["checks"]) == {"database", "cache", "broker"}
        assert json.loads(fetch(base + "/readyz/")[1]) == {"status": "ok"}  # no details


def test_redis_down_fails_readiness_but_not_pages(embedded_env):
    env = {**embedded_env, "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}
    with serve(env) as base:
        status, body = fetch(base + "/readyz/", OPERATOR)
        assert status == 503
        report = json.loads(body)
        assert set(report["failed"]) == {"cache", "broker"}
        assert report["checks"]["database"]["ok"] is True
        assert fetch(base + "/")[0] == 200
