"""A small, faithful fake of ShipStation's v1 REST API (orders, shipments, SHIP_NOTIFY) for tests.

Point the HTTP client at ``fake.url`` instead of ``https://ssapi.shipstation.com`` and use HTTP
basic auth with the fake's key and secret::

    requests.post(f"{fake.url}/orders/createorder", json=order, auth=fake.auth, timeout=5)

Behaviour follows ShipStation's documentation:

* ``POST /orders/createorder`` is create-or-update keyed by ``orderKey``: a known key updates
  that order in place (same ``orderId``, whole resource replaced, ``createDate`` kept); an
  unknown key creates an order with that key. **Without an orderKey ShipStation generates a
  fresh one, so every call creates another order** — send a deterministic ``orderKey``
  (``order-<id>``) to make retries safe. Only open orders (``awaiting_payment``,
  ``awaiting_shipment``, ``on_hold``) can be updated; others answer 400. Required fields:
  ``orderNumber``, ``orderDate``, ``orderStatus``, ``billTo``, ``shipTo``.
* ``GET /orders`` (``orderNumber`` is a *starts with* filter, as documented; ``orderStatus``,
  ``page``, ``pageSize``), ``GET /orders/{orderId}``, and ``GET /shipments`` (``orderNumber``,
  ``orderId``, ``batchId``, ``trackingNumber``, ``includeShipmentItems``, ``page``,
  ``pageSize``), all in ShipStation's list shape ``{"orders"|"shipments": [...], "total",
  "page", "pages"}``.
* Every answer carries ``X-Rate-Limit-Limit/-Remaining/-Reset``. ShipStation v1 signals when to
  retry with ``X-Rate-Limit-Reset`` (seconds); injected 429s also send ``Retry-After`` with the
  same value, so read either.
* Timestamps are in ShipStation's format and time zone (US Pacific, no offset, 7 decimals).

``delay_next(n, seconds)`` makes the next `n` requests slow: each is handled at once (an order is
created or updated, the request is logged) but its answer is sent only after `seconds`, so a test
can stop the client while it waits, after ShipStation has already acted.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import threading
import uuid
from datetime import datetime
from itertools import count
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from ._server import FakeServer, RecordedRequest, Request, Response, header_dict

RATE_LIMIT = 40
# Throwaway credentials the fake accepts unless given others; never real ones.
TEST_API_KEY = "ss-test-key"
TEST_API_SECRET = "ss-test-secret"
STATUSES = (
    "awaiting_payment",
    "awaiting_shipment",
    "pending_fulfillment",
    "shipped",
    "on_hold",
    "cancelled",
    "rejected_fulfillment",
)
OPEN_STATUSES = ("awaiting_payment", "awaiting_shipment", "on_hold")
REQUIRED = ("orderNumber", "orderDate", "orderStatus", "billTo", "shipTo")
_PACIFIC = ZoneInfo("America/Los_Angeles")

_ADDRESS = dict.fromkeys(
    (
        "name",
        "company",
        "street1",
        "street2",
        "street3",
        "city",
        "state",
        "postalCode",
        "country",
        "phone",
        "residential",
        "addressVerified",
    )
)
_ITEM = {
    "lineItemKey": None,
    "sku": None,
    "name": None,
    "imageUrl": None,
    "weight": None,
    "quantity": 1,
    "unitPrice": 0,
    "taxAmount": None,
    "shippingAmount": None,
    "warehouseLocation": None,
    "options": [],
    "productId": None,
    "fulfillmentSku": None,
    "adjustment": False,
    "upc": None,
}
_ORDER = {
    "orderNumber": None,
    "orderKey": None,
    "orderDate": None,
    "paymentDate": None,
    "shipByDate": None,
    "orderStatus": None,
    "customerId": None,
    "customerUsername": None,
    "customerEmail": None,
    "billTo": None,
    "shipTo": None,
    "items": [],
    "amountPaid": 0,
    "taxAmount": 0,
    "shippingAmount": 0,
    "customerNotes": None,
    "internalNotes": None,
    "gift": False,
    "giftMessage": None,
    "paymentMethod": None,
    "requestedShippingService": None,
    "carrierCode": None,
    "serviceCode": None,
    "packageCode": None,
    "confirmation": "none",
    "shipDate": None,
    "holdUntilDate": None,
    "weight": None,
    "dimensions": None,
    "insuranceOptions": None,
    "internationalOptions": None,
    "advancedOptions": None,
    "tagIds": None,
    "userId": None,
    "externallyFulfilled": False,
    "externallyFulfilledBy": None,
    "labelMessages": None,
}


def shipstation_now() -> str:
    """Now as ShipStation writes it: ``2015-07-16T14:00:34.8230000`` (US Pacific)."""
    now = datetime.now(_PACIFIC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0"


def _message(status: int, message: str, **extra: Any) -> Response:
    return Response(status, {"Message": message, **extra})


def _page(key: str, rows: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    try:
        page = max(1, int(query.get("page", 1)))
        size = min(500, max(1, int(query.get("pageSize", 100))))
    except ValueError:
        page, size = 1, 100
    start = (page - 1) * size
    return {
        key: rows[start : start + size],
        "total": len(rows),
        "page": page,
        "pages": math.ceil(len(rows) / size),
    }


class FakeShipStation(FakeServer):
    """An in-memory ShipStation v1 account: orders, shipments and SHIP_NOTIFY batches."""

    def __init__(self, api_key: str = TEST_API_KEY, api_secret: str = TEST_API_SECRET) -> None:
        super().__init__()
        self.api_key = api_key
        self.api_secret = api_secret
        self.orders: dict[int, dict[str, Any]] = {}
        self.shipments: dict[int, dict[str, Any]] = {}
        self._order_ids = count(100_000_001)
        self._item_ids = count(200_000_001)
        self._shipment_ids = count(300_000_001)
        self._batch_ids = count(400_000_001)
        self._tracking = count(1)
        self._delays: list[float] = []
        self._stopping = threading.Event()

    @property
    def auth(self) -> tuple[str, str]:
        """``(api_key, api_secret)`` for ``requests``' ``auth=`` / ``httpx.BasicAuth``."""
        return (self.api_key, self.api_secret)

    # --- HTTP ------------------------------------------------------------------------------
    def _dispatch(self, request: Request) -> Response:
        response = super()._dispatch(request)
        with self.lock:
            delay = self._delays.pop(0) if self._delays else 0.0
        if delay:
            # Outside the lock: other requests are answered meanwhile; `stop()` ends the wait.
            self._stopping.wait(delay)
        return response

    def record(self, request: Request) -> RecordedRequest:
        params: Any = None
        if request.body:
            try:
                params = json.loads(request.body)
            except ValueError:
                params = request.body
        return RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(parse_qsl(request.query, keep_blank_values=True)),
            params=params,
            headers=header_dict(request.headers),
        )

    def failure_response(self, status: int, retry_after: int | None) -> Response:
        messages = {429: "Too Many Requests", 503: "Service Unavailable"}
        response = _message(status, messages.get(status, "An error has occurred."))
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        if status == 429:
            response.headers.update(
                {
                    "X-Rate-Limit-Limit": str(RATE_LIMIT),
                    "X-Rate-Limit-Remaining": "0",
                    "X-Rate-Limit-Reset": str(retry_after),
                }
            )
        return response

    def handle(self, request: Request, record: RecordedRequest) -> Response:
        if not self._authorised(request):
            response = _message(401, "Authorization has been denied for this request.")
            response.headers["WWW-Authenticate"] = 'Basic realm="ShipStation"'
            return response
        response = self._route(request, record)
        response.headers = {
            "X-Rate-Limit-Limit": str(RATE_LIMIT),
            "X-Rate-Limit-Remaining": str(RATE_LIMIT - 1),
            "X-Rate-Limit-Reset": "60",
            **response.headers,
        }
        return response

    def _authorised(self, request: Request) -> bool:
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(token, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.api_key}:{self.api_secret}"

    def _route(self, request: Request, record: RecordedRequest) -> Response:
        parts = request.path.strip("/").split("/")
        match (request.method, [p.lower() for p in parts]):
            case ("POST", ["orders", "createorder"]):
                if not isinstance(record.params, dict):
                    return _message(
                        400,
                        "The request is invalid.",
                        ModelState={
                            "apiOrder": ["The request body must be an Order object in JSON."]
                        },
                    )
                return self._create_or_update(record.params)
            case ("GET", ["orders"]):
                return Response(200, self._list_orders(record.query))
            case ("GET", ["orders", order_id]) if order_id.isdigit():
                order = self.orders.get(int(order_id))
                if order is None:
                    return _message(404, f"Order {order_id} was not found.")
                return Response(200, copy.deepcopy(order))
            case ("GET", ["shipments"]):
                return Response(200, self._list_shipments(record.query))
        return _message(
            404, f"No HTTP resource was found that matches the request URI '{request.path}'."
        )

    # --- orders ----------------------------------------------------------------------------
    def _create_or_update(self, body: dict[str, Any]) -> Response:
        errors = {
            f"apiOrder.{name}": [f"The {name} field is required."]
            for name in REQUIRED
            if body.get(name) in (None, "")
        }
        if not errors and body["orderStatus"] not in STATUSES:
            errors["apiOrder.orderStatus"] = [f"'{body['orderStatus']}' is not a valid status."]
        if errors:
            return _message(400, "The request is invalid.", ModelState=errors)
        key = body.get("orderKey") or str(uuid.uuid4())
        existing = next((o for o in self.orders.values() if o["orderKey"] == key), None)
        if existing is not None and existing["orderStatus"] not in OPEN_STATUSES:
            return _message(
                400,
                f"Order {existing['orderNumber']} is {existing['orderStatus']} and cannot be "
                "updated.",
            )
        now = shipstation_now()
        order = {name: copy.deepcopy(body.get(name, default)) for name, default in _ORDER.items()}
        order["orderId"] = existing["orderId"] if existing else next(self._order_ids)
        order["orderKey"] = key
        order["createDate"] = existing["createDate"] if existing else now
        order["modifyDate"] = now
        order["customerId"] = existing["customerId"] if existing else None
        order["billTo"] = {**_ADDRESS, **(body.get("billTo") or {})}
        order["shipTo"] = {**_ADDRESS, **(body.get("shipTo") or {})}
        order["items"] = [
            {
                **_ITEM,
                **item,
                "orderItemId": next(self._item_ids),
                "createDate": now,
                "modifyDate": now,
            }
            for item in body.get("items") or []
        ]
        goods = sum(
            float(i["unitPrice"] or 0) * int(i["quantity"] or 0)
            for i in order["items"]
            if not i["adjustment"]
        )
        order["orderTotal"] = round(
            goods + float(order["shippingAmount"] or 0) + float(order["taxAmount"] or 0), 2
        )
        self.orders[order["orderId"]] = order
        return Response(200, copy.deepcopy(order))

    def _list_orders(self, query: dict[str, str]) -> dict[str, Any]:
        rows = list(self.orders.values())
        if query.get("orderNumber"):
            prefix = query["orderNumber"].lower()
            rows = [o for o in rows if str(o["orderNumber"]).lower().startswith(prefix)]
        if query.get("orderStatus"):
            rows = [o for o in rows if o["orderStatus"] == query["orderStatus"]]
        return _page("orders", copy.deepcopy(rows), query)

    # --- shipments -------------------------------------------------------------------------
    def _list_shipments(self, query: dict[str, str]) -> dict[str, Any]:
        rows = list(self.shipments.values())
        for name in ("orderNumber", "orderId", "batchId", "trackingNumber"):
            if query.get(name):
                rows = [s for s in rows if str(s[name]) == query[name]]
        rows = copy.deepcopy(rows)
        with_items = query.get("includeShipmentItems", "").lower() == "true"
        for shipment in rows:
            if with_items:
                shipment["shipmentItems"] = copy.deepcopy(self.orders[shipment["orderId"]]["items"])
            del shipment["batchId"]  # the fake's own index; not part of ShipStation's model
        return _page("shipments", rows, query)

    # --- test controls ---------------------------------------------------------------------
    def delay_next(self, n: int = 1, seconds: float = 5.0) -> None:
        """Handle the next `n` requests at once but send each answer only after `seconds`.

        Applies to requests in arrival order, after any `fail_next` failures are decided.
        """
        with self.lock:
            self._delays.extend([float(seconds)] * n)

    def stop(self) -> None:
        self._stopping.set()  # release any answer still waiting in `delay_next`
        super().stop()
        self._stopping.clear()

    def ship(
        self,
        order_number: str,
        carrier_code: str = "royal_mail",
        tracking_number: str | None = None,
        *,
        service_code: str | None = None,
        order_key: str | None = None,
    ) -> dict[str, str]:
        """Ship the order (a label is bought): record a shipment, mark the order shipped.

        Returns the SHIP_NOTIFY webhook body ShipStation would POST. The order must be
        ``awaiting_shipment``; when several orders share the number, pass `order_key`.
        """
        with self.lock:
            matches = [
                o
                for o in self.orders.values()
                if o["orderNumber"] == order_number and order_key in (None, o["orderKey"])
            ]
            if not matches:
                raise KeyError(f"no ShipStation order {order_number!r}")
            if len(matches) > 1:
                raise ValueError(f"{len(matches)} orders are numbered {order_number!r}")
            order = matches[0]
            if order["orderStatus"] != "awaiting_shipment":
                raise ValueError(f"order {order_number!r} is {order['orderStatus']}")
            now = shipstation_now()
            batch_id = next(self._batch_ids)
            shipment_id = next(self._shipment_ids)
            tracking = tracking_number or f"TT{next(self._tracking):09d}GB"
            self.shipments[shipment_id] = {
                "shipmentId": shipment_id,
                "orderId": order["orderId"],
                "orderKey": order["orderKey"],
                "userId": str(uuid.uuid4()),
                "customerEmail": order["customerEmail"],
                "orderNumber": order["orderNumber"],
                "createDate": now,
                "shipDate": now[:10],
                "shipmentCost": 3.95,
                "insuranceCost": 0.0,
                "trackingNumber": tracking,
                "isReturnLabel": False,
                "batchNumber": str(batch_id),
                "carrierCode": carrier_code,
                "serviceCode": service_code,
                "packageCode": "package",
                "confirmation": order["confirmation"] or "none",
                "warehouseId": None,
                "voided": False,
                "voidDate": None,
                "marketplaceNotified": False,
                "notifyErrorMessage": None,
                "shipTo": copy.deepcopy(order["shipTo"]),
                "weight": copy.deepcopy(order["weight"]),
                "dimensions": copy.deepcopy(order["dimensions"]),
                "insuranceOptions": copy.deepcopy(order["insuranceOptions"]),
                "advancedOptions": copy.deepcopy(order["advancedOptions"]),
                "shipmentItems": None,
                "labelData": None,
                "formData": None,
                "batchId": batch_id,
            }
            order.update(
                orderStatus="shipped",
                shipDate=now[:10],
                carrierCode=carrier_code,
                serviceCode=service_code,
                modifyDate=now,
            )
            return {
                "resource_url": (
                    f"{self.url}/shipments?batchId={batch_id}&includeShipmentItems=False"
                ),
                "resource_type": "SHIP_NOTIFY",
            }
