"""Privacy: a collector downloads their data, and deletes their account.

Deleting keeps the orders for the books with no name, email, phone or street address of the
collector left on them (or in their event log), removes saves, follows, addresses and drop
subscriptions, ends every session, and the account can no longer sign in.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from artworks.factories import ArtworkFactory
from artworks.models import ArtworkInquiry
from collectors import privacy
from collectors.models import CollectorProfile, FollowedArtist, SavedAddress, SavedWork
from drops.factories import DropPageFactory, DropSubscriptionFactory
from drops.models import DropSubscription
from shop.models import Order, OrderEvent
from tests.collector_support import PASSWORD, CommittingClient, make_collector, place_order

pytestmark = pytest.mark.django_db

EMAIL = "orla.private@example.com"
NAME = "Orla Byrne-Private"
PHONE = "+447700900123"


@pytest.fixture
def client(client, django_capture_on_commit_callbacks):
    return CommittingClient(client, django_capture_on_commit_callbacks)


@pytest.fixture
def orla():
    user = make_collector(EMAIL)
    CollectorProfile.objects.create(user=user, name=NAME, phone=PHONE)
    SavedAddress.objects.create(
        user=user, country="GB", name=NAME, line1="4 Quay Street", city="Bristol",
        postal_code="BS1 4DJ", phone=PHONE, is_default=True,
    )  # fmt: skip
    return user


@pytest.fixture
def orlas_things(orla):
    drop = DropPageFactory(title="Private view", starts_at=timezone.now() + timedelta(days=2))
    return {
        "order": place_order(EMAIL, user=orla, name=NAME),
        "guest_order": place_order(EMAIL.upper(), name=NAME),  # as a guest, same address
        "subscription": DropSubscriptionFactory(
            drop=drop, email=EMAIL, confirmed_at=timezone.now()
        ),
        "inquiry": ArtworkInquiry.objects.create(
            artwork=ArtworkFactory(), name=NAME, email=EMAIL, phone=PHONE, message="Framed?"
        ),
        "other_order": place_order("someone.else@example.com", name="Sam Else"),
    }


def test_download_my_data_holds_every_section(client, orla, orlas_things):
    client.force_login(orla)
    response = client.get(reverse("collectors:data_export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    assert set(privacy.export_sections()) <= set(data)
    assert {"account", "addresses", "orders", "drop_subscriptions", "interests"} <= set(data)
    assert data["account"]["email"] == EMAIL
    assert data["account"]["name"] == NAME
    assert data["addresses"][0]["line1"] == "4 Quay Street"
    numbers = [order["number"] for order in data["orders"]]
    assert orlas_things["order"].number in numbers
    assert orlas_things["other_order"].number not in numbers
    assert data["drop_subscriptions"][0]["drop"] == "Private view"
    assert "Sam Else" not in response.content.decode()


def test_other_apps_add_sections_through_the_registry(client, orla):
    @privacy.register_export("zz_test_section")
    def section(user):
        return {"who": user.email}

    try:
        client.force_login(orla)
        data = client.get(reverse("collectors:data_export")).json()
        assert data["zz_test_section"] == {"who": EMAIL}
        with pytest.raises(ValueError):
            privacy.register_export("zz_test_section")(lambda user: None)
    finally:
        privacy._exporters.pop("zz_test_section")


def test_the_export_needs_a_signed_in_collector(client):
    response = client.get(reverse("collectors:data_export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def _personal_strings(order: Order) -> list[str]:
    values = [
        order.email, order.shipping_name, order.shipping_line1, order.shipping_line2,
        order.shipping_city, order.shipping_postal_code, order.shipping_phone,
    ]  # fmt: skip
    for event in order.events.all():
        values += [event.message, json.dumps(event.data)]
    return values


def test_delete_account_anonymises_orders_and_removes_the_rest(client, orla, orlas_things):
    order, guest_order = orlas_things["order"], orlas_things["guest_order"]
    # As the shop's email task writes it (shop.tasks), with the address in message and data.
    order.log(OrderEvent.Kind.EMAIL_SENT, f"Order confirmation email sent to {EMAIL}.", to=EMAIL)
    assert any(EMAIL in value.lower() for value in _personal_strings(order))  # before: there
    totals = {o.pk: (o.total, o.payment_status) for o in (order, guest_order)}
    lines = {o.pk: list(o.lines.values_list("title", "unit_price")) for o in (order, guest_order)}
    other = orlas_things["other_order"]
    other_before = _personal_strings(other)

    saved = SavedWork.objects.create(user=orla, artwork=ArtworkFactory())
    FollowedArtist.objects.create(user=orla, artist=saved.artwork.artist)
    other_session = Client()
    other_session.force_login(orla)
    client.force_login(orla)
    # GET does nothing; a wrong password does nothing.
    assert client.get(reverse("collectors:delete_account")).status_code == 405
    wrong = client.post(reverse("collectors:delete_account"), {"password": "not-it"})
    assert wrong.status_code == 400
    assert "That is not your password." in wrong.text
    assert get_user_model().objects.filter(pk=orla.pk).exists()

    response = client.post(reverse("collectors:delete_account"), {"password": PASSWORD})
    assert response.status_code == 302

    assert not get_user_model().objects.filter(pk=orla.pk).exists()
    assert not EmailAddress.objects.filter(email__iexact=EMAIL).exists()
    assert not SavedAddress.objects.filter(user_id=orla.pk).exists()
    assert not CollectorProfile.objects.filter(user_id=orla.pk).exists()
    assert not SavedWork.objects.filter(user_id=orla.pk).exists()
    assert not FollowedArtist.objects.filter(user_id=orla.pk).exists()
    assert not DropSubscription.objects.filter(email__iexact=EMAIL).exists()
    inquiry = ArtworkInquiry.objects.get(pk=orlas_things["inquiry"].pk)
    assert EMAIL not in inquiry.email and NAME not in inquiry.name and not inquiry.phone

    for kept in (order, guest_order):
        kept.refresh_from_db()
        assert kept.user_id is None
        assert (kept.total, kept.payment_status) == totals[kept.pk]  # the books are intact
        assert list(kept.lines.values_list("title", "unit_price")) == lines[kept.pk]
        for value in _personal_strings(kept):
            lowered = value.lower()
            assert EMAIL not in lowered, value
            assert NAME.lower() not in lowered, value
            assert "quay street" not in lowered, value
            assert "bs1 4dj" not in lowered, value
            assert PHONE not in value, value
        assert kept.email.endswith("@erased.invalid")
        assert kept.events.exists()  # the history stays, scrubbed
    scrubbed = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.EMAIL_SENT)
    assert scrubbed.message == "Order confirmation email sent to [erased]."
    assert scrubbed.data == {"to": "[erased]"}
    other.refresh_from_db()
    assert _personal_strings(other) == other_before  # nobody else's order changed

    # Every session is over, and the account cannot sign in again.
    assert "_auth_user_id" not in client.session
    assert other_session.get(reverse("collectors:profile")).status_code == 302
    fresh = Client()
    answer = fresh.post(reverse("account_login"), {"login": EMAIL, "password": PASSWORD})
    assert answer.status_code == 200
    assert "_auth_user_id" not in fresh.session


def test_delete_account_is_post_only_and_needs_a_password(client, orla):
    client.force_login(orla)
    assert client.post(reverse("collectors:delete_account"), {}).status_code == 400
    assert (
        client.post(reverse("collectors:delete_account"), {"password": "x" * 5000}).status_code
        == 400
    )
    assert get_user_model().objects.filter(pk=orla.pk).exists()
    # Cross-site: without the CSRF token the POST is refused.
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(orla)
    refused = csrf_client.post(reverse("collectors:delete_account"), {"password": PASSWORD})
    assert refused.status_code == 403
    assert get_user_model().objects.filter(pk=orla.pk).exists()


def test_team_accounts_are_not_deleted_from_the_account_page(client):
    staff = get_user_model().objects.create_user("ops", "ops@artspot.test", PASSWORD, is_staff=True)
    client.force_login(staff)
    response = client.post(reverse("collectors:delete_account"), {"password": PASSWORD})
    assert response.status_code == 400
    assert "closed by an administrator" in response.text
    assert get_user_model().objects.filter(pk=staff.pk).exists()
