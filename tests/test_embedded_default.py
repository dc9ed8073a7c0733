"""The embedded default built from nothing, as `make run` builds it: SQLite, no services."""

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from core.management.commands.ensure_admin import DEMO_PASSWORD, DEMO_USERNAME
from tests.support.processes import ROOT, clean_env, closed_port, fetch, free_port, manage, serve
from tests.support.shop import checkout_form

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


# --- The admin on SQLite: search, concurrent saves, email links -------------------------------

WORK = (
    "import json; from artworks.models import Artwork; "
    "w = Artwork.objects.filter(live=True, is_edition=False, has_unpublished_changes=False)"
    ".exclude(units__sold_at__isnull=False).order_by('pk').first(); "
    "print(json.dumps({'pk': w.pk, 'slug': w.slug, 'title': w.title, 'artist': w.artist_id, "
    "'image': w.gallery_images.first().image_id}))"
)


def admin_session(base: str) -> requests.Session:
    """A session signed in to the served admin as the demo admin (``ensure_admin``)."""
    session = requests.Session()
    session.get(f"{base}/admin/login/", timeout=30)
    response = session.post(
        f"{base}/admin/login/",
        {
            "username": DEMO_USERNAME,
            "password": DEMO_PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=30,
    )
    assert response.status_code == 200 and "/admin/login/" not in response.url
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def artwork_form(work: dict, title: str, slug: str = "") -> dict:
    """What the artwork edit form posts (the same fields as tests/test_artworks.py)."""
    return nested_form_data(
        {
            "title": title,
            "slug": slug,
            "artist": work["artist"],
            "year": 2025,
            "medium": "painting",
            "materials": "Oil on linen",
            "description": rich_text("<p>Saved as a draft.</p>"),
            "height_cm": "40",
            "width_cm": "120",
            "edition_size": "1",
            "for_sale": "on",
            "price": "3200",
            "currency": "GBP",
            "max_per_order": "1",
            "gallery_images": inline_formset(
                [{"image": work["image"], "alt_text": "A work", "caption": ""}], min=1
            ),
        }
    )


@pytest.fixture(scope="module")
def work(embedded_env) -> dict:
    return json.loads(shell_output(embedded_env, WORK))


def test_admin_artwork_search_works_on_sqlite(embedded_env, work):
    listing = "/admin/snippets/artworks/artwork/"
    word = work["title"].split()[-1]
    with serve(embedded_env) as base:
        session = admin_session(base)
        for query in (word, word[:3], "Oil on"):  # a word, a prefix, the materials
            response = session.get(base + listing, params={"q": query}, timeout=30)
            assert response.status_code == 200, (query, response.text[-2000:])
        found = session.get(base + listing, params={"q": work["title"]}, timeout=30)
        assert found.status_code == 200 and work["title"] in found.text


def test_twenty_concurrent_admin_saves_give_no_error_and_no_duplicate(embedded_env, work, tmp_path):
    titles = [f"Concurrent Draft {n:02d}" for n in range(10)]
    log = tmp_path / "server.log"
    with serve(embedded_env, log=log) as base:
        session = admin_session(base)
        add = f"{base}/admin/snippets/artworks/artwork/add/"
        edit = f"{base}/admin/snippets/artworks/artwork/edit/{work['pk']}/"
        assert session.get(add, timeout=30).status_code == 200
        assert session.get(edit, timeout=30).status_code == 200

        def save(n: int) -> requests.Response:
            # Autosave posts the form with Accept: application/json; "Save draft" posts it plain.
            editor = requests.Session()  # one browser tab each, signed in as the same admin
            editor.cookies.update(session.cookies)
            editor.headers.update(session.headers)
            if n % 2:
                editor.headers["Accept"] = "application/json"
            if n < 10:
                return editor.post(add, artwork_form(work, titles[n]), timeout=60)
            data = artwork_form(work, f"{work['title']} (draft {n})", slug=work["slug"])
            return editor.post(edit, data, timeout=60)

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(save, range(20)))
    server_log = log.read_text()
    assert "database is locked" not in server_log
    for n, response in enumerate(responses):
        assert response.status_code in (200, 302), (n, response.status_code, response.text[:500])
        if response.headers.get("Content-Type") == "application/json":
            assert response.json()["success"] is True, (n, response.text[:500])
        else:  # a saved draft redirects; a form shown again (200) would be an error
            assert response.history and response.history[0].status_code == 302, n
    counts = json.loads(
        shell_output(
            embedded_env,
            "import json; from artworks.models import Artwork; "
            f"titles = {titles!r}; "
            "works = Artwork.objects.filter(title__in=titles); "
            "print(json.dumps({'counts': [works.filter(title=t).count() for t in titles], "
            "'slugs': sorted(works.values_list('slug', flat=True))}))",
        )
    )
    assert counts["counts"] == [1] * 10
    assert not [slug for slug in counts["slugs"] if slug.endswith("-2")]


def test_email_links_use_the_served_address(embedded_env, work, tmp_path):
    log = tmp_path / "server.log"
    with serve(embedded_env, log=log) as base:  # a free port, never 8000
        session = admin_session(base)  # its CSRF cookie serves the public form too
        response = session.post(
            f"{base}/artworks/{work['slug']}/enquire/",
            {"name": "Ana Ruiz", "email": "ana@example.com", "message": "Still available?"},
            timeout=30,
        )
        assert response.status_code == 200 and response.history[0].status_code == 302
    printed = log.read_text()  # the console email backend prints the team's email
    assert "Mark it handled in the admin:" in printed
    assert f"{base}/admin/" in printed
    assert "127.0.0.1:8000" not in printed


# --- `make run PORT=…`: the newcomer's command, on a port other than 8000 -----------------------

BUYABLE = (
    "import json; from artworks.models import Artwork; "
    "w = Artwork.objects.filter(live=True, is_edition=False, for_sale=True, price__isnull=False, "
    "drop_entries__isnull=True).exclude(units__sold_at__isnull=False).order_by('-pk').first(); "
    "print(json.dumps({'pk': w.pk, 'title': w.title}))"
)


@contextmanager
def make_run(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """``make run PORT=port`` as a newcomer types it; yields the base URL once it serves.

    The worktree's .venv is already installed: ``-o`` tells make not to reinstall it even when
    pyproject.toml is newer than its stamp. The whole process group (make, runserver and its
    autoreloader) is stopped afterwards.
    """
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run", f"PORT={port}"],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 280
        while fetch_status(f"{base}/healthz/") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"make run did not serve: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


def fetch_status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.RequestException:
        return None


def test_make_run_on_another_port_prints_a_confirmation_email_whose_link_works(
    embedded_env, tmp_path
):
    """A purchase under ``make run PORT=…``: the printed email's order link opens on that port."""
    port = free_port()
    assert port != 8000
    env = {k: v for k, v in embedded_env.items() if k != "WAGTAILADMIN_BASE_URL"}
    bought = json.loads(shell_output(embedded_env, BUYABLE))
    log = tmp_path / "make-run.log"
    with make_run(env, port, log) as base:
        session = requests.Session()
        token = session.get(f"{base}/csrf/", timeout=30).json()["token"]
        session.headers.update({"X-CSRFToken": token, "Referer": f"{base}/"})
        added = session.post(
            f"{base}/shop/cart/add/", {"artwork": bought["pk"], "quantity": 1}, timeout=30
        )
        assert added.status_code == 200 and added.url == f"{base}/shop/cart/", added.text[-500:]
        paying = session.post(
            f"{base}/shop/checkout/", checkout_form("newcomer@example.com"), timeout=30
        )
        assert paying.status_code == 200 and "/test-payment/" in paying.url, paying.text[-800:]
        paid = session.post(paying.url, {"card": "4242 4242 4242 4242", "pay": "1"}, timeout=30)
        assert paid.status_code == 200 and "/shop/orders/" in paid.url
        # The confirmation email, printed by the console backend in the make run terminal.
        deadline = time.monotonic() + 30
        links: list[str] = []
        while not links and time.monotonic() < deadline:
            printed = log.read_text(errors="replace")
            links = re.findall(r"http://[^\s\"<>]+/shop/orders/[^\s\"<>]+", printed)
            time.sleep(0.2)
        assert links, f"no order link printed: {printed[-3000:]}"
        assert all(link.startswith(f"{base}/") for link in links), links
        assert "127.0.0.1:8000" not in printed
        # A new visitor (no session) follows the link: the order page, with the work bought.
        opened = requests.get(links[0], timeout=30)
        assert opened.status_code == 200
        assert bought["title"] in opened.text
        assert f"Admin login: {base}/admin/" in printed
