"""Cacheable pages stay usable: a page a shared cache keeps carries nothing of one visitor's, and
its forms still work for another visitor served that stored copy, with JavaScript (a token from
/csrf/) and without (a confirmation page with a fresh token). Every client enforces CSRF."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
import time_machine
from django.core import mail
from django.http import HttpResponse
from django.template import engines
from django.template.response import TemplateResponse
from django.test import Client, RequestFactory
from django.utils.html import escape

from artworks.factories import ArtworkFactory
from artworks.models import ArtworkInquiry
from core.csrf import MAX_VALUE_LENGTH
from core.pages import apply_public_cache_headers
from drops.factories import DropPageFactory
from drops.models import DropSubscription
from shop.cart import SESSION_KEY

pytestmark = pytest.mark.django_db

DROP_START = datetime(2027, 9, 1, 17, 0, 0, tzinfo=UTC)


# --- Reading a page's forms as a browser does ----------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._form = Form(values.get("action", ""), values.get("method", "get"), values)
            self.forms.append(self._form)
        elif self._form is not None and tag == "input" and values.get("name"):
            self._form.fields[values["name"]] = values.get("value", "")
        elif self._form is not None and tag == "textarea" and values.get("name"):
            self._textarea = values["name"]
            self._form.fields[self._textarea] = ""

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None


def form_to(html: str, action_ends: str) -> Form:
    parser = _FormParser()
    parser.feed(html)
    [form] = [f for f in parser.forms if f.method == "post" and f.action.endswith(action_ends)]
    return form


def assert_shareable(response: HttpResponse) -> str:
    """A 200 a shared cache may keep, with nothing of the visitor's in it."""
    html = response.content.decode()
    assert response.status_code == 200
    cache_control = response["Cache-Control"]
    assert "public" in cache_control and "s-maxage" in cache_control, cache_control
    assert "private" not in cache_control
    assert not response.cookies, response.cookies  # no Set-Cookie at all
    assert "csrfmiddlewaretoken" not in html
    assert "header-cart__count" not in html
    return html


def assert_private(response: HttpResponse) -> None:
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def cart_of(client: Client) -> dict:
    return client.session.get(SESSION_KEY, {})


@pytest.fixture(autouse=True)
def _caching_on(settings):
    settings.PUBLIC_CACHE_SECONDS = 300


@pytest.fixture
def painting():
    return ArtworkFactory(title="Salt Meridian", price=Decimal("1200.00"))


@pytest.fixture
def cached_page(painting) -> str:
    """Visitor A's copy of the artwork page, as CloudFront would keep and replay it."""
    visitor_a = Client(enforce_csrf_checks=True)
    return assert_shareable(visitor_a.get(f"/artworks/{painting.slug}/"))


# --- The replayed page, with JavaScript --------------------------------------------------------


def test_a_visitor_served_another_visitors_cached_page_adds_to_cart_and_enquires(
    cached_page, painting, django_capture_on_commit_callbacks
):
    visitor_b = Client(enforce_csrf_checks=True)  # no cookies of A's, none of its own yet
    buy = form_to(cached_page, "/shop/cart/add/")
    enquiry = form_to(cached_page, f"/artworks/{painting.slug}/enquire/")
    assert "js/forms.js" in cached_page
    assert buy.attrs["data-csrf"] == enquiry.attrs["data-csrf"] == "/csrf/"

    # forms.js: on submit, GET the token endpoint, add the token, post.
    answer = visitor_b.get(buy.attrs["data-csrf"], HTTP_ACCEPT="application/json")
    assert_private(answer)
    token = json.loads(answer.content)["token"]
    added = visitor_b.post(buy.action, {**buy.fields, "csrfmiddlewaretoken": token})
    assert added.status_code == 302 and added["Location"] == "/shop/cart/"
    assert cart_of(visitor_b) == {str(painting.pk): 1}
    assert "Salt Meridian" in visitor_b.get("/shop/cart/").content.decode()

    sent = {"name": "Ana Ruiz", "email": "ana@example.com", "message": "Is it framed?"}
    token = json.loads(visitor_b.get(enquiry.attrs["data-csrf"]).content)["token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor_b.post(
            enquiry.action, {**enquiry.fields, **sent, "csrfmiddlewaretoken": token}
        )
    assert response.status_code == 302
    inquiry = ArtworkInquiry.objects.get(artwork=painting)
    assert (inquiry.name, inquiry.email, inquiry.message) == tuple(sent.values())
    [email] = mail.outbox
    assert "Salt Meridian" in email.subject and email.reply_to == ["ana@example.com"]


# --- The replayed page, without JavaScript -----------------------------------------------------


def test_without_javascript_the_cart_asks_for_one_confirmation_then_adds(cached_page, painting):
    visitor_c = Client(enforce_csrf_checks=True)
    buy = form_to(cached_page, "/shop/cart/add/")
    asked = visitor_c.post(buy.action, buy.fields)
    html = asked.content.decode()
    # Refused (nothing done yet), with the way on: what it is, and one Confirm button.
    assert asked.status_code == 403
    assert cart_of(visitor_c) == {}
    assert "Add this work to your cart?" in html
    assert "“Salt Meridian” by" in html
    assert html.count(">Confirm</button>") == 1
    assert_private(asked)
    assert asked["X-Frame-Options"] == "DENY"
    assert "csrftoken" in asked.cookies  # the fresh token's cookie

    confirm = form_to(html, "/shop/cart/add/")
    assert set(confirm.fields) == {"csrfmiddlewaretoken", "artwork", "quantity", "csrf_confirm"}
    added = visitor_c.post(confirm.action, confirm.fields)
    assert added.status_code == 302
    assert cart_of(visitor_c) == {str(painting.pk): 1}


def test_without_javascript_an_enquiry_is_confirmed_and_nothing_is_lost(
    cached_page, painting, django_capture_on_commit_callbacks
):
    visitor_c = Client(enforce_csrf_checks=True)
    enquiry = form_to(cached_page, f"/artworks/{painting.slug}/enquire/")
    message = "Is it still available?\nI could collect it — Thursday at 10 & “after”."
    sent = {"name": "Ana Ruiz", "email": "ana@example.com", "phone": "", "message": message}
    asked = visitor_c.post(enquiry.action, {**enquiry.fields, **sent})
    html = asked.content.decode()
    assert asked.status_code == 403
    assert not ArtworkInquiry.objects.exists()
    assert "Send this enquiry?" in html and "About “Salt Meridian” by" in html
    assert escape("I could collect it — Thursday at 10 & “after”.") in html  # readable summary

    confirm = form_to(html, f"/artworks/{painting.slug}/enquire/")
    assert confirm.fields["message"] == message
    with django_capture_on_commit_callbacks(execute=True):
        done = visitor_c.post(confirm.action, confirm.fields)
    assert done.status_code == 302
    inquiry = ArtworkInquiry.objects.get(artwork=painting)
    assert inquiry.message == message and inquiry.name == "Ana Ruiz"
    assert len(mail.outbox) == 1
    assert "Thank you" in visitor_c.get(done["Location"]).content.decode()


def test_an_enquiry_refused_by_its_form_keeps_a_token_and_stays_private(cached_page, painting):
    visitor = Client(enforce_csrf_checks=True)
    enquiry = form_to(cached_page, f"/artworks/{painting.slug}/enquire/")
    token = json.loads(visitor.get("/csrf/").content)["token"]
    bad = {**enquiry.fields, "name": "Ana", "email": "nope", "csrfmiddlewaretoken": token}
    refused = visitor.post(enquiry.action, bad)
    assert refused.status_code == 400
    assert_private(refused)
    retry = form_to(refused.content.decode(), f"/artworks/{painting.slug}/enquire/")
    retry.fields.update(email="ana@example.com", message="Hello")
    assert retry.fields["csrfmiddlewaretoken"]  # no JavaScript needed to correct and resend
    assert visitor.post(retry.action, retry.fields).status_code == 302


# --- Drop reminders ----------------------------------------------------------------------------


def test_a_cached_drop_page_lets_another_visitor_ask_for_a_reminder(
    painting, django_capture_on_commit_callbacks
):
    drop = DropPageFactory(
        title="Tidewater Release", starts_at=DROP_START, ends_at=DROP_START + timedelta(days=2),
        works=[painting],
    )  # fmt: skip
    with time_machine.travel(DROP_START - timedelta(days=2), tick=False):
        cached = assert_shareable(Client(enforce_csrf_checks=True).get(drop.url))
        notify = form_to(cached, f"/drop-alerts/{drop.pk}/subscribe/")
        visitor_b = Client(enforce_csrf_checks=True)
        with django_capture_on_commit_callbacks(execute=True):
            response = visitor_b.post(notify.action, {**notify.fields, "email": "b@example.com"})
    assert response.status_code == 302
    assert DropSubscription.objects.get(drop=drop).email == "b@example.com"
    [email] = mail.outbox
    assert email.to == ["b@example.com"]  # double opt-in: it counts once its owner confirms


# --- The fallback under attack -----------------------------------------------------------------


def test_hostile_input_is_escaped_and_capped_and_unknown_fields_are_dropped(cached_page, painting):
    visitor = Client(enforce_csrf_checks=True)
    enquiry = form_to(cached_page, f"/artworks/{painting.slug}/enquire/")
    hostile = {
        **enquiry.fields,
        "name": "<script>alert(1)</script>",
        "email": '"><img src=x onerror=alert(2)>@example.com',
        "message": "x" * (MAX_VALUE_LENGTH * 5),
        "next": "https://evil.example/",
        "csrf_confirm_extra": "<b>sneaky</b>",
    }
    asked = visitor.post(enquiry.action, hostile)
    html = asked.content.decode()
    assert asked.status_code == 403
    for raw in ("<script>alert(1)", "<img src=x", "<b>sneaky", "evil.example"):
        assert raw not in html, raw
    assert escape("<script>alert(1)</script>") in html
    confirm = form_to(html, f"/artworks/{painting.slug}/enquire/")
    assert confirm.fields["name"] == "<script>alert(1)</script>"  # carried as text, intact
    assert len(confirm.fields["message"]) == MAX_VALUE_LENGTH
    assert "next" not in confirm.fields and "csrf_confirm_extra" not in confirm.fields
    assert len(html) < 3 * MAX_VALUE_LENGTH + 20_000  # shown once, carried once, and the page
    # The view still judges what it gets: the overlong message is refused, nothing stored.
    assert visitor.post(confirm.action, confirm.fields).status_code == 400
    assert not ArtworkInquiry.objects.exists()


@pytest.mark.parametrize("artwork", ["²", "9" * 30, "1; DROP TABLE", "\u0000", ""])
def test_a_bad_artwork_id_gets_the_confirmation_and_then_the_carts_own_error(artwork):
    visitor = Client(enforce_csrf_checks=True)
    asked = visitor.post("/shop/cart/add/", {"artwork": artwork, "quantity": "1"})
    assert asked.status_code == 403 and "Add this work to your cart?" in asked.content.decode()
    confirm = form_to(asked.content.decode(), "/shop/cart/add/")
    # The cart's own answer: a form error (400), or no such work (back to the cart, with why).
    assert visitor.post(confirm.action, confirm.fields).status_code in (302, 400)
    assert cart_of(visitor) == {}


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/shop/checkout/", {"email": "a@example.com", "country": "GB"}),
        ("/shop/cart/update/", {"artwork": "1", "quantity": "2"}),
        ("/shop/cart/remove/", {"artwork": "1"}),
        ("/admin/login/", {"username": "admin", "password": "x"}),
        ("/drop-alerts/1/subscribe/me/", {}),
    ],
)
def test_other_forms_without_a_token_get_a_clear_403_and_nothing_re_presented(path, data):
    response = Client(enforce_csrf_checks=True).post(path, {**data, "marker": "Zq9-kept"})
    html = response.content.decode()
    assert response.status_code == 403
    assert "We could not accept this form" in html and "reload the page" in html
    assert "Confirm" not in html and "Zq9-kept" not in html
    assert "csrfmiddlewaretoken" not in html
    assert_private(response)


def test_a_form_sent_from_another_site_is_refused_without_a_confirmation(painting):
    attacker = Client(enforce_csrf_checks=True)
    fields = {"artwork": painting.pk, "quantity": 1}
    for headers in (
        {"HTTP_ORIGIN": "https://evil.example"},
        {"secure": True, "HTTP_REFERER": "https://evil.example/page"},
    ):
        response = attacker.post("/shop/cart/add/", fields, **headers)
        html = response.content.decode()
        assert response.status_code == 403
        assert "sent from another website" in html and "Confirm" not in html
        assert cart_of(attacker) == {}


def test_an_https_form_with_neither_origin_nor_referer_is_refused_with_the_reason(painting):
    visitor = Client(enforce_csrf_checks=True)
    fields = {"artwork": painting.pk, "quantity": 1}
    response = visitor.post("/shop/cart/add/", fields, secure=True)
    assert response.status_code == 403
    assert "did not say which page the form came from" in response.content.decode()
    assert cart_of(visitor) == {}


def test_a_browser_that_keeps_no_cookie_is_told_so_instead_of_asked_again(painting):
    visitor = Client(enforce_csrf_checks=True)
    asked = visitor.post("/shop/cart/add/", {"artwork": painting.pk, "quantity": 1})
    confirm = form_to(asked.content.decode(), "/shop/cart/add/")
    visitor.cookies.clear()  # cookies off
    response = visitor.post(confirm.action, confirm.fields)
    assert response.status_code == 403
    assert "did not keep our security cookie" in response.content.decode()
    assert cart_of(visitor) == {}


# --- Never cached: the token endpoint and pages that asked for a token -------------------------


def test_the_token_endpoint_is_never_cacheable():
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.get("/csrf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert_private(response)
    assert "public" not in response["Cache-Control"] and "s-maxage" not in response["Cache-Control"]
    assert "csrftoken" in response.cookies
    assert json.loads(response.content)["token"]
    assert visitor.post("/csrf/").status_code in (403, 405)  # GET only


def _render(template: str, request) -> HttpResponse:
    response = TemplateResponse(request, engines["django"].from_string(template))
    response = apply_public_cache_headers(request, response)
    return response.render()


def test_a_response_with_a_cookie_or_a_token_is_never_sent_as_public(rf: RequestFactory):
    plain = _render("<p>Same for everyone</p>", rf.get("/"))
    assert "public" in plain["Cache-Control"]  # (the control: this one may be shared)

    asked = _render("<form>{% csrf_token %}</form>", rf.get("/"))  # decided after rendering
    assert_private(asked)
    assert "public" not in asked["Cache-Control"]

    flagged = rf.get("/")
    flagged.META["CSRF_COOKIE_NEEDS_UPDATE"] = True  # e.g. a malformed cookie being replaced
    assert_private(apply_public_cache_headers(flagged, HttpResponse("ok")))

    with_cookie = HttpResponse("ok")
    with_cookie.set_cookie("seen", "1")
    assert_private(apply_public_cache_headers(rf.get("/"), with_cookie))


@pytest.mark.parametrize("path", ["/", "/artworks/", "/artists/", "/search/?query=salt"])
def test_public_pages_carry_no_visitors_state(path, painting):
    assert_shareable(Client(enforce_csrf_checks=True).get(path))


def test_a_visitor_with_a_session_gets_a_private_no_store_page(painting):
    visitor = Client(enforce_csrf_checks=True)
    token = json.loads(visitor.get("/csrf/").content)["token"]
    added = {"artwork": painting.pk, "quantity": 1, "csrfmiddlewaretoken": token}
    assert visitor.post("/shop/cart/add/", added).status_code == 302
    page = visitor.get(f"/artworks/{painting.slug}/")
    assert_private(page)
    assert "header-cart__count" in page.content.decode()
    for path in ("/shop/cart/", "/shop/checkout/"):
        assert_private(visitor.get(path))
