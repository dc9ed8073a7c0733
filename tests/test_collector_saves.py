"""Saved works and followed artists: a heart on every card and artwork page and a follow button on
the artist page, working with JavaScript (JSON) and without (a form, confirmed on a cached page),
for signed-in collectors and for guests (asked to sign in, brought back with it done); pages
CloudFront shares stay the same for everyone; one collector never sees or changes another's."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url
from django.test import Client

from artists.factories import ArtistPageFactory
from artworks.factories import ArtworkFactory
from collectors.interests import PENDING_SESSION_KEY
from collectors.models import ArtistAlerts, FollowedArtist, SavedWork
from collectors.wagtail_hooks import export_interests
from tests.test_cacheable_forms import assert_private, assert_shareable, form_to

pytestmark = pytest.mark.django_db
JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture(autouse=True)
def _caching_on(settings):
    settings.PUBLIC_CACHE_SECONDS = 300


@pytest.fixture
def artist():
    return ArtistPageFactory(title="Wren Alder")


@pytest.fixture
def work(artist):
    return ArtworkFactory(title="Tidal Ledger", artist=artist)


@pytest.fixture
def other_work(artist):
    return ArtworkFactory(title="Salt Index", artist=artist)


def collector(name: str):
    return get_user_model().objects.create_user(
        username=name, email=f"{name}@example.com", password="a-long-passphrase-9"
    )


@pytest.fixture
def ana():
    return collector("ana")


@pytest.fixture
def ben():
    return collector("ben")


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def token(client: Client) -> str:
    return json.loads(client.get("/csrf/").content)["token"]


def post_json(client: Client, path: str, data: dict | None = None):
    return client.post(
        path,
        {**(data or {}), "csrfmiddlewaretoken": token(client)},
        **JSON,
    )


def state(client: Client, works=(), artists=()) -> dict:
    response = client.get(
        "/account/interests/",
        {"works": ",".join(map(str, works)), "artists": ",".join(map(str, artists))},
    )
    assert response.status_code == 200
    assert_private(response)
    return json.loads(response.content)


def login_next(login_url: str) -> str:
    """Where the sign-in page sends the visitor back to."""
    parts = urlsplit(login_url)
    assert parts.path == resolve_url(settings.LOGIN_URL)
    [next_path] = parse_qs(parts.query)["next"]
    return next_path


# --- The markup on shared pages ------------------------------------------------------------------


def test_cards_and_the_artwork_page_carry_a_heart_and_the_pages_stay_shareable(work, other_work):
    visitor = Client(enforce_csrf_checks=True)
    page = assert_shareable(visitor.get(work.get_url()))
    heart = form_to(page, f"/account/saved/{work.pk}/")
    assert heart.attrs["data-csrf"] == "/csrf/" and heart.attrs["data-interest"] == "work"
    assert heart.fields == {"next": work.get_url(), "on": "1"}  # no token, no state
    assert 'aria-pressed="false"' in page
    assert "js/interests.js" in page
    form_to(page, f"/account/saved/{other_work.pk}/")  # the related works' cards too

    browse = assert_shareable(visitor.get("/artworks/"))
    assert browse.count('data-interest="work"') == browse.count('class="card artwork-card"') > 0

    artist_page = assert_shareable(visitor.get(work.artist.url))
    follow = form_to(artist_page, f"/account/following/{work.artist.pk}/")
    assert follow.fields == {"next": work.artist.url, "on": "1"}
    form_to(artist_page, f"/account/saved/{work.pk}/")


def test_a_signed_in_collectors_pages_are_private_and_their_hearts_post_without_javascript(
    ana, work
):
    client = signed_in(ana)
    page = client.get(work.get_url())
    assert_private(page)
    heart = form_to(page.content.decode(), f"/account/saved/{work.pk}/")
    assert heart.fields["csrfmiddlewaretoken"]  # a private page may carry a token
    done = client.post(heart.action, heart.fields)
    assert done.status_code == 302 and done["Location"] == work.get_url()
    assert SavedWork.objects.filter(user=ana, artwork=work).exists()
    assert "Saved “Tidal Ledger”." in client.get(done["Location"]).content.decode()


# --- With JavaScript: JSON ------------------------------------------------------------------------


def test_with_javascript_a_heart_saves_and_unsaves_without_a_reload(ana, work, other_work):
    client = signed_in(ana)
    assert state(client, [work.pk, other_work.pk]) == {
        "signed_in": True,
        "saved": [],
        "following": [],
    }
    saved = post_json(client, f"/account/saved/{work.pk}/", {"on": "1"})
    assert saved.status_code == 200
    assert_private(saved)
    assert json.loads(saved.content) == {
        "kind": "work",
        "id": work.pk,
        "saved": True,
        "changed": True,
    }
    assert state(client, [work.pk, other_work.pk])["saved"] == [work.pk]

    again = post_json(client, f"/account/saved/{work.pk}/", {"on": "1"})  # a double click
    assert again.status_code == 200 and json.loads(again.content)["changed"] is False
    assert SavedWork.objects.filter(user=ana, artwork=work).count() == 1

    removed = post_json(client, f"/account/saved/{work.pk}/", {"on": "0"})
    assert json.loads(removed.content)["saved"] is False
    assert state(client, [work.pk])["saved"] == []
    assert post_json(client, f"/account/saved/{work.pk}/", {"on": "0"}).status_code == 200


def test_with_javascript_a_follow_and_the_following_page(ana, artist, work):
    client = signed_in(ana)
    followed = post_json(client, f"/account/following/{artist.pk}/", {"on": "1"})
    assert json.loads(followed.content)["following"] is True
    assert state(client, artists=[artist.pk])["following"] == [artist.pk]
    assert ArtistAlerts.objects.get(user=ana).is_active  # following is asking to hear
    page = client.get("/account/following/")
    assert_private(page)
    html = page.content.decode()
    assert "Wren Alder" in html and artist.url in html
    unfollow = form_to(html, f"/account/following/{artist.pk}/")
    assert unfollow.fields["on"] == "0"
    assert client.post(unfollow.action, unfollow.fields).status_code == 302
    assert not FollowedArtist.objects.filter(user=ana).exists()


def test_the_state_request_of_a_guest_needs_no_database_and_makes_no_session(
    work, django_assert_num_queries
):
    guest = Client(enforce_csrf_checks=True)
    with django_assert_num_queries(0):
        response = guest.get("/account/interests/", {"works": str(work.pk)})
    assert json.loads(response.content) == {"signed_in": False, "saved": [], "following": []}
    assert_private(response)
    assert not response.cookies


def test_the_state_request_of_a_collector_is_a_few_queries_however_many_ids(
    ana, work, django_assert_max_num_queries
):
    client = signed_in(ana)
    with django_assert_max_num_queries(4):  # session, user, saves, follows
        client.get("/account/interests/", {"works": ",".join(map(str, range(1, 201)))})


# --- Without JavaScript, from a cached page ------------------------------------------------------


def test_without_javascript_a_collector_confirms_once_then_the_work_is_saved(ana, work):
    cached = assert_shareable(Client(enforce_csrf_checks=True).get(work.get_url()))
    heart = form_to(cached, f"/account/saved/{work.pk}/")
    client = signed_in(ana)
    asked = client.post(heart.action, heart.fields)  # no token in a shared page
    html = asked.content.decode()
    assert asked.status_code == 403 and "Save this work?" in html
    assert "“Tidal Ledger” by Wren Alder" in html
    assert not SavedWork.objects.exists()
    confirm = form_to(html, f"/account/saved/{work.pk}/")
    done = client.post(confirm.action, confirm.fields)
    assert done.status_code == 302 and done["Location"] == work.get_url()
    assert SavedWork.objects.filter(user=ana, artwork=work).exists()


# --- Guests: sign in, come back, it is done -----------------------------------------------------


def test_a_guest_with_javascript_is_sent_to_sign_in_and_comes_back_with_the_work_saved(ana, work):
    guest = Client(enforce_csrf_checks=True)
    asked = post_json(guest, f"/account/saved/{work.pk}/", {"on": "1", "next": work.get_url()})
    assert asked.status_code == 401
    answer = json.loads(asked.content)
    assert answer["error"] == "Sign in to save works."
    assert login_next(answer["login_url"]) == work.get_url()
    assert not SavedWork.objects.exists()

    guest.force_login(ana)  # signing in fires user_logged_in, whatever the sign-in page
    assert SavedWork.objects.filter(user=ana, artwork=work).exists()
    assert PENDING_SESSION_KEY not in guest.session
    back = guest.get(login_next(answer["login_url"]))
    assert back.status_code == 200
    assert state(guest, [work.pk])["saved"] == [work.pk]


def test_a_guest_without_javascript_confirms_signs_in_and_is_back_with_the_work_saved(
    ana, work, artist
):
    cached = assert_shareable(Client(enforce_csrf_checks=True).get(work.get_url()))
    guest = Client(enforce_csrf_checks=True)
    heart = form_to(cached, f"/account/saved/{work.pk}/")
    asked = guest.post(heart.action, heart.fields)
    assert asked.status_code == 403
    confirm = form_to(asked.content.decode(), f"/account/saved/{work.pk}/")
    to_sign_in = guest.post(confirm.action, confirm.fields)
    assert to_sign_in.status_code == 302
    assert login_next(to_sign_in["Location"]) == work.get_url()
    guest.force_login(ana)
    assert list(SavedWork.objects.values_list("user", "artwork")) == [(ana.pk, work.pk)]
    assert guest.get(work.get_url()).status_code == 200
    assert state(guest, [work.pk])["saved"] == [work.pk]


def test_a_guest_following_an_artist_signs_in_and_follows(ana, artist):
    guest = Client(enforce_csrf_checks=True)
    asked = post_json(guest, f"/account/following/{artist.pk}/", {"next": artist.url})
    assert asked.status_code == 401
    assert login_next(json.loads(asked.content)["login_url"]) == artist.url
    guest.force_login(ana)
    assert FollowedArtist.objects.filter(user=ana, artist=artist).exists()


def test_a_pending_save_of_a_work_unpublished_meanwhile_is_dropped(ana, work):
    guest = Client(enforce_csrf_checks=True)
    post_json(guest, f"/account/saved/{work.pk}/")
    work.live = False
    work.save()
    guest.force_login(ana)
    assert not SavedWork.objects.exists()


def test_a_hostile_next_never_leaves_the_site(ana, work):
    client = signed_in(ana)
    for hostile in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(
            f"/account/saved/{work.pk}/",
            {"on": "1", "next": hostile, "csrfmiddlewaretoken": token(client)},
        )
        assert response.status_code == 302 and response["Location"] == "/account/saved/"
    guest = Client(enforce_csrf_checks=True)
    asked = post_json(guest, f"/account/saved/{work.pk}/", {"next": "https://evil.example/"})
    assert login_next(json.loads(asked.content)["login_url"]) == "/account/saved/"


# --- The Saved page -----------------------------------------------------------------------------


def test_the_saved_page_lists_saves_newest_first_and_withdrawn_ones_apart(
    ana, artist, django_assert_max_num_queries
):
    client = signed_in(ana)
    works = [ArtworkFactory(artist=artist, title=f"Saved Work {n}") for n in range(5)]
    for w in works:
        post_json(client, f"/account/saved/{w.pk}/")
    works[0].live = False
    works[0].save()
    client.get("/account/saved/")  # renditions are made on the first view
    with django_assert_max_num_queries(16):
        page = client.get("/account/saved/")
    assert_private(page)
    html = page.content.decode()
    assert html.index("Saved Work 4") < html.index("Saved Work 1")
    assert "No longer on show" in html and "Saved Work 0" in html
    remove = form_to(html, f"/account/saved/{works[0].pk}/")
    assert client.post(remove.action, remove.fields).status_code == 302
    assert SavedWork.objects.filter(user=ana).count() == 4
    for _ in range(5, 15):  # more saves do not mean more queries
        post_json(client, f"/account/saved/{ArtworkFactory(artist=artist).pk}/")
    client.get("/account/saved/")
    with django_assert_max_num_queries(16):
        client.get("/account/saved/")


@pytest.mark.parametrize("path", ["/account/saved/", "/account/following/"])
def test_the_saved_and_following_pages_ask_a_guest_to_sign_in(path):
    response = Client().get(path)
    assert response.status_code == 302
    assert login_next(response["Location"]) == path


# --- One collector never sees or changes another's -----------------------------------------------


def test_no_collector_sees_or_changes_another_collectors_saves_follows_or_alerts(
    ana, ben, work, other_work, artist
):
    a = signed_in(ana)
    post_json(a, f"/account/saved/{work.pk}/")
    post_json(a, f"/account/following/{artist.pk}/")
    b = signed_in(ben)
    post_json(b, f"/account/saved/{other_work.pk}/")

    # Every URL that takes an id, with Ana's ids, as Ben.
    assert state(b, [work.pk, other_work.pk], [artist.pk]) == {
        "signed_in": True,
        "saved": [other_work.pk],
        "following": [],
    }
    for path in (f"/account/saved/{work.pk}/", f"/account/following/{artist.pk}/"):
        response = post_json(b, path, {"on": "0"})
        assert response.status_code == 200  # Ben's own state: not saved, not following
        assert json.loads(response.content)["changed"] is False
    assert b.post("/account/alerts/", {"digest": "off", "csrfmiddlewaretoken": token(b)})
    saved_page = b.get("/account/saved/").content.decode()
    assert "Tidal Ledger" not in saved_page and "Salt Index" in saved_page
    assert "Wren Alder" not in b.get("/account/following/").content.decode()
    assert export_interests(ben)[1]["saved_works"] == [
        {
            "artwork_id": other_work.pk,
            "title": "Salt Index",
            "saved_at": SavedWork.objects.get(user=ben).saved_at.isoformat(),
        }
    ]

    # Ana's are as she left them.
    assert state(a, [work.pk, other_work.pk], [artist.pk]) == {
        "signed_in": True,
        "saved": [work.pk],
        "following": [artist.pk],
    }
    assert ArtistAlerts.objects.get(user=ana).is_active
    assert not ArtistAlerts.objects.get(user=ben).is_active


# --- Hostile input: a clear 4xx, never a 500 -----------------------------------------------------


@pytest.mark.parametrize("accept", ["json", "html"])
@pytest.mark.parametrize(
    ("case", "status"),
    [("unknown", 404), ("huge", 404), ("draft", 404), ("draft artist", 404), ("bad on", 400)],
)
def test_bad_ids_and_values_get_a_clear_refusal(ana, work, case, status, accept):
    draft = ArtworkFactory(title="Not Yet", live=False)
    hidden_artist = ArtistPageFactory(title="Hidden Hand", live=False)
    path, data = {
        "unknown": ("/account/saved/987654/", {}),
        "huge": (f"/account/saved/{'9' * 30}/", {}),
        "draft": (f"/account/saved/{draft.pk}/", {}),
        "draft artist": (f"/account/following/{hidden_artist.pk}/", {}),
        "bad on": (f"/account/saved/{work.pk}/", {"on": "maybe"}),
    }[case]
    client = signed_in(ana)
    headers = JSON if accept == "json" else {}
    response = client.post(path, {**data, "csrfmiddlewaretoken": token(client)}, **headers)
    assert response.status_code == status
    if accept == "json":
        assert json.loads(response.content)["error"]
    else:
        assert "We could not do that" in response.content.decode()
    assert not SavedWork.objects.exists() and not FollowedArtist.objects.exists()


def test_a_draft_cannot_be_saved_by_a_guest_either(work):
    draft = ArtworkFactory(title="Not Yet", live=False)
    guest = Client(enforce_csrf_checks=True)
    response = post_json(guest, f"/account/saved/{draft.pk}/")
    assert response.status_code == 404
    assert PENDING_SESSION_KEY not in guest.session


@pytest.mark.parametrize(
    "path", ["/account/saved/{pk}/", "/account/following/{artist}/", "/account/alerts/"]
)
def test_get_on_a_post_endpoint_is_a_405_with_a_reason(ana, work, path):
    client = signed_in(ana)
    response = client.get(path.format(pk=work.pk, artist=work.artist.pk))
    assert response.status_code == 405
    assert "POST" in response["Allow"]


@pytest.mark.parametrize(
    "query",
    [
        {"works": "1,x"},
        {"works": "1;DROP"},
        {"artists": "-1"},
        {"works": "9" * 30},
        {"works": ",".join(["1"] * 201)},
        {"works": "²"},
    ],
)
def test_bad_state_requests_are_a_400(ana, query):
    response = signed_in(ana).get("/account/interests/", query)
    assert response.status_code == 400 and json.loads(response.content)["error"]


def test_the_state_endpoint_answers_get_only(ana):
    client = signed_in(ana)
    response = client.post("/account/interests/", {"csrfmiddlewaretoken": token(client)})
    assert response.status_code == 405


def test_a_save_from_another_site_is_refused(ana, work):
    client = signed_in(ana)
    response = client.post(
        f"/account/saved/{work.pk}/", {"on": "1"}, HTTP_ORIGIN="https://evil.example"
    )
    assert response.status_code == 403 and "Confirm" not in response.content.decode()
    assert not SavedWork.objects.exists()


# --- Data export ---------------------------------------------------------------------------------


def test_the_data_export_hook_lists_the_collectors_saves_follows_and_alerts(ana, work, artist):
    client = signed_in(ana)
    post_json(client, f"/account/saved/{work.pk}/")
    post_json(client, f"/account/following/{artist.pk}/")
    key, data = export_interests(ana)
    assert key == "interests"
    json.dumps(data)  # serialisable as it is
    assert [s["title"] for s in data["saved_works"]] == ["Tidal Ledger"]
    assert [(f["artist_id"], f["name"]) for f in data["followed_artists"]] == [
        (artist.pk, "Wren Alder")
    ]
    assert data["artist_alerts"] == {"daily_digest": True, "unsubscribed_at": None}


def test_the_export_hook_is_registered_for_the_accounts_data_export():
    from wagtail import hooks

    assert export_interests in hooks.get_hooks("COLLECTOR_DATA_EXPORT")


def test_deleting_a_collector_removes_their_saves_and_follows(ana, work, artist):
    client = signed_in(ana)
    post_json(client, f"/account/saved/{work.pk}/")
    post_json(client, f"/account/following/{artist.pk}/")
    ana.delete()
    assert not SavedWork.objects.exists() and not FollowedArtist.objects.exists()
    assert not ArtistAlerts.objects.exists()


def test_hearts_are_rate_limited_per_client_address_with_a_clear_answer(ana, work):
    client = signed_in(ana)
    csrf = token(client)
    answers = [
        client.post(f"/account/saved/{work.pk}/", {"csrfmiddlewaretoken": csrf}, **JSON)
        for _ in range(61)
    ]
    assert [a.status_code for a in answers[:60]] == [200] * 60
    assert answers[60].status_code == 429
    assert "Too many requests" in json.loads(answers[60].content)["error"]


def test_the_heart_itself_adds_no_query_to_a_page(work, rf, django_assert_num_queries):
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    request = rf.get(work.get_url())
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        html = render_to_string(
            "collectors/includes/save_button.html", {"artwork": work}, request=request
        )
    assert f'action="/account/saved/{work.pk}/"' in html
    assert "csrfmiddlewaretoken" not in html


def test_the_following_page_is_a_few_queries_however_many_artists(
    ana, django_assert_max_num_queries
):
    client = signed_in(ana)
    for n in range(3):
        post_json(client, f"/account/following/{ArtistPageFactory(title=f'Artist {n}').pk}/")
    client.get("/account/following/")  # per-process caches (content types, site) warm up
    with django_assert_max_num_queries(8):
        client.get("/account/following/")
    for n in range(3, 12):
        post_json(client, f"/account/following/{ArtistPageFactory(title=f'Artist {n}').pk}/")
    with django_assert_max_num_queries(8):  # the same, with four times the artists
        html = client.get("/account/following/").content.decode()
    assert html.count(">Unfollow<") == 12
