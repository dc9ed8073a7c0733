"""Refunds as the team makes them and the collector sees them, through the site's own views.

A collector buys two works; the team refunds one of them, confirming the amount, the work and
whether it comes back on sale. The refund is recorded, then sent to the payment provider by a
task (the local gateway, which answers with Stripe's ``charge.refunded`` event at once). Replaying
the provider's event and retrying the task must not return a unit to sale a second time; the
collector's page shows what happened in plain words and nothing of the team's notes.
"""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from artworks.factories import ArtworkFactory
from shop import refunds
from shop.models import Order, PaymentEvent, PaymentStatus, Refund
from shop.offers import OfferState, offer_for
from shop.payments import build_event, deliver_locally, minor_units
from tests.support.shop import checkout_form

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.fakes.fixtures"]

TEST_CARD = "4242 4242 4242 4242"


@pytest.fixture
def team(client, django_user_model):
    group = Group.objects.create(name="Refunds team (test)")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        Permission.objects.get(content_type__app_label="shop", codename="change_order"),
    )
    user = django_user_model.objects.create_user("olu", "olu@example.com", "pw-123456789")
    user.first_name = "Olu"
    user.save()
    user.groups.add(group)
    staff = client.__class__()
    staff.force_login(user)
    return staff


@pytest.fixture
def bought(client, django_capture_on_commit_callbacks):
    """Two unique works bought together by a guest on the local test-payment page."""
    lagoon = ArtworkFactory(title="Lagoon Study", price=Decimal("1000.00"))
    harbour = ArtworkFactory(title="Harbour Wall", price=Decimal("2000.00"))
    for work in (lagoon, harbour):
        client.post("/shop/cart/add/", {"artwork": work.pk, "quantity": 1})
    payment_url = client.post("/shop/checkout/", checkout_form("ana@example.com"))["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            payment_url,
            {"card": TEST_CARD},  # the address was given at checkout
        )
    assert response.status_code == 302
    order = Order.objects.get(email="ana@example.com")
    assert order.payment_status == PaymentStatus.PAID
    return {
        "order": order,
        "lagoon": lagoon,
        "harbour": harbour,
        "order_url": response["Location"],
    }


def refund_url(order: Order) -> str:
    return f"/admin/shop/order/refund/{order.pk}/"


def ask_refund(team, order, line, restock: str, captured, **extra):
    """The two steps: the form, then its confirmation; returns both responses."""
    form = {
        "lines": [line.pk],
        "restock": restock,
        "reason": "Arrived damaged",
        "sequence": refunds.refund_requests(order),
    }
    confirmation = team.post(refund_url(order), form)
    with captured(execute=True):
        done = team.post(refund_url(order), {**form, "confirmed": "True", **extra})
    return confirmation, done


def test_a_partial_refund_of_one_line_restocks_it_once_and_leaves_the_other(
    client, team, bought, django_capture_on_commit_callbacks
):
    order, lagoon, harbour = bought["order"], bought["lagoon"], bought["harbour"]
    lagoon_line = order.lines.get(artwork=lagoon)

    # Step one shows the amount, the work and the restock answer, and changes nothing.
    form = {"lines": [lagoon_line.pk], "restock": "yes", "sequence": 0}
    confirmation = team.post(refund_url(order), form)
    page = confirmation.content.decode().split('data-action="refund-confirm"', 1)[1]
    page = page.split("</form>", 1)[0]
    assert confirmation.status_code == 200
    assert "£1,000.00" in page and "Lagoon Study" in page and "Harbour Wall" not in page
    assert 'data-refund-restock="yes"' in page
    assert not Refund.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        team.post(refund_url(order), {**form, "confirmed": "True"})
    order.refresh_from_db()
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.SENT and refund.amount == Decimal("1000.00")
    assert refund.idempotency_key == f"order-{order.number}-refund-0"
    assert order.payment_status == PaymentStatus.PARTLY_REFUNDED
    assert order.refunded == Decimal("1000.00")
    assert lagoon.units.get().sold_at is None  # back on sale
    assert offer_for(lagoon).state == OfferState.AVAILABLE
    assert harbour.units.get().sold_at is not None  # the other line is untouched
    assert order.lines.get(artwork=harbour).refund is None

    # Someone buys the returned work again; nothing below may un-sell it.
    resold_at = timezone.now()
    lagoon.units.update(sold_at=resold_at)

    # The provider sends its event again, and once more under a new event id.
    event = build_event(
        "charge.refunded",
        {
            "object": "charge",
            "id": "ch_local_" + order.number,
            "payment_intent": order.payment_intent_id,
            "amount": minor_units(order.total),
            "amount_refunded": minor_units(Decimal("1000.00")),
            "currency": "gbp",
        },
        event_id=PaymentEvent.objects.filter(type="charge.refunded").get().event_id,
    )
    deliver_locally(event, settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
    event["id"] = "evt_local_replayed"
    deliver_locally(event, settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
    # And the task runs again (a redelivery), and the restock step once more.
    assert refunds.send_refund(refund.pk) == "already sent"
    refund.refresh_from_db()
    assert refunds.restock_once(refund) == 0

    assert lagoon.units.get().sold_at == resold_at
    order.refresh_from_db()
    assert order.refunded == Decimal("1000.00")
    assert Refund.objects.filter(order=order).count() == 1


def test_a_refund_that_keeps_the_work_sold_leaves_it_sold(
    team, bought, django_capture_on_commit_callbacks
):
    order, harbour = bought["order"], bought["harbour"]
    line = order.lines.get(artwork=harbour)
    confirmation, done = ask_refund(team, order, line, "no", django_capture_on_commit_callbacks)
    assert 'data-refund-restock="no"' in confirmation.content.decode()
    assert "The works stay sold." in confirmation.content.decode()
    assert done.status_code == 302
    refund = Refund.objects.get(order=order)
    assert refund.status == Refund.Status.SENT and not refund.restock
    assert harbour.units.get().sold_at is not None
    assert offer_for(harbour).state == OfferState.SOLD


def test_a_double_submitted_confirmation_refunds_once(
    team, bought, django_capture_on_commit_callbacks
):
    order, lagoon = bought["order"], bought["lagoon"]
    line = order.lines.get(artwork=lagoon)
    form = {"lines": [line.pk], "restock": "yes", "sequence": 0, "confirmed": "True"}
    with django_capture_on_commit_callbacks(execute=True):
        team.post(refund_url(order), form)
        second = team.post(refund_url(order), form, follow=True)
    assert "already requested" in second.content.decode()
    assert Refund.objects.filter(order=order).count() == 1


def test_the_collectors_page_shows_only_their_events_in_plain_words(
    client, team, bought, django_capture_on_commit_callbacks
):
    order, lagoon = bought["order"], bought["lagoon"]
    line = order.lines.get(artwork=lagoon)
    ask_refund(team, order, line, "yes", django_capture_on_commit_callbacks)
    team.post(
        f"/admin/shop/order/tracking/{order.pk}/",
        {"carrier": "DHL", "tracking_number": "JD0002"},
    )
    staff_page = team.get(f"/admin/shop/order/inspect/{order.pk}/").content.decode()
    assert "requested by" in staff_page and "Staff only" in staff_page

    url = urlsplit(bought["order_url"])
    page = client.get(f"{url.path}?{url.query}").content.decode()
    assert "Payment received: £3,025.00." in page
    assert "Refunded £1,000.00; £1,000.00 in total." in page
    assert "Shipped: DHL, tracking number JD0002." in page
    for staff_only in ("requested by", "accepted by the payment provider", "re_local_", "Olu",
                       "Arrived damaged", "email sent", "back on sale", "refund_key"):  # fmt: skip
        assert staff_only not in page, staff_only
    # Every event the collector sees was written for them.
    assert page.count("<li><time") == order.events.filter(public=True).count()


def test_cancelling_an_order_its_collector_has_just_paid_keeps_it(
    team, settings, fake_stripe, django_capture_on_commit_callbacks
):
    """The team cancels a pending order whose Stripe session was paid a moment ago: the cancel is
    refused and the order waits for its payment webhook instead of being cancelled under it."""
    from tests.support.shop import checkout

    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = fake_stripe.url
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    order = checkout(ArtworkFactory(price=Decimal("400.00")), "ana@example.com")
    fake_stripe.complete_session(order.payment_session_id)
    response = team.post(f"/admin/shop/order/cancel/{order.pk}/", {"restock": "on"}, follow=True)
    assert "has just paid for this order" in response.content.decode()
    order.refresh_from_db()
    assert order.is_pending_payment
