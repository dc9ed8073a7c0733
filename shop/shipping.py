"""Shipping: ShipStation in production, manual shipping (the team enters tracking) otherwise.

ShipStation's ``createorder`` is an upsert keyed by our order number, so a retried task updates
the same ShipStation order instead of making a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings

from .models import Order


class ShippingError(Exception):
    """ShipStation refused the request; retrying will not help."""


class ShippingUnavailable(Exception):
    """A temporary failure (429 or 5xx, or no connection); retry after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Shipment:
    order_number: str
    carrier: str
    tracking_number: str


class ShippingBackend(Protocol):
    name: str

    def create_order(self, order: Order) -> str: ...

    def shipments_for_notification(self, resource_url: str) -> list[Shipment]: ...


class ManualShipping:
    """No external service: the team marks orders shipped in the admin with a tracking number."""

    name = "manual"

    def create_order(self, order: Order) -> str:
        return ""

    def shipments_for_notification(self, resource_url: str) -> list[Shipment]:
        return []


class ShipStation:
    name = "shipstation"

    def __init__(self, api_key: str, api_secret: str, base_url: str):
        self.auth = (api_key, api_secret)
        self.base_url = base_url.rstrip("/")

    def _request(self, method: str, path: str, **kwargs) -> dict:
        try:
            response = requests.request(
                method,
                f"{self.base_url}{path}",
                auth=self.auth,
                timeout=(settings.SHIPSTATION_CONNECT_TIMEOUT, settings.SHIPSTATION_READ_TIMEOUT),
                **kwargs,
            )
        except requests.RequestException as error:
            raise ShippingUnavailable(f"ShipStation unreachable: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = response.headers.get("Retry-After") or response.headers.get(
                "X-Rate-Limit-Reset", ""
            )
            raise ShippingUnavailable(
                f"ShipStation answered {response.status_code}",
                int(retry_after) if retry_after.isdigit() else None,
            )
        if response.status_code >= 400:
            raise ShippingError(
                f"ShipStation answered {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    def create_order(self, order: Order) -> str:
        body = {
            "orderNumber": order.number,
            "orderKey": order.number,
            "orderDate": order.created_at.isoformat(),
            "paymentDate": order.paid_at.isoformat() if order.paid_at else None,
            "orderStatus": "awaiting_shipment",
            "customerEmail": order.email,
            "amountPaid": float(order.total),
            "shippingAmount": float(order.shipping),
            "billTo": {"name": order.shipping_name or order.email},
            "shipTo": {
                "name": order.shipping_name,
                "street1": order.shipping_line1,
                "street2": order.shipping_line2,
                "city": order.shipping_city,
                "state": order.shipping_state,
                "postalCode": order.shipping_postal_code,
                "country": str(order.shipping_country),
            },
            "items": [
                {
                    "sku": f"AW-{line.artwork_id}-{line.edition_number or 1}",
                    "name": str(line),
                    "quantity": 1,
                    "unitPrice": float(line.unit_price),
                }
                for line in order.lines.all()
            ],
            "insuranceOptions": {
                "provider": "carrier",
                "insureShipment": True,
                "insuredValue": float(order.subtotal),
            },
        }
        return str(self._request("POST", "/orders/createorder", json=body)["orderId"])

    def shipments_for_notification(self, resource_url: str) -> list[Shipment]:
        # Only the query of the notified URL is used, against our configured host: a forged
        # notification cannot make us fetch from anywhere else.
        query = parse_qs(urlsplit(resource_url).query)
        batch = query.get("batchId", [""])[0]
        if not batch:
            raise ShippingError("The notification has no batchId.")
        data = self._request("GET", "/shipments", params={"batchId": batch})
        return [
            Shipment(
                order_number=item.get("orderNumber", ""),
                carrier=item.get("carrierCode", "") or "",
                tracking_number=item.get("trackingNumber", "") or "",
            )
            for item in data.get("shipments", [])
        ]


def get_shipping() -> ShippingBackend:
    if settings.SHIPSTATION_API_KEY:
        return ShipStation(
            settings.SHIPSTATION_API_KEY,
            settings.SHIPSTATION_API_SECRET,
            settings.SHIPSTATION_API_BASE,
        )
    return ManualShipping()
