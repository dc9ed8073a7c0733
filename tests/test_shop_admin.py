"""The order admin as the team uses it: the list, the order page, its actions, who may see it,
and the dashboard's sales figures. Refunds go through the real Stripe client against the fake."""

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client
from django.utils import timezone
from wagtail.models import Site

from artworks.factories import ArtworkFactory
from artworks.models import Medium
from shop.admin_views import sales_figures
from shop.cart import CartLine
from shop.checkout import start_checkout
from shop.models import FulfilmentStatus, Hold, Order, OrderEvent, PaymentStatus, Refund
from shop.offers import offer_for
from shop.payments import completed_session_event, deliver_locally

pytest_plugins = ["tests.fakes.fixtures"]
pytestmark = pytest.mark.django_db

LIST = "/admin/shop/order/"
ACTIONS = ("fulfilment", "tracking", "delivered", "refund", "cancel")
ADDRESS = {"line1": "1 Quay St", "city": "Bristol", "postal_code": "BS1 4DJ", "country": "GB"}
P, F = PaymentStatus, FulfilmentStatus
PENDING = (P.UNPAID, F.UNFULFILLED)
PAID = (P.PAID, F.UNFULFILLED)


def statuses(order: Order) -> tuple[str, str]:
    order.refresh_from_db()
    return order.payment_status, order.fulfilment_status


def inspect_url(order: Order) -> str:
    return f"/admin/shop/order/inspect/{order.pk}/"


def action_url(order: Order, action: str) -> str:
    return f"/admin/shop/order/{action}/{order.pk}/"


def place(*artworks, email="ana@example.com") -> Order:
    """Start checkout for the works, as the cart does (holds, lines, a payment session)."""
    artworks = artworks or (ArtworkFactory(price=Decimal("1800.00")),)
    return start_checkout(
        lines=[CartLine(artwork, 1, offer_for(artwork, fresh=True)) for artwork in artworks],
        email=email,
        country="GB",
        user=None,
        site=Site.objects.get(is_default_site=True),
        absolute_url=lambda path: f"http://testserver{path}",
    )


def pay_locally(order: Order) -> Order:
    event = completed_session_event(order, order.payment_session_id, ADDRESS, "Ana Ruiz")
    deliver_locally(event, django_settings.LOCAL_PAYMENTS_WEBHOOK_SECRET)
    assert statuses(order) == PAID
    return order


def post_webhook(fake, event: dict):
    payload = json.dumps(event).encode()
    return Client().post(
        "/shop/webhooks/stripe/",
        payload,
        content_type="application/json",
        headers={"Stripe-Signature": fake.sign(payload, "whsec_test")},
    )


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def shop_team(django_user_model):
    """A member of staff who may open the admin and manage orders, and nothing else."""
    group = Group.objects.create(name="Shop team (test)")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        Permission.objects.get(content_type__app_label="shop", codename="change_order"),
    )
    user = django_user_model.objects.create_user(
        "ops", "ops@example.com", "pw-123456789", first_name="Olu", last_name="Park"
    )
    user.groups.add(group)
    return user


@pytest.fixture
def team(client, shop_team):
    client.force_login(shop_team)
    return client


@pytest.fixture
def painting():
    return ArtworkFactory(title="Estuary at Dusk", price=Decimal("1800.00"))


@pytest.fixture
def paid(painting):
    """A painting bought for £1,825.00 (£25 domestic shipping), paid on the local page."""
    return pay_locally(place(painting))


@pytest.fixture
def stripe(settings, fake_stripe):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_API_BASE = fake_stripe.url
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test"
    return fake_stripe


@pytest.fixture
def stripe_paid(stripe, painting):
    """The same purchase through Stripe Checkout (the fake), paid and confirmed by webhook."""
    order = place(painting)
    assert order.payment_session_id.startswith("cs_")
    assert (
        post_webhook(stripe, stripe.complete_session(order.payment_session_id)).status_code == 200
    )
    assert statuses(order) == PAID and order.payment_intent_id.startswith("pi_")
    return order


def refund(client, order: Order, amount: str, sequence: int | None = None, **extra):
    """The refund form as sent from its confirmation step (``confirmed``), unless overridden."""
    data = {"amount": amount, "sequence": 0 if sequence is None else sequence, "confirmed": "True"}
    return client.post(action_url(order, "refund"), {**data, **extra})


# --- the list -------------------------------------------------------------------------------


def test_list_shows_orders_with_filters_search_and_flags(team, paid, django_assert_max_num_queries):
    other = place(ArtworkFactory(artist__title="Mina Okafor", price=Decimal("300.00")))
    Order.objects.filter(pk=other.pk).update(last_error="ShipStation said no")
    for _ in range(4):  # more rows must not mean more queries
        place()
    with django_assert_max_num_queries(15):
        response = team.get(LIST)
    assert response.status_code == 200
    page = html(response)
    assert paid.number in page and other.number in page
    assert "£1,825.00" in page
    assert page.count(">Error</span>") == 1
    assert "Waiting to ship" in page and "This month" in page  # queue and date filters

    found = html(team.get(LIST, {"q": "Okafor"}))
    assert other.number in found and paid.number not in found
    found = html(team.get(LIST, {"q": paid.number}))
    assert paid.number in found and other.number not in found
    found = html(team.get(LIST, {"q": "ana@example"}))
    assert paid.number in found and other.number in found

    assert other.number not in html(team.get(LIST, {"payment_status__exact": "paid"}))
    assert paid.number in html(team.get(LIST, {"payment_status__exact": "paid"}))
    unfulfilled = html(team.get(LIST, {"fulfilment_status__exact": "unfulfilled"}))
    assert paid.number in unfulfilled and other.number in unfulfilled
    assert paid.number not in html(team.get(LIST, {"fulfilment_status__exact": "shipped"}))
    to_ship = html(team.get(LIST, {"queue": "to-ship"}))
    assert paid.number in to_ship and other.number not in to_ship
    errors = html(team.get(LIST, {"queue": "errors"}))
    assert other.number in errors and paid.number not in errors

    today = timezone.localdate()
    assert paid.number in html(team.get(LIST, {"created_at__gte": today.isoformat()}))
    later = (today.replace(year=today.year + 1)).isoformat()
    assert paid.number not in html(team.get(LIST, {"created_at__gte": later}))
    assert team.get(LIST, {"created_at__gte": "not-a-date"}).status_code == 200


def test_list_refuses_lookups_it_does_not_offer(team, paid):
    response = team.get(LIST, {"user__password__startswith": "md5"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert team.get(LIST, {"nonsense": "1"}).status_code == 302


def test_csv_export(team, paid):
    place(ArtworkFactory(artist__title="Mina Okafor"), email="=HYPERLINK(1)@example.com")
    response = team.get(LIST, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="artspot-orders.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_number = {row["Number"]: row for row in rows}
    row = by_number[paid.number]
    assert (row["Payment"], row["Fulfilment"]) == ("Paid", "Unfulfilled")
    assert row["Total"] == "1825.00" and row["Refunded"] == "0.00"
    assert row["Items"] == "1"
    assert row["Artists"] == paid.lines.get().artist_name
    assert any(row["Email"] == "'=HYPERLINK(1)@example.com" for row in rows)  # no formulas
    only_paid = team.get(LIST, {"export": "csv", "payment_status__exact": "paid"})
    exported = b"".join(only_paid.streaming_content).decode()
    assert paid.number in exported and "=HYPERLINK" not in exported


def test_xlsx_export(team, paid):
    from openpyxl import load_workbook

    response = team.get(LIST, {"export": "xlsx", "q": paid.number})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, row = (list(r) for r in sheet.iter_rows(values_only=True))
    values = dict(zip(header, row, strict=True))
    assert values["Number"] == paid.number and values["Shipping Country"] == "United Kingdom"


# --- the order page -------------------------------------------------------------------------


def test_order_page_shows_lines_money_address_references_and_history(team, paid):
    edition = ArtworkFactory(
        title="Harbour Print", medium=Medium.PRINT, is_edition=True, edition_size=5,
        price=Decimal("250.00"),
    )  # fmt: skip
    order = pay_locally(place(edition))
    Order.objects.filter(pk=order.pk).update(
        shipstation_order_id="SS-4242", last_error="ShipStation refused the address"
    )
    page = html(team.get(inspect_url(order)))
    assert "Harbour Print" in page and "1/5" in page
    assert edition.artist.title in page
    assert "£250.00" in page and "£275.00" in page  # price at purchase, total
    # Laid out as the destination writes it: a UK town and postcode on lines of their own.
    assert "Ana Ruiz<br>1 Quay St<br>Bristol<br>BS1 4DJ<br>" in page
    assert order.payment_session_id in page and f"pi_local_{order.number}" in page
    assert "SS-4242" in page
    assert "data-last-error>ShipStation refused the address<" in page
    assert "Order placed; the works are held for you while you pay." in page
    assert "Payment received: £275.00." in page
    assert 'data-payment-status="paid"' in page and 'data-fulfilment-status="unfulfilled"' in page
    events = [event.message for event in order.events.all()]
    assert page.index(events[0]) < page.index(events[-1])  # newest last
    assert 'data-action="fulfilment"' in page and 'data-action="refund"' in page
    assert 'data-action="delivered"' not in page  # not shipped yet
    assert "csrfmiddlewaretoken" in page


def test_unknown_order_is_a_404_for_the_team(team):
    assert team.get("/admin/shop/order/inspect/999999999/").status_code == 404
    assert team.post("/admin/shop/order/refund/999999999/").status_code == 404


def test_orders_are_not_created_edited_or_deleted_by_hand(team, paid):
    for path in ("create/", f"edit/{paid.pk}/", f"delete/{paid.pk}/", f"history/{paid.pk}/"):
        assert team.get(LIST + path).status_code == 404
    assert Order.objects.filter(pk=paid.pk).exists()


# --- refunds --------------------------------------------------------------------------------


def test_refund_is_confirmed_before_anything_is_sent(
    team, stripe, stripe_paid, django_capture_on_commit_callbacks
):
    order = stripe_paid
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(team, order, "300.00", confirmed="", reason="Frame damaged")
    assert response.status_code == 200
    page = html(response)
    assert 'data-action="refund-confirm"' in page
    assert "data-refund-amount>£300.00<" in page and "Reason: Frame damaged" in page
    assert 'name="confirmed" value="True"' in page
    assert stripe.calls("POST", "/v1/refunds") == []
    assert not Refund.objects.filter(order=order).exists()
    assert not order.events.filter(data__has_key="refund_key").exists()


def test_refund_from_the_admin_calls_stripe_once(
    team, stripe, stripe_paid, django_capture_on_commit_callbacks
):
    order = stripe_paid
    with django_capture_on_commit_callbacks(execute=True):
        first = refund(team, order, "300.00", sequence=0)
        second = refund(team, order, "300.00", sequence=0)  # the same form, sent twice
    assert first.status_code == second.status_code == 302
    calls = stripe.calls("POST", "/v1/refunds")
    assert len(calls) == 1
    assert calls[0].idempotency_key == f"order-{order.number}-refund-0"
    assert calls[0].params == {"payment_intent": order.payment_intent_id, "amount": "30000"}
    (recorded,) = Refund.objects.filter(order=order)
    assert (recorded.idempotency_key, recorded.amount, recorded.status) == (
        f"order-{order.number}-refund-0", Decimal("300.00"), Refund.Status.SENT,
    )  # fmt: skip
    events = order.events.filter(data__refund_key=f"order-{order.number}-refund-0")
    requested = events.filter(message__contains="requested")
    assert requested.count() == 1
    assert requested.get().message == "Refund of £300.00 requested by Olu Park."
    assert events.filter(message__contains="accepted by the payment provider").count() == 1
    order.refresh_from_db()
    assert order.refunded == 0  # until Stripe confirms
    messages = html(team.get(inspect_url(order)))
    assert "already requested" in messages

    with django_capture_on_commit_callbacks(execute=True):
        response = post_webhook(stripe, stripe.last_event("charge.refunded"))
    assert response.status_code == 200
    assert statuses(order) == (P.PARTLY_REFUNDED, F.UNFULFILLED)
    assert order.refunded == Decimal("300.00")
    assert [m.subject for m in mail.outbox] == [f"Your refund for ArtSpot order {order.number}"]
    assert mail.outbox[0].to == [order.email]

    # The rest, as a new request (the form now carries the next number).
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert refund(team, order, "1525.00", sequence=1).status_code == 302
    calls = stripe.calls("POST", "/v1/refunds")
    assert [c.idempotency_key for c in calls] == [
        f"order-{order.number}-refund-0",
        f"order-{order.number}-refund-1",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(stripe, stripe.last_event("charge.refunded"))
    assert statuses(order) == (P.REFUNDED, F.UNFULFILLED)
    assert order.refunded == order.total
    assert len(mail.outbox) == 1
    assert 'data-action="refund"' not in html(team.get(inspect_url(order)))


def test_a_retry_after_a_lost_answer_reuses_the_key(
    team, stripe, stripe_paid, django_capture_on_commit_callbacks
):
    """Stripe refunded, but the process died before recording it: the same form, sent again,
    sends the same key, and Stripe answers with the refund it already made."""
    from shop.payments import get_gateway

    order = stripe_paid
    get_gateway().refund(order, Decimal("100.00"), idempotency_key=f"order-{order.number}-refund-0")
    with django_capture_on_commit_callbacks(execute=True):
        assert refund(team, order, "100.00", sequence=0).status_code == 302
    calls = stripe.calls("POST", "/v1/refunds")
    assert len(calls) == 2 and calls[1].replayed
    assert len(stripe.refunds) == 1
    assert Refund.objects.get(order=order).status == Refund.Status.SENT


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("0", "more than zero"),
        ("0.00", "more than zero"),
        ("-5", "more than zero"),
        ("1825.01", "At most £1,825.00 is left to refund"),
        ("99999999", "At most £1,825.00 is left to refund"),
        ("abc", "Enter a number"),
        ("NaN", "Enter a number"),
        ("1.234", "decimal places"),
        ("", "Choose the works to refund, or enter an amount."),
    ],
)
def test_refund_amount_is_validated(
    team, stripe, stripe_paid, amount, error, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(team, stripe_paid, amount)
    assert response.status_code == 200
    assert error in html(response)
    assert 'data-action="refund-confirm"' not in html(response)
    assert stripe.calls("POST", "/v1/refunds") == []
    assert not Refund.objects.filter(order=stripe_paid).exists()
    assert not stripe_paid.events.filter(data__has_key="refund_key").exists()


def test_a_refused_refund_is_reported_and_the_next_try_gets_a_new_key(
    team, stripe, stripe_paid, django_capture_on_commit_callbacks
):
    order = stripe_paid
    stripe.refund_event(order.payment_intent_id, 182500)  # refunded in Stripe's Dashboard
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(team, order, "100.00", sequence=0)
    assert response.status_code == 302
    refused = Refund.objects.get(order=order)
    assert refused.status == Refund.Status.FAILED and refused.error.startswith("Stripe refused")
    failed = order.events.get(kind=OrderEvent.Kind.ERROR)
    assert failed.data["refund_key"] == f"order-{order.number}-refund-0"
    assert failed.message.startswith("Refund of £100.00 refused: Stripe refused the refund")
    page = html(team.get(inspect_url(order)))
    assert 'data-order-event="error"' in page and "Refund of £100.00 refused" in page
    with django_capture_on_commit_callbacks(execute=True):
        refund(team, order, "100.00", sequence=1)
    keys = [c.idempotency_key for c in stripe.calls("POST", "/v1/refunds")]
    assert keys == [f"order-{order.number}-refund-0", f"order-{order.number}-refund-1"]


def test_local_refund_updates_totals_at_once(team, paid, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(team, paid, "25.00")
        refund(team, paid, "25.00")  # double submit
    assert response.status_code == 302
    assert statuses(paid) == (P.PARTLY_REFUNDED, F.UNFULFILLED)
    assert paid.refunded == Decimal("25.00")
    assert [m.subject for m in mail.outbox] == [f"Your refund for ArtSpot order {paid.number}"]
    page = html(team.get(inspect_url(paid)))
    assert "data-order-refunded>£25.00<" in page
    assert "Refunded £25.00; £25.00 in total." in page


def test_refund_of_chosen_works_with_restock(
    team, paid, painting, django_capture_on_commit_callbacks
):
    line = paid.lines.get()
    form = {"lines": [line.pk]}
    response = refund(team, paid, "", confirmed="", **form)  # no restock answer
    assert response.status_code == 200 and "Say whether the refunded works" in html(response)
    response = refund(team, paid, "", confirmed="", restock="yes", **form)
    page = html(response)
    assert 'data-action="refund-confirm"' in page and "data-refund-amount>£1,800.00<" in page
    assert 'data-refund-restock="yes"' in page
    assert painting.units.get().sold_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = refund(team, paid, "", restock="yes", **form)
    assert response.status_code == 302
    assert statuses(paid) == (P.PARTLY_REFUNDED, F.UNFULFILLED)
    assert paid.refunded == Decimal("1800.00")
    assert painting.units.get().sold_at is None  # back on sale once the refund was accepted
    line.refresh_from_db()
    assert line.refund.status == Refund.Status.SENT and line.refund.restocked_at is not None


def test_nothing_to_refund_before_payment(team, painting):
    order = place(painting)
    response = refund(team, order, "10.00")
    assert response.status_code == 302
    assert "nothing to refund" in html(team.get(inspect_url(order)))
    assert not order.events.filter(data__has_key="refund_key").exists()
    assert not Refund.objects.filter(order=order).exists()


# --- fulfilment -----------------------------------------------------------------------------


def test_fulfilment_tracking_and_delivery(
    team, shop_team, paid, django_capture_on_commit_callbacks
):
    assert team.post(action_url(paid, "delivered")).status_code == 302  # not shipped: refused
    assert statuses(paid) == PAID
    assert "Only a shipped order" in html(team.get(inspect_url(paid)))

    team.post(action_url(paid, "fulfilment"))
    assert statuses(paid) == (P.PAID, F.IN_FULFILMENT)
    moved = paid.events.get(kind=OrderEvent.Kind.STATUS)
    assert (moved.message, moved.public) == ("Your order is being prepared for shipping.", True)
    assert moved.data == {"by": shop_team.pk, "fulfilment_status": "fulfilment"}
    team.post(action_url(paid, "fulfilment"))  # again: refused, nothing logged
    assert paid.events.filter(kind=OrderEvent.Kind.STATUS).count() == 1

    response = team.post(action_url(paid, "tracking"), {"carrier": "", "tracking_number": ""})
    assert response.status_code == 200 and "This field is required" in html(response)
    with django_capture_on_commit_callbacks(execute=True):
        response = team.post(
            action_url(paid, "tracking"), {"carrier": "DHL", "tracking_number": "JD0123"}
        )
    assert response.status_code == 302
    assert statuses(paid) == (P.PAID, F.SHIPPED)
    assert (paid.carrier, paid.tracking_number) == ("DHL", "JD0123")
    shipped = [m for m in mail.outbox if "on its way" in m.subject]
    assert len(shipped) == 1 and shipped[0].to == [paid.email]
    assert "JD0123" in shipped[0].body
    assert paid.events.filter(kind=OrderEvent.Kind.SHIPPED).count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        team.post(action_url(paid, "tracking"), {"carrier": "DHL", "tracking_number": "JD0124"})
    paid.refresh_from_db()
    assert paid.tracking_number == "JD0124"
    assert "Tracking of order" in html(team.get(inspect_url(paid)))
    assert len([m for m in mail.outbox if "on its way" in m.subject]) == 1  # sent once

    team.post(action_url(paid, "delivered"))
    assert statuses(paid) == (P.PAID, F.DELIVERED)
    page = html(team.get(inspect_url(paid)))
    for action in ("fulfilment", "tracking", "delivered", "cancel"):
        assert f'data-action="{action}"' not in page


def test_actions_are_refused_before_payment(team, painting):
    order = place(painting)
    for action, data in [
        ("fulfilment", {}),
        ("tracking", {"carrier": "DHL", "tracking_number": "X1"}),
        ("delivered", {}),
    ]:
        response = team.post(action_url(order, action), data)
        assert response.status_code == 302
        assert statuses(order) == PENDING
    assert not order.events.filter(kind__in=["status", "shipped"]).exists()
    assert mail.outbox == []


def test_actions_are_posts(team, paid):
    for action in ACTIONS:
        response = team.get(action_url(paid, action))
        assert response.status_code == 302 and response["Location"] == inspect_url(paid)
    assert statuses(paid) == PAID


def test_actions_need_the_csrf_token(shop_team, paid):
    client = Client(enforce_csrf_checks=True)
    client.force_login(shop_team)
    assert client.post(action_url(paid, "fulfilment")).status_code == 403
    assert statuses(paid) == PAID


# --- cancelling -----------------------------------------------------------------------------


def test_cancel_before_payment_releases_the_hold(team, painting):
    order = place(painting)
    assert Hold.objects.get(unit__artwork=painting).order_id == order.pk
    assert team.post(action_url(order, "cancel")).status_code == 302
    assert statuses(order) == (P.UNPAID, F.CANCELLED)
    assert not Hold.objects.filter(unit__artwork=painting).exists()
    assert order.events.filter(kind=OrderEvent.Kind.CANCELLED, public=True).exists()
    assert offer_for(painting, fresh=True).can_buy


def test_cancel_a_paid_order_refunds_it_and_puts_the_work_back_on_sale(
    team, paid, painting, django_capture_on_commit_callbacks
):
    assert painting.units.get().sold_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        response = team.post(action_url(paid, "cancel"), {"restock": "on"})
    assert response.status_code == 302
    # Cancelled at once; the (local, immediate) refund confirmation then moves it to Refunded.
    assert statuses(paid) == (P.REFUNDED, F.CANCELLED)
    assert paid.refunded == paid.total
    assert painting.units.get().sold_at is None
    kinds = list(paid.events.values_list("kind", flat=True))
    assert "cancelled" in kinds and "refunded" in kinds
    assert [m.subject for m in mail.outbox] == [f"Your refund for ArtSpot order {paid.number}"]


def test_cancel_through_stripe_waits_for_the_webhook(
    team, stripe, stripe_paid, painting, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = team.post(action_url(stripe_paid, "cancel"))  # restock unticked
    assert response.status_code == 302
    assert statuses(stripe_paid) == (P.PAID, F.CANCELLED)  # nobody ships it meanwhile
    assert stripe_paid.refunded == 0
    assert painting.units.get().sold_at is not None
    [call] = stripe.calls("POST", "/v1/refunds")
    assert call.params["amount"] == "182500"
    assert call.idempotency_key == f"order-{stripe_paid.number}-refund-0"
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(stripe, stripe.last_event("charge.refunded"))
    assert statuses(stripe_paid) == (P.REFUNDED, F.CANCELLED)
    assert stripe_paid.refunded == Decimal("1825")
    assert painting.units.get().sold_at is not None  # not restocked


def test_a_shipped_order_cannot_be_cancelled(team, paid):
    from shop.tasks import mark_shipped

    mark_shipped(paid, "DHL", "JD1")
    assert team.post(action_url(paid, "cancel")).status_code == 302
    assert statuses(paid) == (P.PAID, F.SHIPPED) and paid.refunded == 0
    assert "refund it instead" in html(team.get(inspect_url(paid)))


@pytest.mark.parametrize(
    ("carrier", "number", "link"),
    [
        ("Royal Mail", "AB 123/4?x", "https://www.royalmail.com/track-your-item#/tracking-results/AB%20123%2F4%3Fx"),
        ("royal_mail", "RM1", "https://www.royalmail.com/track-your-item#/tracking-results/RM1"),
        ("dhl_express", "JD1", "https://www.dhl.com/gb-en/home/tracking.html?tracking-id=JD1"),
        ("UPS", "1Z&a=b", "https://www.ups.com/track?tracknum=1Z%26a%3Db"),
        ("FedEx", "F1", "https://www.fedex.com/fedextrack/?trknbr=F1"),
        ("stamps_com", "9400", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400"),
        ("USPS", "9401", "https://tools.usps.com/go/TrackConfirmAction?tLabels=9401"),
        ("DPD", "15501", "https://track.dpd.co.uk/parcels/15501"),
        ("Parcelforce", "PF1", "https://www.parcelforce.com/track-trace?trackNumber=PF1"),
        ("Bob's Van", "B1", ""),
        ("", "B2", ""),
    ],
)  # fmt: skip
def test_the_shipped_email_links_to_the_carriers_tracking_page(
    paid, carrier, number, link, django_capture_on_commit_callbacks
):
    from shop.tasks import mark_shipped

    with django_capture_on_commit_callbacks(execute=True):
        mark_shipped(paid, carrier, number)
    [shipped] = [m for m in mail.outbox if "on its way" in m.subject]
    body, page = shipped.body, shipped.alternatives[0][0]
    assert number in body
    if link:
        assert f"Track your parcel: {link}\n" in body
        assert f'<a href="{link.replace("&", "&amp;")}">Track your parcel</a>' in page
    else:
        assert "Track your parcel" not in body and "Track your parcel" not in page


# --- who may see orders ---------------------------------------------------------------------


def _every_url(order: Order) -> list[tuple[str, str]]:
    urls = [("get", LIST), ("get", LIST + "?export=csv"), ("get", inspect_url(order))]
    urls += [("post", action_url(order, action)) for action in ACTIONS]
    urls += [("post", "/admin/shop/order/refund/999999999/")]
    return urls


def _assert_shut_out(client, order: Order, login_redirect: bool) -> None:
    for method, url in _every_url(order):
        data = {"amount": "10.00", "sequence": 0, "confirmed": "True", "carrier": "X",
                "tracking_number": "Y", "restock": "on"}  # fmt: skip
        response = getattr(client, method)(url, data if method == "post" else None)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            location = response["Location"]
            assert location.startswith("/admin/login/") if login_redirect else location == "/admin/"
    assert statuses(order) == PAID and order.refunded == 0
    assert not Refund.objects.filter(order=order).exists()
    assert not order.events.exclude(kind__in=["placed", "paid"]).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, paid):
    _assert_shut_out(client, paid, login_redirect=True)


def test_staff_without_admin_access_are_shut_out(client, paid, django_user_model):
    user = django_user_model.objects.create_user("desk", "d@example.com", "pw", is_staff=True)
    client.force_login(user)
    _assert_shut_out(client, paid, login_redirect=True)


def test_editors_without_the_order_permission_are_shut_out(client, paid, django_user_model):
    """Like the Curators group: in the admin, but never near orders or customers' addresses."""
    group = Group.objects.create(name="Curators (test)")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin"),
        Permission.objects.get(content_type__app_label="shop", codename="view_order"),
    )
    user = django_user_model.objects.create_user("curator", "c@example.com", "pw", is_staff=True)
    user.groups.add(group)
    client.force_login(user)
    _assert_shut_out(client, paid, login_redirect=False)
    dashboard = html(client.get("/admin/"))
    assert "shop-orders" not in dashboard and LIST not in dashboard


def test_superusers_may_manage_orders(admin_client, paid):
    assert admin_client.get(LIST).status_code == 200
    assert admin_client.get(inspect_url(paid)).status_code == 200


# --- the dashboard --------------------------------------------------------------------------


def test_dashboard_shows_todays_sales_and_orders_waiting_to_ship(
    team, paid, django_assert_num_queries, django_capture_on_commit_callbacks
):
    second = pay_locally(place(ArtworkFactory(price=Decimal("200.00"))))
    with django_capture_on_commit_callbacks(execute=True):
        refund(team, second, "25.00")  # net sales count refunds out: 225.00 - 25.00
    assert statuses(second) == (P.PARTLY_REFUNDED, F.UNFULFILLED)
    last_month = pay_locally(place(ArtworkFactory(price=Decimal("75.00"))))
    Order.objects.filter(pk=last_month.pk).update(
        paid_at=timezone.now().replace(day=1) - timedelta(days=2),
        fulfilment_status=F.IN_FULFILMENT,
    )
    place()  # not paid: not a sale, not waiting to ship

    response = team.get("/admin/")
    page = html(response)
    assert 'id="shop-orders-section"' in page
    today_cell = (
        page.split('data-currency="GBP"')[1].split("data-sales-today>")[1].split("</td>")[0]
    )
    assert "2,025.00" in today_cell and "(2 orders)" in today_cell  # 1825 + 200
    # Both paid today (one partly refunded, not shipped) and the one in fulfilment:
    assert 'data-waiting-to-ship="3"' in page
    assert "3 orders waiting to ship" in page
    assert f"{LIST}?queue=to-ship" in page
    with django_assert_num_queries(2):  # however many orders there are
        sales_figures()
