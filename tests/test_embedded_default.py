"""The embedded default built from nothing, as `make run` builds it: SQLite, no services."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from core.management.commands.ensure_admin import DEMO_PASSWORD, DEMO_USERNAME
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
