"""Content-Security-Policy, Permissions-Policy and the violation report endpoint.

The real-browser check (zero violations in Chromium) is tests/browser/test_csp.py; the same
headers under production settings are checked in tests/test_production_settings.py.
"""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal

import pytest
from django.test import Client
from wagtail.models import Site

from artists.models import ArtistPage
from artworks.factories import ArtworkFactory
from core.csp import MAX_REPORT_BYTES
from core.models import SiteSettings
from curations.models import ArtworkCollectionPage
from drops.models import DropPage
from stories.models import StoryPage

pytestmark = pytest.mark.django_db

REPORT_URI_BODY = {
    "csp-report": {
        "document-uri": "https://artspot.example/artworks/x/",
        "referrer": "",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "original-policy": "default-src 'self'",
        "disposition": "enforce",
        "blocked-uri": "inline",
        "line-number": 12,
        "source-file": "https://artspot.example/artworks/x/",
        "script-sample": "alert(1)",
    }
}
REPORTS_JSON_BODY = [
    {
        "type": "csp-violation",
        "age": 10,
        "url": "https://artspot.example/",
        "user_agent": "Chrome",
        "body": {
            "documentURL": "https://artspot.example/",
            "blockedURL": "https://evil.example/x.js",
            "effectiveDirective": "script-src-elem",
            "originalPolicy": "default-src 'self'",
            "disposition": "enforce",
            "sample": "",
            "statusCode": 200,
            "lineNumber": 3,
            "sourceFile": "https://artspot.example/",
        },
    },
    {"type": "deprecation", "body": {"id": "X", "message": "not ours"}},
    {
        "type": "csp-violation",
        "body": {"documentURL": "https://artspot.example/b/", "effectiveDirective": "img-src"},
    },
]


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


@pytest.fixture
def painting():
    return ArtworkFactory(title="Estuary at Dusk", price=Decimal("1800.00"))


@pytest.fixture
def cart_with(client, painting):
    response = client.post("/shop/cart/add/", {"artwork": painting.pk, "quantity": 1})
    assert response.status_code == 302
    return client


def _strict_public_policy(response) -> None:
    policy = directives(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'", "https://checkout.stripe.com"]
    assert policy["report-uri"] == ["/csp-report/"]
    assert policy["report-to"] == ["csp"]
    assert "nonce-" not in response["Content-Security-Policy"]
    assert response["Reporting-Endpoints"] == 'csp="/csp-report/"'


def test_home_and_artwork_pages_are_cacheable_with_a_strict_policy_and_no_nonce(client, painting):
    # Home may be private for a moment while a demo drop opens; About and the work are not.
    for path in ["/", "/about/", painting.get_url()]:
        response = client.get(path)
        assert response.status_code == 200
        if path != "/":
            assert "public" in response["Cache-Control"]  # a shared cache may keep it …
        _strict_public_policy(response)  # … so its policy has no nonce
        assert "nonce" not in response.content.decode()


def test_checkout_page_has_the_strict_policy(cart_with):
    response = cart_with.get("/shop/checkout/")
    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()
    _strict_public_policy(response)


def test_public_pages_carry_no_inline_script_or_style(client, painting):
    """What the policy would refuse: inline scripts (JSON-LD is data), style attributes, <style>."""
    paths = [
        "/",
        "/artworks/",
        painting.get_url(),
        ArtistPage.objects.live().first().url,
        StoryPage.objects.live().first().url,
        ArtworkCollectionPage.objects.live().first().url,
        DropPage.objects.live().first().url,
        "/search/?q=light",
        "/shop/cart/",
        "/no-such-page/",
    ]
    for path in paths:
        html = client.get(path).content.decode()
        inline = [
            tag
            for tag in re.findall(r"<script\b[^>]*>", html)
            if "src=" not in tag and 'type="application/ld+json"' not in tag
        ]
        assert inline == [], path
        assert not re.search(r"<[^>]+\sstyle=", html), path
        assert "<style" not in html, path
        assert re.search(r"\son[a-z]+=", html) is None, path  # no event-handler attributes


def test_analytics_pages_allow_the_tag_manager_and_others_do_not(client):
    assert "googletagmanager" not in client.get("/")["Content-Security-Policy"]
    settings = SiteSettings.for_site(Site.objects.get(is_default_site=True))
    settings.analytics_id = "G-ABC1234567"
    settings.save()
    response = client.get("/")
    html = response.content.decode()
    assert 'data-analytics-id="G-ABC1234567"' in html
    policy = directives(response)
    assert policy["script-src"] == ["'self'", "https://www.googletagmanager.com"]
    assert "https://*.google-analytics.com" in policy["connect-src"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_the_admin_has_its_own_policy(client, admin_user):
    public = client.get("/")["Content-Security-Policy"]
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    admin = response["Content-Security-Policy"]
    assert admin != public
    policy = directives(response)
    # What Wagtail's editors need (tests/browser/test_csp.py): inline scripts, and <style>
    # elements its bundle adds; style attributes stay refused.
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["style-src-elem"] == ["'self'", "'unsafe-inline'"]
    assert policy["object-src"] == ["'none'"]
    assert "data:" in policy["img-src"]
    assert "nonce-" not in admin
    # The login page too: it is under the admin's prefix.
    assert Client().get("/admin/login/")["Content-Security-Policy"] == admin


def test_permissions_policy_on_every_response(client, admin_user):
    responses = [client.get("/"), client.get("/no-such-page/"), client.post("/csp-report/")]
    client.force_login(admin_user)
    responses.append(client.get("/admin/"))
    for response in responses:
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy


# --- The report endpoint -------------------------------------------------------------------------


def _post(client, body, content_type="application/csp-report"):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/csp-report/", data, content_type=content_type)


def test_a_report_uri_report_is_logged_as_a_structured_warning(caplog):
    client = Client(enforce_csrf_checks=True)  # browsers send no CSRF token
    with caplog.at_level(logging.WARNING, logger="artspot.csp"):
        response = _post(client, REPORT_URI_BODY)
    assert response.status_code == 204
    assert "Set-Cookie" not in response
    [record] = [r for r in caplog.records if r.name == "artspot.csp"]
    assert record.levelno == logging.WARNING
    assert record.csp_directive == "script-src-elem"
    assert record.csp_blocked == "inline"
    assert record.csp_document == "https://artspot.example/artworks/x/"
    assert record.csp_line == 12
    assert record.csp_sample == "alert(1)"


def test_a_reporting_api_batch_logs_each_violation_and_skips_other_reports(caplog):
    with caplog.at_level(logging.WARNING, logger="artspot.csp"):
        response = _post(Client(), REPORTS_JSON_BODY, "application/reports+json")
    assert response.status_code == 204
    records = [r for r in caplog.records if r.name == "artspot.csp"]
    assert [(r.csp_document, r.csp_directive) for r in records] == [
        ("https://artspot.example/", "script-src-elem"),
        ("https://artspot.example/b/", "img-src"),
    ]
    assert records[0].csp_blocked == "https://evil.example/x.js"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[1, 2]",
        b'{"csp-report": "x"}',
        b'{"something": {}}',
        b"null",
        b'"text"',
        b"[" * 5000,  # deeper than the JSON parser's recursion limit
    ],
)
def test_garbage_is_a_400_with_a_message_and_logs_nothing(caplog, body):
    with caplog.at_level(logging.WARNING, logger="artspot.csp"):
        response = _post(Client(), body)
    assert response.status_code == 400
    assert response.content
    assert not [r for r in caplog.records if r.name == "artspot.csp"]


def test_hostile_field_values_are_cut_short_and_typed(caplog):
    body = {
        "csp-report": {
            "document-uri": "x" * 100_00,
            "effective-directive": ["list"],
            "blocked-uri": {"a": 1},
            "line-number": "12; DROP TABLE",
        }
    }
    with caplog.at_level(logging.WARNING, logger="artspot.csp"):
        assert _post(Client(), body).status_code == 204
    [record] = [r for r in caplog.records if r.name == "artspot.csp"]
    assert len(record.csp_document) == 300
    assert (record.csp_directive, record.csp_blocked, record.csp_line) == ("", "", None)


def test_an_oversized_report_is_refused_unread():
    response = _post(Client(), b"[" + b" " * MAX_REPORT_BYTES + b"]")
    assert response.status_code == 413


def test_only_post_is_accepted():
    assert Client().get("/csp-report/").status_code == 405


def test_reports_are_rate_limited_per_client_address(caplog):
    client = Client()
    statuses = [_post(client, REPORT_URI_BODY).status_code for _ in range(61)]
    assert statuses[:60] == [204] * 60
    assert statuses[60] == 429
    # Another address still reports.
    assert _post(Client(REMOTE_ADDR="10.0.0.9"), REPORT_URI_BODY).status_code == 204
