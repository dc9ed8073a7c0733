"""Email through Amazon SES (moto on loopback) and SES's bounce and complaint notifications.

Sending: anymail's SES backend through boto3 against moto's server; moto's own record of sent
mail (``/moto-api/data.json``) says who got what. Notifications: SNS messages shaped as SES sends
them, signed with a key of the test's own whose certificate is served over HTTPS on loopback
(allowed through ``SES_SNS_EXTRA_CERT_HOSTS``; ``REQUESTS_CA_BUNDLE`` trusts it), posted to the
webhook with the basic-auth secret.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import socket
import ssl
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.core import mail

from artworks.factories import ArtworkFactory
from artworks.tasks import team_address
from core import email, sns
from core.models import UndeliverableAddress
from drops.factories import DropPageFactory, DropSubscriptionFactory
from drops.models import DropReminder
from drops.tasks import send_drop_reminders
from shop.models import FulfilmentStatus, Order, OrderEvent, PaymentStatus
from tests.support.shop import checkout_form

pytest_plugins = ["tests.fakes.fixtures"]

WEBHOOK_URL = "/email/ses/events/"
WEBHOOK_SECRET = "sns-hook:Wc8p2-secret"
STRIPE_SECRET = "whsec_test_artspot"
SENDER = "hello@artspot.test"
TOPIC_ARN = "arn:aws:sns:eu-west-1:123456789012:artspot-ses-events"
CERT_PATH = "/SimpleNotificationService-artspot-test.pem"


# --- A signing key and its certificate, served over HTTPS on loopback ---------------------------


def _self_signed(key: rsa.RSAPrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


@dataclass
class Signer:
    key: rsa.RSAPrivateKey
    cert_url: str
    host: str
    ca_file: str
    fetches: list[str] = field(default_factory=list)

    def sign(self, message: dict, *, version: str = "1", key=None) -> dict:
        message = {**message, "SignatureVersion": version, "SigningCertURL": self.cert_url}
        keys = sns.SIGNED_KEYS[message["Type"]]
        text = "".join(f"{k}\n{message[k]}\n" for k in keys if k in message)
        # SNS SignatureVersion 1 is SHA1 (its choice, not ours); 2 is SHA256.
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
        signature = (key or self.key).sign(text.encode(), padding.PKCS1v15(), digest)
        return {**message, "Signature": base64.b64encode(signature).decode()}


@pytest.fixture(scope="module")
def cert_server(tmp_path_factory) -> Iterator[Signer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _self_signed(key)
    folder: Path = tmp_path_factory.mktemp("sns-cert")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    fetches: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            body = pem if self.path == CERT_PATH else b"not here"
            self.send_response(200 if self.path == CERT_PATH else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host = f"127.0.0.1:{server.server_address[1]}"
    try:
        yield Signer(key, f"https://{host}{CERT_PATH}", host, str(folder / "cert.pem"), fetches)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def signer(cert_server: Signer, settings, monkeypatch) -> Signer:
    """Webhook on, with the test's certificate host allowed and trusted, and nothing cached."""
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": WEBHOOK_SECRET}
    settings.SES_SNS_EXTRA_CERT_HOSTS = [cert_server.host]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cert_server.ca_file)
    sns.forget_certificates()
    cert_server.fetches.clear()
    yield cert_server
    sns.forget_certificates()


@pytest.fixture
def loopback_only(monkeypatch) -> list:
    """Refuse (and remember) any connection this process tries to a non-loopback address."""
    refused: list = []
    connect = socket.socket.connect

    def guarded(sock, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            refused.append(address)
            raise ConnectionRefusedError(f"test: no traffic to {host}")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return refused


# --- SES and SNS message shapes -----------------------------------------------------------------


def ses_event(kind: str, address: str, *, bounce_type: str = "Permanent") -> dict:
    """An SES event as event publishing (a configuration set) sends it."""
    mail_object = {
        "timestamp": "2026-12-01T05:00:00.000Z",
        "source": f"ArtSpot <{SENDER}>",
        "sourceArn": f"arn:aws:ses:eu-west-1:123456789012:identity/{SENDER}",
        "sendingAccountId": "123456789012",
        "messageId": "0102018c-ses-message-id-000001",
        "destination": [address],
        "headersTruncated": False,
        "headers": [{"name": "To", "value": address}],
        "commonHeaders": {"from": [f"ArtSpot <{SENDER}>"], "to": [address], "subject": "Hi"},
        "tags": {"ses:configuration-set": ["artspot"]},
    }
    if kind == "Bounce":
        detail = {
            "bounce": {
                "feedbackId": "0102018c-feedback-0001",
                "bounceType": bounce_type,
                "bounceSubType": "General" if bounce_type == "Permanent" else "MailboxFull",
                "bouncedRecipients": [
                    {
                        "emailAddress": address,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 <ana@example.com>: user unknown",
                    }
                ],
                "timestamp": "2026-12-01T05:00:02.000Z",
                "reportingMTA": "dns; a1-2.smtp-out.eu-west-1.amazonses.com",
            }
        }
    elif kind == "Complaint":
        detail = {
            "complaint": {
                "feedbackId": "0102018c-feedback-0002",
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": "2026-12-01T05:10:00.000Z",
                "complaintFeedbackType": "abuse",
                "userAgent": "Yahoo!-Mail-Feedback/2.0",
            }
        }
    else:  # Delivery
        detail = {
            "delivery": {
                "timestamp": "2026-12-01T05:00:02.000Z",
                "processingTimeMillis": 546,
                "recipients": [address],
                "smtpResponse": "250 ok",
                "reportingMTA": "a1-2.smtp-out.eu-west-1.amazonses.com",
            }
        }
    return {"eventType": kind, "mail": mail_object, **detail}


def notification(event: dict) -> dict:
    message_id = str(uuid.uuid4())
    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": TOPIC_ARN,
        "Subject": "Amazon SES Email Event Notification",
        "Message": json.dumps(event),
        "Timestamp": "2026-12-01T05:00:03.000Z",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    }


def basic_auth(secret: str = WEBHOOK_SECRET) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


def post_sns(client, message: dict | str, *, auth: str | None = None, kind: str | None = None):
    body = message if isinstance(message, str) else json.dumps(message)
    headers = {"HTTP_AUTHORIZATION": auth if auth is not None else basic_auth()}
    if isinstance(message, dict):
        headers["HTTP_X_AMZ_SNS_MESSAGE_TYPE"] = kind or message.get("Type", "")
        headers["HTTP_X_AMZ_SNS_MESSAGE_ID"] = message.get("MessageId", "")
        headers["HTTP_X_AMZ_SNS_TOPIC_ARN"] = TOPIC_ARN
    else:
        headers["HTTP_X_AMZ_SNS_MESSAGE_TYPE"] = kind or "Notification"
    if not headers["HTTP_AUTHORIZATION"]:
        del headers["HTTP_AUTHORIZATION"]
    return client.post(WEBHOOK_URL, data=body, content_type="text/plain", **headers)


# --- Sending through SES (moto) -----------------------------------------------------------------


@pytest.fixture
def ses(moto: str, settings) -> str:
    """Email through anymail's SES backend to moto, with the sender identity verified there."""
    settings.EMAIL_BACKEND = "anymail.backends.amazon_ses.EmailBackend"
    settings.DEFAULT_FROM_EMAIL = f"ArtSpot <{SENDER}>"
    boto3.client("sesv2", region_name="eu-west-1").create_email_identity(EmailIdentity=SENDER)
    return moto


def sent_through_ses(endpoint: str) -> list[dict]:
    """moto's record of the raw messages SES accepted: recipients and subject."""
    with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=5) as response:
        data = json.load(response)
    sent = []
    for raw in data["ses"]["RawMessage"]:
        parsed = message_from_string(raw["raw_data"])
        sent.append({"to": str(parsed["To"]), "subject": str(parsed["Subject"]), **raw})
    return sent


@pytest.fixture
def stripe_on(settings, fake_stripe):
    settings.STRIPE_SECRET_KEY = "sk_test_artspot"
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_SECRET
    settings.STRIPE_API_BASE = fake_stripe.url
    return fake_stripe


def buy(client, stripe, capture, address: str) -> Order:
    """Cart, checkout and Stripe's paid webhook, the way a collector completes an order."""
    from shop.payments import sign_payload

    artwork = ArtworkFactory(price=Decimal("900.00"))
    client.post("/shop/cart/add/", {"artwork": artwork.pk, "quantity": 1})
    response = client.post("/shop/checkout/", checkout_form(address))
    assert response.status_code == 302, response.content
    order = Order.objects.get(lines__artwork=artwork)
    payload = json.dumps(stripe.complete_session(order.payment_session_id)).encode()
    with capture(execute=True):
        response = client.post(
            "/shop/webhooks/stripe/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=sign_payload(payload, STRIPE_SECRET),
        )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.payment_status == PaymentStatus.PAID
    assert order.fulfilment_status == FulfilmentStatus.UNFULFILLED
    return order


@pytest.mark.django_db
def test_an_order_confirmation_goes_out_through_ses_to_the_right_recipient(
    client, ses, stripe_on, django_capture_on_commit_callbacks
):
    order = buy(client, stripe_on, django_capture_on_commit_callbacks, "mara@example.com")

    sent = sent_through_ses(ses)
    confirmation = [m for m in sent if m["subject"] == f"Your ArtSpot order {order.number}"]
    assert len(confirmation) == 1
    assert confirmation[0]["to"] == "mara@example.com"
    assert confirmation[0]["source"] == SENDER
    assert [m["subject"] for m in sent if m["to"] == team_address()] == [
        f"New order {order.number}"
    ]
    assert mail.outbox == []  # nothing went to the test settings' locmem backend
    assert order.events.filter(
        kind=OrderEvent.Kind.EMAIL_SENT, message__contains="mara@example.com"
    ).exists()


@pytest.mark.django_db
def test_a_bounce_marks_the_address_and_the_next_email_to_it_is_skipped_and_recorded(
    client, admin_client, ses, stripe_on, signer, django_capture_on_commit_callbacks
):
    bounce = signer.sign(notification(ses_event("Bounce", "Ana@Example.com")))
    response = post_sns(client, bounce)
    assert response.status_code == 200, response.content

    mark = UndeliverableAddress.objects.get()
    assert mark.email == "Ana@Example.com"
    assert mark.reason == UndeliverableAddress.Reason.BOUNCE
    assert mark.ses_message_id == "0102018c-ses-message-id-000001"
    assert "550 5.1.1" in mark.diagnostic
    assert not email.may_email("ana@example.com")  # whatever the case

    order = buy(client, stripe_on, django_capture_on_commit_callbacks, "ana@example.com")

    sent = sent_through_ses(ses)
    assert [m for m in sent if "ana@example.com" in m["to"].lower()] == []
    assert [m["to"] for m in sent] == [team_address()]  # the team still hears of it
    skipped = order.events.get(kind=OrderEvent.Kind.EMAIL_SKIPPED)
    assert "Order confirmation email not sent: ana@example.com is marked undeliverable" in (
        skipped.message
    )
    assert skipped.public is False
    assert order.confirmation_sent_at is not None  # done: not retried by every relay
    mark.refresh_from_db()
    assert mark.skipped_count == 1

    page = admin_client.get(f"/admin/shop/order/inspect/{order.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "data-undeliverable-warning" in html
    assert "address is undeliverable" in html
    assert 'data-order-event="email-skipped"' in html
    # The collector's own order page does not show staff-only events.
    public = client.get(order.signed_url()).content.decode()
    assert "marked undeliverable" not in public


@pytest.mark.django_db
def test_complaints_mark_transient_bounces_do_not_and_a_delivery_never_unmarks(client, signer):
    transient = ses_event("Bounce", "full@example.com", bounce_type="Transient")
    assert post_sns(client, signer.sign(notification(transient), version="2")).status_code == 200
    assert not UndeliverableAddress.objects.exists()

    complaint = signer.sign(notification(ses_event("Complaint", "spam@example.com")), version="2")
    assert post_sns(client, complaint).status_code == 200
    mark = UndeliverableAddress.objects.get()
    assert (mark.email, mark.reason) == ("spam@example.com", "complaint")

    delivery = signer.sign(notification(ses_event("Delivery", "spam@example.com")))
    assert post_sns(client, delivery).status_code == 200
    assert not email.may_email("spam@example.com")


@pytest.mark.django_db
def test_a_replayed_notification_is_harmless_and_the_certificate_is_fetched_once(client, signer):
    bounce = signer.sign(notification(ses_event("Bounce", "ana@example.com")))
    for _ in range(3):
        assert post_sns(client, bounce).status_code == 200
    again = signer.sign(notification(ses_event("Bounce", "ANA@example.com")))
    assert post_sns(client, again).status_code == 200
    assert UndeliverableAddress.objects.count() == 1
    assert signer.fetches == [CERT_PATH]


def _forged_by_another_key(signer: Signer) -> dict:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return signer.sign(notification(ses_event("Bounce", "ana@example.com")), key=other)


def _tampered(signer: Signer) -> dict:
    signed = signer.sign(notification(ses_event("Bounce", "someone@example.com")))
    return {**signed, "Message": json.dumps(ses_event("Bounce", "ana@example.com"))}


def _unsigned(signer: Signer) -> dict:
    signed = signer.sign(notification(ses_event("Bounce", "ana@example.com")))
    return {k: v for k, v in signed.items() if k != "Signature"}


def _cert_elsewhere(url: str):
    def build(signer: Signer) -> dict:
        return {
            **signer.sign(notification(ses_event("Bounce", "ana@example.com"))),
            **{"SigningCertURL": url},
        }

    return build


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("build", "auth", "status"),
    [
        pytest.param(lambda s: s.sign(notification(ses_event("Bounce", "ana@example.com"))), "",
                     401, id="no-credentials"),
        pytest.param(lambda s: s.sign(notification(ses_event("Bounce", "ana@example.com"))),
                     basic_auth("sns-hook:guess"), 400, id="wrong-secret"),
        pytest.param(_unsigned, None, 400, id="unsigned"),
        pytest.param(_forged_by_another_key, None, 400, id="forged-signature"),
        pytest.param(_tampered, None, 400, id="tampered-message"),
        pytest.param(lambda s: {**s.sign(notification(ses_event("Bounce", "ana@example.com"))),
                                "SignatureVersion": "3"}, None, 400, id="unknown-version"),
        pytest.param(_cert_elsewhere("https://attacker.example/SimpleNotificationService-x.pem"),
                     None, 400, id="cert-on-foreign-host"),
        pytest.param(_cert_elsewhere("https://sns.eu-west-1.amazonaws.com.attacker.example/c.pem"),
                     None, 400, id="cert-on-lookalike-host"),
        pytest.param(lambda s: {**s.sign(notification(ses_event("Bounce", "ana@example.com"))),
                                "SigningCertURL": s.cert_url.replace("https:", "http:")},
                     None, 400, id="cert-over-http"),
        pytest.param(lambda s: "{not json", None, 400, id="garbage-json"),
        pytest.param(lambda s: "[1, 2, 3]", None, 400, id="json-not-an-object"),
        pytest.param(lambda s: s.sign({**notification({}), "Message": "not json at all"}),
                     None, 400, id="signed-but-unreadable-ses-event"),
    ],
)  # fmt: skip
def test_forged_unsigned_and_malformed_notifications_are_refused_and_mark_nothing(
    client, signer, loopback_only, build, auth, status
):
    response = post_sns(client, build(signer), auth=auth)
    assert response.status_code == status, response.content
    assert not UndeliverableAddress.objects.exists()
    assert loopback_only == []  # no certificate was fetched from anywhere else


@pytest.mark.django_db
def test_the_webhook_is_off_without_a_secret(client, settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": ""}
    response = post_sns(client, notification(ses_event("Bounce", "ana@example.com")))
    assert response.status_code == 404
    assert not UndeliverableAddress.objects.exists()


@pytest.mark.django_db
def test_a_subscription_confirmation_is_verified_and_confirmed_through_boto3_on_loopback(
    client, signer, moto, loopback_only
):
    confirmation = {
        "Type": "SubscriptionConfirmation",
        "MessageId": str(uuid.uuid4()),
        "Token": "2336412f37fb687f5d51e6e2425c464d",
        "TopicArn": TOPIC_ARN,
        "Message": f"You have chosen to subscribe to the topic {TOPIC_ARN}.",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
        "Timestamp": "2026-12-01T05:00:00.000Z",
    }
    # A forged confirmation is refused before anything is confirmed.
    forged = {**signer.sign(confirmation, version="2"), "Token": "attacker-token"}
    assert post_sns(client, forged).status_code == 400
    # The confirmation goes to SNS (moto): for a topic moto does not have, SNS's refusal is a
    # 502 that SNS will retry, not a 500; once the topic exists it is confirmed.
    signed = signer.sign(confirmation, version="2")
    assert post_sns(client, signed).status_code == 502
    boto3.client("sns", region_name="eu-west-1").create_topic(Name="artspot-ses-events")
    assert post_sns(client, signed).status_code == 200
    assert loopback_only == []
    assert not UndeliverableAddress.objects.exists()


def test_only_https_sns_hosts_may_serve_certificates_by_default(settings):
    settings.SES_SNS_EXTRA_CERT_HOSTS = []
    good = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"
    assert sns.check_cert_url(good) == good
    assert sns.check_cert_url("https://sns.cn-north-1.amazonaws.com.cn/Sns-abc.pem")
    for bad in [
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
        "https://evilsns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
        "https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-west-1.amazonaws.com/redirect?to=evil",
        "https://127.0.0.1:8443/cert.pem",
        None,
        42,
    ]:
        with pytest.raises(sns.InvalidMessage):
            sns.check_cert_url(bad)


# --- Drops, and lifting a mark --------------------------------------------------------------------


@pytest.mark.django_db
def test_drop_reminders_to_an_undeliverable_address_are_skipped_and_counted():
    start = datetime(2027, 6, 1, 18, 0, tzinfo=UTC)
    drop = DropPageFactory(title="Night Prints", starts_at=start)
    DropSubscriptionFactory(drop=drop, email="fan@example.com")
    DropSubscriptionFactory(drop=drop, email="Gone@Example.com")
    email.mark_undeliverable("gone@example.com", UndeliverableAddress.Reason.BOUNCE)

    with time_machine.travel(start - timedelta(hours=3), tick=False):
        assert send_drop_reminders() == 1
        assert send_drop_reminders() == 0  # the skipped one is not tried again every minute

    assert [m.to for m in mail.outbox] == [["fan@example.com"]]
    assert DropReminder.objects.filter(subscription__drop=drop).count() == 2
    mark = UndeliverableAddress.objects.get()
    assert mark.skipped_count == 1 and mark.last_skipped_at is not None


@pytest.mark.django_db
def test_an_administrator_lifts_a_mark_and_email_flows_again(admin_client):
    email.mark_undeliverable("ana@example.com", UndeliverableAddress.Reason.COMPLAINT)
    mark = UndeliverableAddress.objects.get()

    listing = admin_client.get("/admin/undeliverable_addresses/")
    assert listing.status_code == 200
    assert "ana@example.com" in listing.content.decode()
    # A second mark for the same address in another case is a form error, not a 500.
    duplicate = admin_client.post(
        "/admin/undeliverable_addresses/new/",
        {"email": "ANA@example.com", "reason": "bounce", "reported_at": "2026-12-01 05:00"},
    )
    assert duplicate.status_code == 200
    assert UndeliverableAddress.objects.count() == 1

    response = admin_client.post(f"/admin/undeliverable_addresses/delete/{mark.pk}/")
    assert response.status_code == 302
    assert email.may_email("ana@example.com")
    outcome = email.send(mail.EmailMessage("Hello again", "…", to=["ana@example.com"]))
    assert outcome.sent == ["ana@example.com"] and len(mail.outbox) == 1
