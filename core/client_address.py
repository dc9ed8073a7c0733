"""The collector's real address, read from the proxies we trust and from nothing else.

Behind CloudFront and a load balancer every request reaches Django from a handful of proxy
addresses, so ``REMOTE_ADDR`` names the proxy, not the collector. Rate limits, logs and anything
else that asks "who is this?" ask :func:`client_address` instead. It reads, in order:

``TRUSTED_PROXY_HEADER=cloudfront``
    ``CloudFront-Viewer-Address``, which CloudFront sets from the TCP connection it accepted
    (add it to the origin request policy). Its value is ``ip:port``: ``198.51.100.10:46532``,
    or for IPv6 the address unbracketed (``2001:db8::1:46532``; bracketed is accepted too). Only
    safe when the origin accepts connections from CloudFront alone.
``TRUSTED_PROXY_HOPS=N`` (N ≥ 1)
    ``X-Forwarded-For``, counted from the right: each trusted proxy appends the address it was
    connected from, so the Nth entry from the right was written by the outermost trusted proxy.
    Whatever a client puts in the header itself lands to the left of it and can never move it.
    With one load balancer in front, N = 1. A header with fewer than N entries did not pass
    every trusted proxy and is ignored.
otherwise
    ``REMOTE_ADDR``: the default (no proxy trusted), right for ``make run`` and for a server
    reached directly.

A value that is missing or is not an IP address (garbage, a name, a bad port) falls back to the
next source and finally to ``REMOTE_ADDR``: reading the address never raises. IPv4-mapped IPv6
addresses (``::ffff:192.0.2.1``) read as IPv4, so one client has one spelling.

``ClientAddressMiddleware`` works the address out once per request (``request.client_address``)
and makes it available to log lines (``ClientAddressLogFilter``). django-ratelimit's ``key="ip"``
follows through ``RATELIMIT_IP_META_KEY`` pointing at :func:`client_address`.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CLOUDFRONT = "cloudfront"

# The address of the request being handled, for log lines ("-" outside a request).
_current: ContextVar[str] = ContextVar("client_address", default="-")


def parse_ip(text: str) -> str | None:
    """The normalised address in ``text`` (IPv4 or IPv6, bracketed or not), else None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:  # a zone (fe80::1%eth0) only means something on the proxy's own link
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def parse_viewer_address(value: str) -> str | None:
    """The address in a ``CloudFront-Viewer-Address`` value (``ip:port``), else None."""
    # The port follows the last colon, whatever the address (IPv6 comes unbracketed).
    host, colon, port = value.strip().rpartition(":")
    if not colon or not (port.isascii() and port.isdigit()) or len(port) > 5 or int(port) > 65535:
        return None
    return parse_ip(host)


def parse_forwarded_for(value: str, hops: int) -> str | None:
    """The Nth address from the right of an ``X-Forwarded-For`` value, else None."""
    if hops < 1:
        return None
    entries = [entry.strip() for entry in value.split(",")]
    if len(entries) < hops:
        return None
    return parse_ip(entries[-hops])


def resolve_client_address(request: HttpRequest) -> str:
    """Work out the client's address from the trusted proxy chain (see the module docstring)."""
    trusted = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    hops = getattr(settings, "TRUSTED_PROXY_HOPS", 0)
    meta = request.META
    if trusted == CLOUDFRONT:
        found = parse_viewer_address(meta.get("HTTP_CLOUDFRONT_VIEWER_ADDRESS", ""))
        if found:
            return found
    if hops:
        found = parse_forwarded_for(meta.get("HTTP_X_FORWARDED_FOR", ""), hops)
        if found:
            return found
    # The connecting address is set by the server, not the client; keep it as it is if odd.
    remote = meta.get("REMOTE_ADDR", "") or ""
    return parse_ip(remote) or remote


def client_address(request: HttpRequest) -> str:
    """The client's address: the one the middleware worked out, or worked out now."""
    found = getattr(request, "client_address", None)
    if found is None:
        found = resolve_client_address(request)
        request.client_address = found
    return found


class ClientAddressMiddleware:
    """Sets ``request.client_address`` once, and the address on every log line of the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.client_address = resolve_client_address(request)
        # Kept until the response is finished (forget_after_request), so Django's own line
        # about the response ("Not Found: /x") carries it too.
        _current.set(request.client_address or "-")
        return self.get_response(request)


def forget_after_request(**kwargs: object) -> None:
    """``request_finished``: log lines after the request no longer name its client."""
    _current.set("-")


class ClientAddressLogFilter(logging.Filter):
    """Adds ``client_address`` to every record: the current request's client, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.client_address = _current.get()
        return True
