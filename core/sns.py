"""Amazon SNS message signatures: is this message really from SNS?

SNS signs every message it posts to an HTTPS subscription with a key whose certificate it serves
at ``SigningCertURL`` (https, on ``sns.<region>.amazonaws.com``). :func:`verify` rebuilds the
string SNS signed, fetches the certificate (once per URL per process) and checks the signature:
SHA1 for ``SignatureVersion`` 1, SHA256 for 2, RSA PKCS#1 v1.5 both. See
https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html

``settings.SES_SNS_EXTRA_CERT_HOSTS`` lists further ``host[:port]`` allowed to serve certificates
(tests serve their own on loopback); by default only AWS's hosts are.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings

AWS_CERT_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_KEYS["UnsubscribeConfirmation"] = SIGNED_KEYS["SubscriptionConfirmation"]
OPTIONAL_KEYS = {"Subject"}
HASHES = {"1": hashes.SHA1, "2": hashes.SHA256}
MAX_CERT_BYTES = 16_384
CERT_TIMEOUT = (3, 5)  # connect, read (seconds)
_CACHE_SIZE = 32

_certificates: dict[str, x509.Certificate] = {}
_lock = threading.Lock()


class InvalidMessage(Exception):
    """Not a genuine SNS message (the message says why)."""


class CertificateUnavailable(Exception):
    """The signing certificate could not be fetched just now (worth SNS retrying)."""


def verify(message: object) -> None:
    """Raise :class:`InvalidMessage` unless ``message`` (parsed JSON) carries a valid signature."""
    if not isinstance(message, dict):
        raise InvalidMessage("The body is not a JSON object.")
    keys = SIGNED_KEYS.get(message.get("Type"))  # type: ignore[arg-type]
    if keys is None:
        raise InvalidMessage("Unknown SNS message type.")
    algorithm = HASHES.get(message.get("SignatureVersion"))  # type: ignore[arg-type]
    if algorithm is None:
        raise InvalidMessage("Unknown or missing SignatureVersion.")
    parts = []
    for key in keys:
        value = message.get(key)
        if value is None and key in OPTIONAL_KEYS:
            continue
        if not isinstance(value, str):
            raise InvalidMessage(f"Missing or malformed {key}.")
        parts.append(f"{key}\n{value}\n")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidMessage("The signature is not base64.") from None
    if not signature:
        raise InvalidMessage("Unsigned message.")
    public_key = certificate(message.get("SigningCertURL")).public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise InvalidMessage("The signing certificate has no RSA key.")
    try:
        public_key.verify(signature, "".join(parts).encode(), padding.PKCS1v15(), algorithm())
    except InvalidSignature:
        raise InvalidMessage("The signature does not match the message.") from None


def check_cert_url(url: object) -> str:
    """The URL if SNS certificates may come from it; raise :class:`InvalidMessage` otherwise."""
    if not isinstance(url, str) or len(url) > 2000:
        raise InvalidMessage("Missing SigningCertURL.")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    extra = {h.lower() for h in settings.SES_SNS_EXTRA_CERT_HOSTS}
    allowed = (
        AWS_CERT_HOST.fullmatch(host) is not None and parts.port is None
    ) or parts.netloc.lower() in extra
    if (
        parts.scheme != "https"
        or not allowed
        or parts.username is not None
        or parts.password is not None
        or not parts.path.endswith(".pem")
    ):
        raise InvalidMessage("SigningCertURL is not an SNS certificate URL.")
    return url


def certificate(url: object) -> x509.Certificate:
    """The certificate at ``url`` (checked by :func:`check_cert_url`), cached per process."""
    url = check_cert_url(url)
    with _lock:
        cached = _certificates.get(url)
    if cached is not None:
        return _check_dates(cached)
    try:
        response = requests.get(url, timeout=CERT_TIMEOUT, allow_redirects=False, stream=True)
        body = response.raw.read(MAX_CERT_BYTES + 1, decode_content=True)
        response.close()
    except requests.RequestException as error:
        raise CertificateUnavailable(f"Could not fetch {url}: {type(error).__name__}") from None
    if response.status_code >= 500:
        raise CertificateUnavailable(f"{url} answered {response.status_code}.")
    if response.status_code != 200 or len(body) > MAX_CERT_BYTES:
        raise InvalidMessage("SigningCertURL does not serve a certificate.")
    try:
        cert = x509.load_pem_x509_certificate(body)
    except ValueError:
        raise InvalidMessage("SigningCertURL does not serve a PEM certificate.") from None
    with _lock:
        if len(_certificates) >= _CACHE_SIZE:
            _certificates.pop(next(iter(_certificates)))
        _certificates[url] = cert
    return _check_dates(cert)


def _check_dates(cert: x509.Certificate) -> x509.Certificate:
    now = datetime.now(UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise InvalidMessage("The signing certificate is not valid now.")
    return cert


def forget_certificates() -> None:
    """Empty the per-process certificate cache (tests)."""
    with _lock:
        _certificates.clear()
