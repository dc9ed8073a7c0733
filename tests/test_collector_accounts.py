"""Collectors' accounts end to end through the test client, as a collector's browser would go.

Sign-up, the verification email (the site's real templates), signing in, password reset, change
of email, the profile and saved addresses (checked exactly as checkout checks them), orders under
the account, guest carts and guest orders joining the account, the admin kept for staff, the
limits on sign-in, sign-up and reset, and hostile input. The IDOR test walks every URL pattern of
the account's URLconf that takes an id or a number.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from artworks.factories import ArtworkFactory
from collectors.models import (
    ArtistAlerts,
    CollectorProfile,
    FollowedArtist,
    SavedAddress,
    SavedWork,
)
from shop.models import Order
from tests.collector_support import PASSWORD, CommittingClient, make_collector, place_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    return CommittingClient(client, django_capture_on_commit_callbacks)


LINK = re.compile(r"http://testserver(/accounts/\S+)")


def _link(message) -> str:
    found = LINK.search(message.body)
    assert found, message.body
    return found.group(1)


def _login(client: Client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# --- sign up → verify → sign in → reset → sign in ---------------------------------------------


def test_sign_up_verify_sign_in_reset_and_sign_in_with_the_new_password(client):
    email = "mara.collector@example.com"

    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    assert 'class="site-header"' in page.text  # the site's own design, not allauth's default
    response = client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not _signed_in(client)
    assert len(mail.outbox) == 1
    welcome = mail.outbox[0]
    assert welcome.to == [email]
    assert welcome.subject == "ArtSpot: Confirm your email address"
    assert "Thank you for creating an ArtSpot account" in welcome.body
    confirm_path = _link(welcome)

    # Not verified yet: signing in sends the link again instead of signing in.
    refused = _login(client, email, PASSWORD)
    assert refused.status_code == 302
    assert refused["Location"] == reverse("account_email_verification_sent")
    assert not _signed_in(client)

    # The link asks for one click (a mail scanner's GET confirms nothing).
    assert client.get(confirm_path).status_code == 200
    assert not EmailAddress.objects.get(email=email).verified
    assert client.post(confirm_path).status_code == 302
    assert EmailAddress.objects.get(email=email).verified

    signed_in = _login(client, email, PASSWORD)
    assert signed_in.status_code == 302
    assert _signed_in(client)
    profile = client.get(reverse("collectors:profile"))
    assert profile.status_code == 200
    assert email in profile.text
    assert "no-store" in profile["Cache-Control"]
    client.post(reverse("account_logout"))
    assert not _signed_in(client)

    mail.outbox.clear()
    assert client.post(reverse("account_reset_password"), {"email": email}).status_code == 302
    assert len(mail.outbox) == 1
    reset = mail.outbox[0]
    assert reset.subject == "ArtSpot: Reset your password"
    reset_page = client.get(_link(reset), follow=True)
    assert reset_page.status_code == 200
    assert "Choose a new password" in reset_page.text
    new_password = "another-Long-passphrase-77"
    done = client.post(
        reset_page.redirect_chain[-1][0] if reset_page.redirect_chain else _link(reset),
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302

    assert _login(client, email, PASSWORD).status_code == 200  # the old one no longer works
    assert not _signed_in(client)
    assert _login(client, email, new_password).status_code == 302
    assert _signed_in(client)


def test_signing_up_with_a_taken_address_reveals_nothing_and_tells_the_owner(client):
    make_collector("taken@example.com")
    response = client.post(
        reverse("account_signup"),
        {"email": "Taken@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    # The same answer as a new address: the page does not say the address has an account.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert get_user_model().objects.filter(email__iexact="taken@example.com").count() == 1
    assert [m.subject for m in mail.outbox] == ["ArtSpot: You already have an account"]


def test_change_of_email_is_verified_before_it_counts(client):
    user = make_collector("old@example.com")
    client.force_login(user)
    response = client.post(reverse("account_email"), {"action_add": "", "email": "new@example.com"})
    assert response.status_code == 302
    new = EmailAddress.objects.get(email="new@example.com")
    assert not new.verified
    assert EmailAddress.objects.get(email="old@example.com").primary
    assert mail.outbox[-1].to == ["new@example.com"]
    confirm_path = _link(mail.outbox[-1])
    client.post(confirm_path)
    new.refresh_from_db()
    assert new.verified and new.primary
    user.refresh_from_db()
    assert user.email == "new@example.com"
    # One address at a time: the old one is gone.
    assert not EmailAddress.objects.filter(email="old@example.com").exists()


# --- profile and addresses ------------------------------------------------------------------


def test_profile_keeps_name_and_a_checked_phone(client):
    user = make_collector("pat@example.com")
    client.force_login(user)
    bad = client.post(reverse("collectors:profile"), {"name": "Pat Kerr", "phone": "12"})
    assert bad.status_code == 400
    assert "phone number" in bad.text
    ok = client.post(reverse("collectors:profile"), {"name": "Pat Kerr", "phone": "020 7946 0018"})
    assert ok.status_code == 302
    profile = CollectorProfile.objects.get(user=user)
    assert (profile.name, profile.phone) == ("Pat Kerr", "+442079460018")


def _address(**overrides) -> dict:
    return {
        "country": "GB",
        "name": "Pat Kerr",
        "line1": "10 Downing Street",
        "line2": "",
        "city": "London",
        "postal_code": "sw1a2aa",
        "phone": "020 7946 0018",
        **overrides,
    }


def test_saved_addresses_are_checked_as_checkout_checks_them(client):
    user = make_collector("pat@example.com")
    client.force_login(user)
    url = reverse("collectors:address_add")

    bad = client.post(url, _address(postal_code="NOT A CODE"))
    assert bad.status_code == 400
    assert "Enter a valid UK postcode, such as SW1A 1AA." in bad.text
    assert not SavedAddress.objects.exists()

    us = client.post(
        url,
        _address(country="US", city="San Francisco", region="california", postal_code="94110",
                 phone="+1 415 555 0132", line1="1 Market St"),
    )  # fmt: skip
    assert us.status_code == 302
    saved = SavedAddress.objects.get(user=user)
    assert (saved.region, saved.postal_code, saved.phone) == ("CA", "94110", "+14155550132")
    assert saved.is_default

    assert client.post(url, _address(is_default="on")).status_code == 302
    uk = SavedAddress.objects.get(user=user, country="GB")
    assert uk.postal_code == "SW1A 2AA"
    assert uk.is_default
    saved.refresh_from_db()
    assert not saved.is_default  # one default at a time
    listing = client.get(reverse("collectors:addresses"))
    assert "SW1A 2AA" in listing.text and "San Francisco, CA 94110" in listing.text

    edit = reverse("collectors:address_edit", args=[uk.pk])
    assert client.get(edit).status_code == 200
    assert client.post(edit, _address(line1="11 Downing Street")).status_code == 302
    uk.refresh_from_db()
    assert uk.line1 == "11 Downing Street"
    assert client.post(reverse("collectors:address_delete", args=[uk.pk])).status_code == 302
    saved.refresh_from_db()
    assert saved.is_default  # the remaining address takes over


@pytest.mark.parametrize(
    "field,value",
    [
        ("line1", "1 Main St\x00"),
        ("name", "<script>alert(1)</script>" * 20),
        ("country", "XX"),
        ("postal_code", "' OR 1=1 --"),
        ("phone", "+" + "9" * 500),
        ("line1", "x" * 201),
    ],
)
def test_hostile_address_input_gets_a_form_error_never_a_500(client, field, value):
    client.force_login(make_collector("pat@example.com"))
    response = client.post(reverse("collectors:address_add"), _address(**{field: value}))
    assert response.status_code == 400
    assert "form-error" in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert not SavedAddress.objects.exists()


def test_hostile_numbers_and_ids_in_account_urls_are_not_found(client):
    client.force_login(make_collector("pat@example.com"))
    for path in (
        "/accounts/orders/AS-2611-%00/",
        "/accounts/orders/" + "A" * 300 + "/",
        "/accounts/orders/%27%20OR%201=1/",
        "/accounts/addresses/99999999999999999999999/",
    ):
        assert client.get(path).status_code in (400, 404), path


def test_a_collector_keeps_a_bounded_number_of_addresses(client):
    user = make_collector("pat@example.com")
    for n in range(SavedAddress.MAX_PER_COLLECTOR):
        SavedAddress.objects.create(
            user=user, country="GB", name="P", line1=f"{n} St", city="London", phone="+447700900123"
        )
    client.force_login(user)
    response = client.post(reverse("collectors:address_add"), _address(), follow=True)
    assert "You can keep up to 20 addresses" in response.text
    assert user.saved_addresses.count() == SavedAddress.MAX_PER_COLLECTOR


# --- orders under the account ------------------------------------------------------------------


def test_orders_list_and_detail_show_status_tracking_events_and_more_by_the_artist(
    client, django_assert_max_num_queries
):
    user = make_collector("ana@example.com")
    bought = ArtworkFactory(title="Harbour at Six", price=Decimal("1800"))
    more = ArtworkFactory(title="Harbour at Seven", artist=bought.artist)
    order = place_order("ana@example.com", user=user, artwork=bought)
    Order.objects.filter(pk=order.pk).update(
        fulfilment_status="shipped", carrier="Royal Mail", tracking_number="RM123456785GB"
    )
    client.force_login(user)

    listing = client.get(reverse("collectors:orders"))
    assert listing.status_code == 200
    assert order.number in listing.text
    assert "RM123456785GB" in listing.text

    with django_assert_max_num_queries(40):
        detail = client.get(reverse("collectors:order_detail", args=[order.number]))
    assert detail.status_code == 200
    assert "Harbour at Six" in detail.text
    assert "RM123456785GB" in detail.text
    # The same collector-facing history as the guest link, staff-only events left out.
    guest = Client().get(order.signed_url())
    public = [e.message for e in order.events.filter(public=True)]
    assert public
    for message in public:
        assert message in detail.text and message in guest.text
    for event in order.events.filter(public=False):
        assert event.message not in detail.text
    assert "More by this artist" in detail.text
    assert "Harbour at Seven" in detail.text
    assert more.title in detail.text


def test_shop_orders_sends_collectors_to_their_account_not_to_wagtail(client):
    anonymous = client.get("/shop/orders/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert "/admin/" not in anonymous["Location"]

    client.force_login(make_collector("ana@example.com"))
    collector = client.get("/shop/orders/")
    assert collector.status_code == 302
    assert collector["Location"] == reverse("collectors:orders")

    staff = get_user_model().objects.create_user(
        "staffer", "s@artspot.test", PASSWORD, is_staff=True
    )
    client.force_login(staff)
    assert client.get("/shop/orders/").status_code == 200


# --- guests becoming collectors ----------------------------------------------------------------


def test_a_guest_cart_survives_signing_in(client):
    work = ArtworkFactory(price=Decimal("900"))
    make_collector("cart@example.com")
    client.post(reverse("shop:cart_add"), {"artwork": work.pk, "quantity": 1})
    assert work.title in client.get(reverse("shop:cart")).text

    assert _login(client, "cart@example.com", PASSWORD).status_code == 302
    assert _signed_in(client)
    cart = client.get(reverse("shop:cart"))
    assert work.title in cart.text


def test_guest_orders_join_the_account_only_for_a_verified_address(client):
    guest_order = place_order("Guest.Buyer@example.com")
    stranger_order = place_order("someone.else@example.com")

    # An unverified address (anyone can type one) attaches nothing, even after sign-in.
    impostor = make_collector("guest.buyer@example.com", verified=False)
    client.post(
        reverse("account_login"), {"login": "guest.buyer@example.com", "password": PASSWORD}
    )
    guest_order.refresh_from_db()
    assert guest_order.user_id is None
    impostor.delete()

    # Signed up and verified: the guest's order is theirs, a stranger's stays a guest's.
    client.post(
        reverse("account_signup"),
        {"email": "guest.buyer@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    client.post(_link(mail.outbox[-1]))
    owner = get_user_model().objects.get(email="guest.buyer@example.com")
    guest_order.refresh_from_db()
    stranger_order.refresh_from_db()
    assert guest_order.user_id == owner.pk
    assert stranger_order.user_id is None

    # A later guest order with the verified address joins at the next sign-in.
    later = place_order("guest.buyer@example.com")
    assert later.user_id is None
    _login(client, "guest.buyer@example.com", PASSWORD)
    later.refresh_from_db()
    assert later.user_id == owner.pk
    assert later.number in client.get(reverse("collectors:orders")).text


def test_an_order_of_another_account_never_moves(client):
    first = make_collector("first@example.com")
    order = place_order("shared@example.com", user=first)
    make_collector("shared@example.com")
    _login(client, "shared@example.com", PASSWORD)
    order.refresh_from_db()
    assert order.user_id == first.pk


# --- the admin stays for staff --------------------------------------------------------------


def test_collectors_never_reach_the_admin(client):
    collector = make_collector("ana@example.com")
    # Through the admin's own sign-in form: signed in, and still no admin.
    response = client.post(
        reverse("wagtailadmin_login"), {"username": collector.username, "password": PASSWORD}
    )
    admin = client.get("/admin/")
    assert admin.status_code in (302, 403)
    assert "Dashboard" not in admin.content.decode()
    client.force_login(collector)
    for path in ("/admin/", "/admin/pages/", "/admin/shop/order/", "/admin/collectors/"):
        response = client.get(path)
        assert response.status_code in (302, 403), path
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("wagtailadmin_login")), path


def test_the_admin_sign_in_stays_for_staff(client):
    get_user_model().objects.create_superuser("boss", "boss@artspot.test", PASSWORD)
    response = client.post(
        reverse("wagtailadmin_login"), {"username": "boss", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# --- rate limits ------------------------------------------------------------------------------


def test_sign_in_is_limited_per_account_with_a_clear_message(client):
    make_collector("target@example.com")
    answers = []
    for n in range(6):
        # A different client address each time: the account's own limit still holds.
        answers.append(
            client.post(
                reverse("account_login"),
                {"login": "target@example.com", "password": f"wrong-{n}"},
                REMOTE_ADDR=f"198.51.100.{n + 1}",
            )
        )
    assert [a.status_code for a in answers[:5]] == [200] * 5
    assert answers[5].status_code == 429
    assert "Too many sign-in attempts" in answers[5].text
    assert "no-store" in answers[5]["Cache-Control"]
    # The right password does not get through while the limit holds.
    blocked = client.post(
        reverse("account_login"),
        {"login": "target@example.com", "password": PASSWORD},
        REMOTE_ADDR="198.51.100.99",
    )
    assert blocked.status_code == 429
    assert not _signed_in(client)


def test_sign_in_is_limited_per_client_address_whatever_the_account(client):
    answers = [
        client.post(
            reverse("account_login"),
            {"login": f"user{n}@example.com", "password": "x"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",  # forged: not trusted, changes nothing
        ).status_code
        for n in range(6)
    ]
    assert answers[:5] == [200] * 5
    assert answers[5] == 429
    # Another address is not affected.
    other = client.post(
        reverse("account_login"),
        {"login": "a@example.com", "password": "x"},
        REMOTE_ADDR="203.0.113.8",
    )
    assert other.status_code == 200


def test_sign_up_and_password_reset_are_limited(client):
    for n in range(5):
        client.post(
            reverse("account_signup"),
            {"email": f"new{n}@example.com", "password1": PASSWORD, "password2": PASSWORD},
        )
    refused = client.post(
        reverse("account_signup"),
        {"email": "new9@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert refused.status_code == 429
    assert "Too many sign-ups" in refused.text
    assert not get_user_model().objects.filter(email="new9@example.com").exists()

    make_collector("victim@example.com")
    mail.outbox.clear()
    statuses = [
        client.post(
            reverse("account_reset_password"),
            {"email": "victim@example.com"},
            REMOTE_ADDR=f"192.0.2.{n + 1}",
        ).status_code
        for n in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]  # 3 an hour per account, from any address
    assert len(mail.outbox) == 3
    assert (
        "Too many password reset requests"
        in client.post(reverse("account_reset_password"), {"email": "victim@example.com"}).text
    )


# --- IDOR: every account URL with an id or a number ---------------------------------------------


# The collector's URLconfs: the account (/accounts/) and saves, follows and alerts (/account/).
ACCOUNT_NAMESPACES = ("collectors", "interests")


def _account_patterns_with_parameters() -> dict[str, list[str]]:
    """``namespace:name`` -> parameter names of every pattern in the collector's URLconfs that
    takes any."""
    found: dict[str, list[str]] = {}

    def walk(namespace, patterns, params):
        for entry in patterns:
            own = list(getattr(entry.pattern, "converters", {}) or {})
            if isinstance(entry, URLResolver):
                walk(namespace, entry.url_patterns, params + own)
            elif isinstance(entry, URLPattern) and (params + own):
                found[f"{namespace}:{entry.name}"] = params + own

    for namespace in ACCOUNT_NAMESPACES:
        _prefix, resolver = get_resolver().namespace_dict[namespace]
        walk(namespace, resolver.url_patterns, [])
    return found


@pytest.fixture
def two_collectors():
    """Ana and Ben, each with an address and an order; Ana is signed in."""
    ana = make_collector("ana@example.com")
    ben = make_collector("ben@example.com")
    for user in (ana, ben):
        SavedAddress.objects.create(
            user=user, country="GB", name=user.email, line1="1 St", city="Bristol",
            postal_code="BS1 4DJ", phone="+447700900123", is_default=True,
        )  # fmt: skip
    ben_work = ArtworkFactory()
    SavedWork.objects.create(user=ben, artwork=ben_work)
    FollowedArtist.objects.create(user=ben, artist=ben_work.artist)
    ArtistAlerts.objects.create(user=ben)
    return {
        "ana": ana,
        "ben": ben,
        "ben_work": ben_work,
        "ben_order": place_order("ben@example.com", user=ben),
        "ana_order": place_order("ana@example.com", user=ana),
    }


# How to fill each parameterised account URL with the *other* collector's values. Every such
# pattern must be listed: a new one (saves, follows …) fails the test until it is covered here.
def _ben_values(objects) -> dict[str, dict[str, str]]:
    ben_address = objects["ben"].saved_addresses.get()
    return {
        "collectors:address_edit": {"pk": ben_address.pk},
        "collectors:address_delete": {"pk": ben_address.pk},
        "collectors:order_detail": {"number": objects["ben_order"].number},
        # Ben's saved work and followed artist: Ana (un)saving them changes only her own rows.
        "interests:save": {"artwork_id": objects["ben_work"].pk},
        "interests:follow": {"artist_id": objects["ben_work"].artist_id},
        # Ben's token is his capability (one-click unsubscribe); a guessed one does nothing.
        "interests:unsubscribe": {"token": "not-bens-token-" + "x" * 20},
    }


def _ben_state(ben) -> tuple:
    return (
        list(ben.saved_addresses.values()),
        list(Order.objects.filter(user=ben).values()),
        list(SavedWork.objects.filter(user=ben).values("artwork_id")),
        list(FollowedArtist.objects.filter(user=ben).values("artist_id")),
        list(ArtistAlerts.objects.filter(user=ben).values("unsubscribed_at")),
    )


def test_no_collector_reaches_another_collectors_objects(client, two_collectors):
    patterns = _account_patterns_with_parameters()
    ben_values = _ben_values(two_collectors)
    uncovered = sorted(set(patterns) - set(ben_values))
    assert not uncovered, f"account URLs without an IDOR check: {uncovered}"

    ben = two_collectors["ben"]
    before = _ben_state(ben)
    client.force_login(two_collectors["ana"])
    for name, kwargs in ben_values.items():
        url = reverse(name, kwargs=kwargs)
        for method in ("get", "post"):
            for data in (_address(), {"on": "0"}, {"on": "1"}):
                response = getattr(client, method)(url, data)
                text = response.content.decode()
                if name.startswith("collectors:"):  # Ben's own objects: not found for Ana
                    assert response.status_code in (404, 405), f"{method.upper()} {url}"
                assert response.status_code < 500, f"{method.upper()} {url}"
                assert ben.email not in text, url
                assert two_collectors["ben_order"].number not in text, url
    assert _ben_state(ben) == before

    # Ana's own work (the control: the same URLs open with her own values).
    own = two_collectors["ana"].saved_addresses.get()
    assert client.get(reverse("collectors:address_edit", args=[own.pk])).status_code == 200
    mine = reverse("collectors:order_detail", args=[two_collectors["ana_order"].number])
    assert client.get(mine).status_code == 200
    # The guest link without a token is no way round either.
    assert client.get(two_collectors["ben_order"].get_absolute_url()).status_code == 404
    # Her data export holds her data only.
    export = client.get(reverse("collectors:data_export")).json()
    text = str(export)
    assert "ana@example.com" in text
    assert "ben@example.com" not in text
    assert two_collectors["ben_order"].number not in text


@pytest.mark.parametrize(
    "url,data",
    [
        ("account_signup", {"email": "a\x00@example.com", "password1": "x", "password2": "x"}),
        ("account_signup", {"email": "x" * 300 + "@example.com", "password1": PASSWORD}),
        ("account_signup", {"email": ["a@example.com", "b@example.com"], "password1": "p"}),
        ("account_signup", {"email": "ok@example.com", "password1": "p" * 5000, "password2": "q"}),
        ("account_login", {"login": "a\x00b", "password": "x"}),
        ("account_login", {"login": "' OR 1=1 --", "password": "' OR 1=1 --"}),
        ("account_login", {"login": "<script>alert(1)</script>@x.com", "password": "x"}),
        ("account_reset_password", {"email": "\u202e@example.com"}),
        ("account_reset_password", {"email": ""}),
    ],
)
def test_hostile_sign_up_sign_in_and_reset_input_gets_a_form_error(client, url, data):
    response = client.post(reverse(url), data)
    assert response.status_code == 200, response.status_code  # the form again, with its error
    assert "form-error" in response.text or "notice--error" in response.text
    assert "<script>alert(1)</script>" not in response.text
    assert not _signed_in(client)
    assert get_user_model().objects.filter(email__icontains="example.com").count() == 0


def test_checkout_offers_the_default_saved_address(client):
    user = make_collector("pat@example.com")
    SavedAddress.objects.create(
        user=user, country="GB", name="Pat Kerr", line1="10 Downing Street", city="London",
        postal_code="SW1A 2AA", phone="+442079460018", is_default=True,
    )  # fmt: skip
    client.force_login(user)
    work = ArtworkFactory(price=Decimal("900"))
    client.post(reverse("shop:cart_add"), {"artwork": work.pk, "quantity": 1})
    page = client.get(reverse("shop:checkout"))
    assert page.status_code == 200
    assert 'value="10 Downing Street"' in page.text
    assert 'value="SW1A 2AA"' in page.text
    assert 'value="pat@example.com"' in page.text


def test_account_lists_are_bounded_in_queries(client, django_assert_max_num_queries):
    user = make_collector("many@example.com")
    client.force_login(user)
    place_order("many@example.com", user=user)
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("collectors:orders"))
        client.get(reverse("collectors:addresses"))
    for n in range(3):
        place_order("many@example.com", user=user)
        SavedAddress.objects.create(
            user=user, country="GB", name="P", line1=f"{n} St", city="London", phone="+447700900123"
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("collectors:orders"))
        client.get(reverse("collectors:addresses"))
