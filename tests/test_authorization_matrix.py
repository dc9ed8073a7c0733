"""Who may open what: every role against every admin area, account page and shop page.

The table below is the rule; the README's "Roles" section reproduces it (a test checks that it
does, so the two cannot drift apart). Outcomes:

- ``ok``: the page opens (200)
- ``login``: sent to sign in (the admin's sign-in for the admin, the collectors' for the rest)
- ``denied``: refused (403, or Wagtail's "no permission" bounce back to the dashboard)
- ``account``: sent on to the account (``/shop/orders/`` → ``/accounts/orders/``; sign-in and
  sign-up when already signed in → ``/accounts/``)
- ``subtree``: the page explorer opens on the part of the tree the role may edit
- ``404``: not found (an order link without its token: the same for everyone)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from wagtail.models import Site

from artworks.models import Artwork
from curations.models import ArtworkCollectionPage
from drops.factories import drop_index
from home.models import HomePage
from stories.models import StoryPage
from tests.collector_support import PASSWORD, make_collector, place_order

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "collector", "editor", "curator", "shop manager", "superuser")

# area: (anonymous, collector, editor, curator, shop manager, superuser)
MATRIX: dict[str, tuple[str, ...]] = {
    # --- the admin ---
    "admin: dashboard": ("login", "login", "ok", "ok", "ok", "ok"),
    "admin: page explorer": ("login", "login", "ok", "subtree", "denied", "ok"),
    "admin: edit the home page": ("login", "login", "ok", "denied", "denied", "ok"),
    "admin: edit a story": ("login", "login", "ok", "denied", "denied", "ok"),
    "admin: edit the drops index": ("login", "login", "ok", "ok", "denied", "ok"),
    "admin: edit a collection": ("login", "login", "ok", "ok", "denied", "ok"),
    "admin: artworks": ("login", "login", "ok", "ok", "denied", "ok"),
    "admin: drop calendar": ("login", "login", "ok", "ok", "denied", "ok"),
    "admin: orders": ("login", "login", "denied", "denied", "ok", "ok"),
    "admin: an order": ("login", "login", "denied", "denied", "ok", "ok"),
    "admin: enquiries": ("login", "login", "denied", "denied", "ok", "ok"),
    "admin: drop subscriptions": ("login", "login", "denied", "denied", "ok", "ok"),
    "admin: collectors": ("login", "login", "denied", "denied", "ok", "ok"),
    "admin: shop settings": ("login", "login", "denied", "denied", "ok", "ok"),
    "admin: import artworks": ("login", "login", "denied", "denied", "ok", "ok"),
    "admin: users": ("login", "login", "denied", "denied", "denied", "ok"),
    "admin: groups": ("login", "login", "denied", "denied", "denied", "ok"),
    "admin: site settings": ("login", "login", "denied", "denied", "denied", "ok"),
    "admin: sign-in lockouts": ("login", "login", "denied", "denied", "denied", "ok"),
    # --- the collector's account ---
    "account: profile": ("login", "ok", "ok", "ok", "ok", "ok"),
    "account: addresses": ("login", "ok", "ok", "ok", "ok", "ok"),
    "account: orders": ("login", "ok", "ok", "ok", "ok", "ok"),
    "account: email": ("login", "ok", "ok", "ok", "ok", "ok"),
    "account: password": ("login", "ok", "ok", "ok", "ok", "ok"),
    "account: privacy": ("login", "ok", "ok", "ok", "ok", "ok"),
    "account: data export": ("login", "ok", "ok", "ok", "ok", "ok"),
    "account: sign in": ("ok", "account", "account", "account", "account", "account"),
    "account: sign up": ("ok", "account", "account", "account", "account", "account"),
    # --- the shop ---
    "shop: cart": ("ok", "ok", "ok", "ok", "ok", "ok"),
    "shop: /shop/orders/": ("login", "account", "ok", "ok", "ok", "ok"),
    "shop: someone's order without its link": ("404", "404", "404", "404", "404", "404"),
}


def _urls(order) -> dict[str, str]:
    site = Site.objects.get(is_default_site=True)
    return {
        "admin: dashboard": reverse("wagtailadmin_home"),
        "admin: page explorer": reverse("wagtailadmin_explore_root"),
        "admin: edit the home page": reverse(
            "wagtailadmin_pages:edit", args=[HomePage.objects.get(depth=2).pk]
        ),
        "admin: edit a story": reverse(
            "wagtailadmin_pages:edit", args=[StoryPage.objects.first().pk]
        ),
        "admin: edit the drops index": reverse("wagtailadmin_pages:edit", args=[drop_index().pk]),
        "admin: edit a collection": reverse(
            "wagtailadmin_pages:edit", args=[ArtworkCollectionPage.objects.first().pk]
        ),
        "admin: artworks": reverse(Artwork.snippet_viewset.get_url_name("list")),
        "admin: drop calendar": reverse("drops_calendar"),
        "admin: orders": reverse("shop_order_modeladmin_index"),
        "admin: an order": reverse("shop_order_modeladmin_inspect", args=[order.pk]),
        "admin: enquiries": reverse("artworkinquiry:index"),
        "admin: drop subscriptions": reverse("drop_subscriptions:index"),
        "admin: collectors": reverse("collectors_admin:index"),
        "admin: shop settings": reverse(
            "wagtailsettings:edit", args=("shop", "shopsettings", site.pk)
        ),
        "admin: import artworks": reverse("imports_index"),
        "admin: users": reverse("wagtailusers_users:index"),
        "admin: groups": reverse("wagtailusers_groups:index"),
        "admin: site settings": reverse(
            "wagtailsettings:edit", args=("core", "sitesettings", site.pk)
        ),
        "admin: sign-in lockouts": reverse("core_lockouts"),
        "account: profile": reverse("collectors:profile"),
        "account: addresses": reverse("collectors:addresses"),
        "account: orders": reverse("collectors:orders"),
        "account: email": reverse("account_email"),
        "account: password": reverse("account_change_password"),
        "account: privacy": reverse("collectors:privacy"),
        "account: data export": reverse("collectors:data_export"),
        "account: sign in": reverse("account_login"),
        "account: sign up": reverse("account_signup"),
        "shop: cart": reverse("shop:cart"),
        "shop: /shop/orders/": reverse("shop:order_list"),
        "shop: someone's order without its link": order.get_absolute_url(),
    }


def _staff(username: str, group: str):
    user = get_user_model().objects.create_user(
        username, f"{username}@artspot.test", PASSWORD, is_staff=True
    )
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def people() -> dict[str, object]:
    return {
        "anonymous": None,
        "collector": make_collector("cole@example.com"),
        "editor": _staff("eddie", "Editors"),
        "curator": _staff("cora", "Curators"),
        "shop manager": _staff("sam", "Shop managers"),
        "superuser": get_user_model().objects.create_superuser(
            "root", "root@artspot.test", PASSWORD
        ),
    }


def outcome(response) -> str:
    if response.status_code == 200:
        return "ok"
    if response.status_code == 404:
        return "404"
    if response.status_code == 403:
        return "denied"
    if response.status_code == 302:
        target = response["Location"].split("?")[0]
        if target in (reverse("wagtailadmin_login"), reverse("account_login")):
            return "login"
        if target == reverse("wagtailadmin_home"):
            return "denied"
        if target in (reverse("collectors:orders"), reverse("collectors:home")):
            return "account"
        if target.startswith(reverse("wagtailadmin_explore_root")):
            return "subtree"
        return f"302 {target}"
    return str(response.status_code)


def test_every_role_against_every_area(people):
    order = place_order("someone@example.com")
    urls = _urls(order)
    assert set(urls) == set(MATRIX)
    found: dict[str, tuple[str, ...]] = {}
    for area, url in urls.items():
        row = []
        for role in ROLES:
            client = Client()
            if people[role] is not None:
                client.force_login(people[role])
            row.append(outcome(client.get(url)))
        found[area] = tuple(row)
    differences = {
        area: {"expected": MATRIX[area], "found": found[area]}
        for area in MATRIX
        if found[area] != MATRIX[area]
    }
    assert differences == {}, "\n".join(
        f"{area}: expected {d['expected']}, found {d['found']}" for area, d in differences.items()
    )


def test_anonymous_admin_areas_go_to_the_admin_sign_in_and_account_pages_to_the_collectors():
    client = Client()
    admin = client.get(reverse("shop_order_modeladmin_index"))
    assert admin["Location"].startswith(reverse("wagtailadmin_login"))
    account = client.get(reverse("collectors:orders"))
    assert account["Location"].startswith(reverse("account_login"))


def markdown_table() -> str:
    header = "| Area | " + " | ".join(role.capitalize() for role in ROLES) + " |"
    rule = "|---|" + "---|" * len(ROLES)
    rows = [f"| {area} | " + " | ".join(cells) + " |" for area, cells in MATRIX.items()]
    return "\n".join([header, rule, *rows])


def test_the_readme_reproduces_the_matrix():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert markdown_table() in readme, "README's Roles table differs; paste markdown_table()"
