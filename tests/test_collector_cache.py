"""Accounts leave public pages shared: the header's account link is the same for everyone, and
the pages keep their shared-cache headers and query budgets for anonymous visitors."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from artworks.models import Artwork
from tests.collector_support import make_collector

pytestmark = pytest.mark.django_db

HEADER = re.compile(r'<header class="site-header">.*?</header>', re.S)


def _header(html: str) -> str:
    header = HEADER.search(html).group(0)
    # The cart count is the visitor's own (a session makes the page private anyway).
    return re.sub(r'<a class="header-cart".*?</a>', "", header, flags=re.S)


def test_public_pages_stay_shared_with_the_account_link(client, django_assert_max_num_queries):
    work = Artwork.objects.public().first()
    for path in ("/", "/artworks/", work.get_url()):
        anonymous = Client().get(path)
        assert anonymous.status_code == 200, path
        assert "s-maxage" in anonymous["Cache-Control"], path
        assert "public" in anonymous["Cache-Control"], path
        assert not anonymous.cookies, path
        assert 'href="/accounts/">Account</a>' in anonymous.text

    with django_assert_max_num_queries(8):
        Client().get("/")  # the home page's budget (docs/decisions.md), renditions cached now


def test_the_header_is_the_same_for_a_signed_in_collector_and_a_guest(client):
    collector = Client()
    collector.force_login(make_collector("ana@example.com"))
    signed_in = collector.get("/")
    anonymous = Client().get("/")
    assert _header(signed_in.text) == _header(anonymous.text)
    assert "ana@example.com" not in signed_in.text
    # The signed-in view carries a session: never stored by a shared cache.
    assert "no-store" in signed_in["Cache-Control"] or "private" in signed_in["Cache-Control"]


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/", "/accounts/"]
)
def test_account_pages_are_never_stored(client, path):
    response = Client().get(path)
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
