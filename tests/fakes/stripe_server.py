"""A small, faithful fake of the Stripe API (Checkout Sessions, refunds, webhooks) for tests.

Pointing the real ``stripe`` library (v16) at it — both ways work, over plain ``http://``
(the library builds ``f"{base}{path}"`` and never checks the scheme; the base must not end
in a slash, and ``fake.url`` does not)::

    # 1. A client object (what `shop/payments.py` should use):
    client = stripe.StripeClient("sk_test_fake", base_addresses={"api": fake.url})
    session = client.v1.checkout.sessions.create(params={...}, options={"idempotency_key": k})

    # 2. Module-level globals (read on every request, so they can be set at any time):
    stripe.api_key = "sk_test_fake"
    stripe.api_base = fake.url
    session = stripe.checkout.Session.create(idempotency_key=k, **params)

    # Webhooks: sign an event the way Stripe does and verify it with the real library.
    event = fake.complete_session(session.id)
    payload, headers = fake.webhook_request(event, "whsec_test")
    stripe.Webhook.construct_event(payload, headers["Stripe-Signature"], "whsec_test")

Note ``StripeClient`` makes no network retries unless given ``max_network_retries``; the
module-level API retries twice by default (``stripe.max_network_retries = 2``), sleeping at
least 0.5 s, so `fail_next(status=500)` costs time there.

What it checks like Stripe does: the ``Authorization: Bearer sk_test_…`` key (401 otherwise;
live keys are refused), unknown parameters at any depth (the allowed names come from the
library's own ``stripe.params`` types), missing required parameters, ``expires_at`` between
30 minutes and 24 hours ahead, one currency per session, refunds beyond the captured amount,
and ``Idempotency-Key`` replays (same key and parameters: the stored response, with
``Idempotent-Replayed: true``; same key, other parameters or endpoint: 400 ``idempotency_error``).
As at Stripe, only requests that got past validation store a replayable result (here: 2xx).

Endpoints: ``POST /v1/checkout/sessions``, ``GET /v1/checkout/sessions`` (``payment_intent``,
``status``, ``limit`` filters), ``GET /v1/checkout/sessions/{id}`` (``expand[]``:
``line_items``, ``payment_intent``), ``GET /v1/checkout/sessions/{id}/line_items``,
``POST /v1/checkout/sessions/{id}/expire``, ``POST /v1/refunds``, ``GET /v1/refunds/{id}``,
``GET /v1/payment_intents/{id}``, ``GET /v1/charges/{id}``, ``GET /v1/events/{id}``; and, for
browser tests, the hosted page ``GET /pay/{id}`` whose form (``POST /pay/{id}``) completes the
session and redirects to ``success_url`` with ``{CHECKOUT_SESSION_ID}`` filled in.

Every state change records its event in ``fake.events`` (``checkout.session.completed``,
``checkout.session.expired``, ``checkout.session.async_payment_failed``, ``refund.created``,
``charge.refunded``); nothing is delivered anywhere: tests post the events they want.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import html
import json
import re
import secrets
import string
import sys
import time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from ._server import FakeServer, RecordedRequest, Request, Response, header_dict

try:  # The library pins the API version it speaks; events claim the same one.
    from stripe._api_version import _ApiVersion

    API_VERSION = _ApiVersion.CURRENT
except ImportError:  # pragma: no cover - older stripe
    API_VERSION = "2026-10-28.endive"

try:  # The library's generated request types: the source of truth for parameter names.
    from stripe.params import RefundCreateParams
    from stripe.params.checkout import SessionCreateParams, SessionExpireParams
except ImportError:  # pragma: no cover - older stripe: skip the unknown-parameter check
    RefundCreateParams = SessionCreateParams = SessionExpireParams = None  # type: ignore[assignment,misc]

MIN_EXPIRY = 30 * 60
MAX_EXPIRY = 24 * 60 * 60
_ALPHANUMERIC = string.ascii_letters + string.digits
_REQUEST_OPTIONS = {
    "api_key",
    "content_type",
    "headers",
    "idempotency_key",
    "max_network_retries",
    "stripe_account",
    "stripe_context",
    "stripe_version",
}
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")


def new_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id such as ``pi_3PqXn…``."""
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


class StripeAPIError(Exception):
    """An API error answered with Stripe's error JSON."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        error: dict[str, Any] = {"message": message, "type": type}
        if code:
            error["code"] = code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        if param:
            error["param"] = param
        self.response = Response(status, {"error": error})


# --- form decoding and parameter checking ---------------------------------------------------
def parse_form(body: str) -> dict[str, Any]:
    """Decode Stripe's form encoding (``a[b][0][c]=v``) into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        match = _KEY.match(key)
        tokens = (
            [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))] if match else [key]
        )
        node = root
        for token in tokens[:-1]:
            token = token or str(len(node))
            child = node.setdefault(token, {})
            if not isinstance(child, dict):  # "a=1&a[b]=2": keep the scalar, drop the clash
                break
            node = child
        else:
            node[tokens[-1] or str(len(node))] = value
    return _listify(root)


def _listify(node: Any, key: str = "") -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v, k) for k, v in node.items()}
    if key != "metadata" and node and all(k.isdigit() for k in node):
        return [node[k] for k in sorted(node, key=int)]
    return node


def _is_typeddict(value: object) -> bool:
    """True for `typing` and `typing_extensions` TypedDicts alike."""
    return isinstance(value, type) and issubclass(value, dict) and hasattr(value, "__total__")


@cache
def _allowed(params_type: type) -> dict[str, type | None]:
    """Parameter names of a ``stripe.params`` TypedDict, each with its nested type (or None)."""
    module = sys.modules[params_type.__module__]
    allowed: dict[str, type | None] = {}
    for name, annotation in params_type.__annotations__.items():
        if name in _REQUEST_OPTIONS:
            continue
        text = annotation if isinstance(annotation, str) else repr(annotation)
        nested = {
            getattr(module, word)
            for word in re.findall(r"[A-Za-z_]\w*", text)
            if _is_typeddict(getattr(module, word, None))
        }
        free_form = "Dict[" in text or "dict[" in text
        allowed[name] = nested.pop() if len(nested) == 1 and not free_form else None
    return allowed


def unknown_param(params: dict[str, Any], params_type: type | None, prefix: str = "") -> str | None:
    """The first parameter (in Stripe's bracket notation) that the API does not accept."""
    if params_type is None:
        return None
    allowed = _allowed(params_type)
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if key not in allowed:
            return name
        nested = allowed[key]
        if nested is None:
            continue
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            if isinstance(item, dict):
                found = unknown_param(item, nested, name if index is None else f"{name}[{index}]")
                if found:
                    return found
    return None


def _int(value: Any, param: str, minimum: int | None = None) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise StripeAPIError(400, f"Invalid integer: {value}", param=param) from None
    if minimum is not None and number < minimum:
        raise StripeAPIError(
            400, f"This value must be greater than or equal to {minimum}.", param=param
        )
    return number


def _required(container: dict[str, Any], key: str, param: str) -> Any:
    value = container.get(key) if isinstance(container, dict) else None
    if value in (None, ""):
        raise StripeAPIError(
            400, f"Missing required param: {param}.", code="parameter_missing", param=param
        )
    return value


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _list_object(url: str, data: list[dict[str, Any]], has_more: bool = False) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


class FakeStripe(FakeServer):
    """An in-memory Stripe: Checkout Sessions, payment intents, charges, refunds and events."""

    def __init__(self, api_key: str | None = None) -> None:
        """`api_key`: require exactly this key; by default any ``sk_test_``/``rk_test_`` key."""
        super().__init__()
        self.api_key = api_key
        self.checkout_sessions: dict[str, dict[str, Any]] = {}
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.shipping_rates: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._session_params: dict[str, dict[str, Any]] = {}
        self._idempotency: dict[tuple[str, str], tuple[str, str, Any, str, Response]] = {}

    # --- HTTP ------------------------------------------------------------------------------
    def record(self, request: Request) -> RecordedRequest:
        params: Any
        try:
            params = parse_form(
                request.body.decode() if request.method == "POST" else request.query
            )
        except UnicodeDecodeError:
            params = request.body
        return RecordedRequest(
            method=request.method,
            path=request.path,
            query=parse_form(request.query),
            params=params,
            headers=header_dict(request.headers),
            idempotency_key=request.headers.get("Idempotency-Key"),
        )

    def failure_response(self, status: int, retry_after: int | None) -> Response:
        if status == 429:
            error = {
                "type": "invalid_request_error",
                "code": "rate_limit",
                "message": "Too many requests hit the API too quickly.",
            }
        else:
            error = {"type": "api_error", "message": "An unknown error occurred (injected)."}
        headers = {"Request-Id": new_id("req_", 14)}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(status, {"error": error}, headers)

    def handle(self, request: Request, record: RecordedRequest) -> Response:
        if request.path.startswith("/pay/"):
            return self._hosted_page(request, request.path.removeprefix("/pay/"))
        headers = {
            "Request-Id": new_id("req_", 14),
            "Stripe-Version": request.headers.get("Stripe-Version") or API_VERSION,
        }
        try:
            api_key = self._authenticate(request)
            response = self._idempotent(request, record, api_key, headers["Request-Id"])
        except StripeAPIError as error:
            response = error.response
        response.headers = {**headers, **response.headers}
        if record.idempotency_key and request.method == "POST":
            response.headers.setdefault("Idempotency-Key", record.idempotency_key)
        return response

    def _authenticate(self, request: Request) -> str:
        scheme, _, key = (request.headers.get("Authorization") or "").partition(" ")
        if scheme != "Bearer" or not key:
            raise StripeAPIError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY').",
            )
        valid = key == self.api_key if self.api_key else key.startswith(("sk_test_", "rk_test_"))
        if not valid:
            raise StripeAPIError(401, f"Invalid API Key provided: {key[:8]}****{key[-4:]}")
        return key

    def _idempotent(
        self, request: Request, record: RecordedRequest, api_key: str, request_id: str
    ) -> Response:
        key = record.idempotency_key
        if request.method != "POST" or not key:
            return self._route(request, record.params, request_id, key)
        if len(key) > 255:
            raise StripeAPIError(
                400, "Idempotency keys must be 255 characters or fewer.", param="Idempotency-Key"
            )
        stored = self._idempotency.get((api_key, key))
        if stored is not None:
            method, path, params, original_id, response = stored
            if (method, path, params) != (request.method, request.path, record.params):
                raise StripeAPIError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters "
                    f"they were first used with. Try using a key other than '{key}' if you "
                    "meant to execute a different request.",
                    type="idempotency_error",
                )
            record.replayed = True
            headers = {"Idempotent-Replayed": "true", "Original-Request": original_id}
            return Response(response.status, copy.deepcopy(response.body), headers)
        response = self._route(request, record.params, request_id, key)
        if 200 <= response.status < 300:
            self._idempotency[(api_key, key)] = (
                request.method,
                request.path,
                copy.deepcopy(record.params),
                request_id,
                Response(response.status, copy.deepcopy(response.body)),
            )
        return response

    def _route(
        self, request: Request, params: Any, request_id: str, idempotency_key: str | None
    ) -> Response:
        if request.method == "POST" and not isinstance(params, dict):
            raise StripeAPIError(400, "Invalid request: the body must be form-encoded.")
        context = {"id": request_id, "idempotency_key": idempotency_key}
        parts = request.path.strip("/").split("/")
        method = request.method
        match parts:
            case ["v1", "checkout", "sessions"] if method == "POST":
                body = self._create_session(params)
            case ["v1", "checkout", "sessions"] if method == "GET":
                body = self._list_sessions(params)
            case ["v1", "checkout", "sessions", session_id] if method == "GET":
                body = self._render_session(self._session(session_id), params.get("expand"))
            case ["v1", "checkout", "sessions", session_id, "line_items"] if method == "GET":
                self._session(session_id)
                url = f"/v1/checkout/sessions/{session_id}/line_items"
                body = _list_object(url, copy.deepcopy(self._line_items[session_id]))
            case ["v1", "checkout", "sessions", session_id, "expire"] if method == "POST":
                body = self._expire_via_api(session_id, params, context)
            case ["v1", "refunds"] if method == "POST":
                body = self._create_refund_via_api(params, context)
            case ["v1", "refunds", refund_id] if method == "GET":
                body = self._get(self.refunds, refund_id, "refund")
            case ["v1", "payment_intents", intent_id] if method == "GET":
                body = self._get(self.payment_intents, intent_id, "payment_intent")
            case ["v1", "charges", charge_id] if method == "GET":
                body = self._get(self.charges, charge_id, "charge")
            case ["v1", "events", event_id] if method == "GET":
                events = {event["id"]: event for event in self.events}
                body = self._get(events, event_id, "event")
            case _:
                raise StripeAPIError(
                    404,
                    f"Unrecognized request URL ({method}: {request.path}). Please see "
                    "https://stripe.com/docs or we can help at https://support.stripe.com/.",
                )
        return Response(200, body)

    def _get(self, store: dict[str, dict[str, Any]], object_id: str, noun: str) -> dict[str, Any]:
        if object_id not in store:
            raise StripeAPIError(
                404, f"No such {noun}: '{object_id}'", code="resource_missing", param="id"
            )
        return copy.deepcopy(store[object_id])

    # --- checkout sessions -----------------------------------------------------------------
    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        bad = unknown_param(params, SessionCreateParams)
        if bad:
            raise StripeAPIError(
                400, f"Received unknown parameter: {bad}", code="parameter_unknown", param=bad
            )
        mode = _required(params, "mode", "mode")
        if mode != "payment":
            raise StripeAPIError(400, "FakeStripe supports only mode=payment.", param="mode")
        if params.get("customer") and params.get("customer_email"):
            raise StripeAPIError(
                400, "You may only specify one of these parameters: customer, customer_email."
            )
        raw_items = params.get("line_items")
        if not isinstance(raw_items, list) or not raw_items:
            raise StripeAPIError(
                400, "`line_items` is required in `payment` mode.", param="line_items"
            )
        now = int(time.time())
        items = [self._line_item(i, raw) for i, raw in enumerate(raw_items)]
        currency = items[0]["currency"]
        for i, item in enumerate(items):
            if item["currency"] != currency:
                raise StripeAPIError(
                    400,
                    "All line items must use the same currency.",
                    param=f"line_items[{i}][price_data][currency]",
                )
        options = self._shipping_options(params.get("shipping_options"), currency, now)
        collection = params.get("shipping_address_collection")
        if collection is not None:
            countries = _required(
                collection,
                "allowed_countries",
                "shipping_address_collection[allowed_countries]",
            )
            for i, country in enumerate(_as_list(countries)):
                if not re.fullmatch(r"[A-Z]{2}", str(country)):
                    raise StripeAPIError(
                        400,
                        f"Invalid country: {country}",
                        param=f"shipping_address_collection[allowed_countries][{i}]",
                    )
            collection = {"allowed_countries": _as_list(countries)}

        expires_at = now + MAX_EXPIRY
        if "expires_at" in params:
            expires_at = _int(params["expires_at"], "expires_at")
            if expires_at - now > MAX_EXPIRY:
                raise StripeAPIError(
                    400,
                    "The `expires_at` timestamp must be less than 24 hours from Checkout "
                    "Session creation.",
                    param="expires_at",
                )
            if expires_at - now < MIN_EXPIRY:
                raise StripeAPIError(
                    400,
                    "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                    "Session creation.",
                    param="expires_at",
                )

        subtotal = sum(item["amount_subtotal"] for item in items)
        shipping = options[0]["shipping_amount"] if options else 0
        session_id = new_id("cs_test_", 58)
        session: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": subtotal,
            "amount_total": subtotal + shipping,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": params.get("billing_address_collection"),
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "client_secret": None,
            "collected_information": None,
            "created": now,
            "currency": currency,
            "customer": params.get("customer"),
            "customer_creation": params.get("customer_creation", "if_required"),
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "invoice": None,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": params.get("metadata") or {},
            "mode": mode,
            "payment_intent": None,
            "payment_link": None,
            "payment_method_collection": "if_required",
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "phone_number_collection": {"enabled": False},
            "recovered_from": None,
            "setup_intent": None,
            "shipping_address_collection": collection,
            "shipping_cost": (
                {
                    "amount_subtotal": shipping,
                    "amount_tax": 0,
                    "amount_total": shipping,
                    "shipping_rate": options[0]["shipping_rate"],
                }
                if options
                else None
            ),
            "shipping_options": options,
            "status": "open",
            "submit_type": params.get("submit_type"),
            "subscription": None,
            "success_url": params.get("success_url"),
            "total_details": {"amount_discount": 0, "amount_shipping": shipping, "amount_tax": 0},
            "ui_mode": params.get("ui_mode", "hosted"),
            "url": f"{self.url}/pay/{session_id}",
        }
        self.checkout_sessions[session_id] = session
        self._line_items[session_id] = items
        self._session_params[session_id] = copy.deepcopy(params)
        return self._render_session(session, params.get("expand"))

    def _line_item(self, index: int, raw: Any) -> dict[str, Any]:
        param = f"line_items[{index}]"
        if not isinstance(raw, dict):
            raise StripeAPIError(400, f"Invalid object: {param}", param=param)
        if raw.get("price"):
            raise StripeAPIError(
                400,
                f"No such price: '{raw['price']}'",
                code="resource_missing",
                param=f"{param}[price]",
            )
        data = _required(raw, "price_data", f"{param}[price_data]")
        currency = str(_required(data, "currency", f"{param}[price_data][currency]")).lower()
        if "unit_amount" in data:
            unit = Decimal(_int(data["unit_amount"], f"{param}[price_data][unit_amount]", 0))
        else:
            decimal = _required(data, "unit_amount_decimal", f"{param}[price_data][unit_amount]")
            try:
                unit = Decimal(decimal)
            except InvalidOperation:
                raise StripeAPIError(
                    400,
                    f"Invalid decimal: {decimal}",
                    param=f"{param}[price_data][unit_amount_decimal]",
                ) from None
        if data.get("product"):
            raise StripeAPIError(
                400,
                f"No such product: '{data['product']}'",
                code="resource_missing",
                param=f"{param}[price_data][product]",
            )
        product = _required(data, "product_data", f"{param}[price_data][product_data]")
        name = _required(product, "name", f"{param}[price_data][product_data][name]")
        quantity = _int(_required(raw, "quantity", f"{param}[quantity]"), f"{param}[quantity]", 1)
        amount = int((unit * quantity).to_integral_value(ROUND_HALF_UP))
        return {
            "id": new_id("li_"),
            "object": "item",
            "amount_discount": 0,
            "amount_subtotal": amount,
            "amount_tax": 0,
            "amount_total": amount,
            "currency": currency,
            "description": name,
            "metadata": raw.get("metadata") or {},
            "price": {
                "id": new_id("price_"),
                "object": "price",
                "active": False,
                "currency": currency,
                "livemode": False,
                "metadata": data.get("metadata") or {},
                "product": new_id("prod_", 14),
                "tax_behavior": data.get("tax_behavior", "unspecified"),
                "type": "one_time",
                "unit_amount": int(unit) if unit == unit.to_integral_value() else None,
                "unit_amount_decimal": str(unit),
            },
            "quantity": quantity,
        }

    def _shipping_options(self, raw: Any, currency: str, now: int) -> list[dict[str, Any]]:
        options = []
        raw_options = raw if isinstance(raw, list) else []
        if len(raw_options) > 5:
            raise StripeAPIError(
                400, "You may only specify up to 5 shipping options.", param="shipping_options"
            )
        for i, option in enumerate(raw_options):
            param = f"shipping_options[{i}]"
            if isinstance(option, dict) and option.get("shipping_rate"):
                raise StripeAPIError(
                    400,
                    f"No such shipping rate: '{option['shipping_rate']}'",
                    code="resource_missing",
                    param=f"{param}[shipping_rate]",
                )
            data = _required(option, "shipping_rate_data", f"{param}[shipping_rate_data]")
            name = _required(data, "display_name", f"{param}[shipping_rate_data][display_name]")
            fixed = _required(data, "fixed_amount", f"{param}[shipping_rate_data][fixed_amount]")
            amount_param = f"{param}[shipping_rate_data][fixed_amount][amount]"
            amount = _int(_required(fixed, "amount", amount_param), amount_param, 0)
            rate_currency = str(
                _required(fixed, "currency", f"{param}[shipping_rate_data][fixed_amount][currency]")
            ).lower()
            if rate_currency != currency:
                raise StripeAPIError(
                    400,
                    "Shipping rates must use the same currency as the line items.",
                    param=f"{param}[shipping_rate_data][fixed_amount][currency]",
                )
            rate_id = new_id("shr_")
            self.shipping_rates[rate_id] = {
                "id": rate_id,
                "object": "shipping_rate",
                "active": True,
                "created": now,
                "delivery_estimate": data.get("delivery_estimate"),
                "display_name": name,
                "fixed_amount": {"amount": amount, "currency": rate_currency},
                "livemode": False,
                "metadata": data.get("metadata") or {},
                "tax_behavior": data.get("tax_behavior", "unspecified"),
                "tax_code": data.get("tax_code"),
                "type": data.get("type", "fixed_amount"),
            }
            options.append({"shipping_amount": amount, "shipping_rate": rate_id})
        return options

    def _session(self, session_id: str) -> dict[str, Any]:
        session = self.checkout_sessions.get(session_id)
        if session is None:
            raise StripeAPIError(
                404,
                f"No such checkout.session: '{session_id}'",
                code="resource_missing",
                param="session",
            )
        if session["status"] == "open" and time.time() >= session["expires_at"]:
            self._expire(session, None)  # Stripe expires sessions once expires_at passes
        return session

    def _render_session(self, session: dict[str, Any], expand: Any) -> dict[str, Any]:
        body = copy.deepcopy(session)
        fields = _as_list(expand)
        if "line_items" in fields:
            body["line_items"] = _list_object(
                f"/v1/checkout/sessions/{session['id']}/line_items",
                copy.deepcopy(self._line_items[session["id"]]),
            )
        if "payment_intent" in fields and session["payment_intent"]:
            body["payment_intent"] = copy.deepcopy(self.payment_intents[session["payment_intent"]])
        return body

    def _list_sessions(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = _int(params.get("limit", 10), "limit", 1)
        sessions = [self._session(i) for i in reversed(list(self.checkout_sessions))]
        for field in ("payment_intent", "status", "customer", "client_reference_id"):
            if field in params:
                sessions = [s for s in sessions if s[field] == params[field]]
        data = [self._render_session(s, params.get("expand")) for s in sessions[:limit]]
        return _list_object("/v1/checkout/sessions", data, has_more=len(sessions) > limit)

    def _expire(self, session: dict[str, Any], context: dict[str, Any] | None) -> dict[str, Any]:
        session["status"] = "expired"
        return self._event("checkout.session.expired", session, context=context)

    def _expire_via_api(
        self, session_id: str, params: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        bad = unknown_param(params, SessionExpireParams)
        if bad:
            raise StripeAPIError(
                400, f"Received unknown parameter: {bad}", code="parameter_unknown", param=bad
            )
        session = self._session(session_id)
        if session["status"] != "open":
            raise StripeAPIError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired.',
                param="session",
            )
        self._expire(session, context)
        return self._render_session(session, params.get("expand"))

    # --- refunds ---------------------------------------------------------------------------
    def _create_refund_via_api(
        self, params: dict[str, Any], context: dict[str, Any]
    ) -> dict[str, Any]:
        bad = unknown_param(params, RefundCreateParams)
        if bad:
            raise StripeAPIError(
                400, f"Received unknown parameter: {bad}", code="parameter_unknown", param=bad
            )
        if params.get("charge"):
            charge = self.charges.get(params["charge"])
            if charge is None:
                raise StripeAPIError(
                    400,
                    f"No such charge: '{params['charge']}'",
                    code="resource_missing",
                    param="charge",
                )
        elif params.get("payment_intent"):
            charge = self._charge_of(params["payment_intent"])
        else:
            raise StripeAPIError(
                400, "One of `charge` or `payment_intent` is required.", param="payment_intent"
            )
        amount = _int(params["amount"], "amount", 1) if "amount" in params else None
        refund = self._refund(
            charge,
            amount,
            reason=params.get("reason"),
            metadata=params.get("metadata") or {},
            context=context,
        )
        return copy.deepcopy(refund)

    def _charge_of(self, payment_intent_id: str) -> dict[str, Any]:
        intent = self.payment_intents.get(payment_intent_id)
        if intent is None:
            raise StripeAPIError(
                400,
                f"No such payment_intent: '{payment_intent_id}'",
                code="resource_missing",
                param="payment_intent",
            )
        if not intent.get("latest_charge"):
            raise StripeAPIError(
                400,
                f"This PaymentIntent ({payment_intent_id}) does not have a successful charge "
                "to refund.",
                param="payment_intent",
            )
        return self.charges[intent["latest_charge"]]

    def _refund(
        self,
        charge: dict[str, Any],
        amount: int | None,
        *,
        reason: str | None = None,
        metadata: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        remaining = charge["amount_captured"] - charge["amount_refunded"]
        if remaining <= 0:
            raise StripeAPIError(
                400,
                f"Charge {charge['id']} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = remaining if amount is None else amount
        if amount > remaining:
            raise StripeAPIError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                param="amount",
            )
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise StripeAPIError(400, f"Invalid reason: {reason}", param="reason")
        refund_id = new_id("re_")
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": new_id("txn_"),
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "destination_details": {"card": {"type": "refund"}, "type": "card"},
            "metadata": metadata or {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[refund_id] = refund
        previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] >= charge["amount_captured"]
        self._event("refund.created", refund, context=context)
        self._event("charge.refunded", charge, previous=previous, context=context)
        return refund

    # --- events and webhooks ---------------------------------------------------------------
    def _event(
        self,
        type: str,
        obj: dict[str, Any],
        *,
        previous: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {
                "id": (context or {}).get("id"),
                "idempotency_key": (context or {}).get("idempotency_key"),
            },
            "type": type,
        }
        self.events.append(event)
        return copy.deepcopy(event)

    def last_event(self, type: str) -> dict[str, Any]:
        """The newest recorded event of this type (KeyError if none)."""
        with self.lock:
            for event in reversed(self.events):
                if event["type"] == type:
                    return copy.deepcopy(event)
        raise KeyError(type)

    @staticmethod
    def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
        """A ``Stripe-Signature`` header: ``t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">``."""
        ts = int(time.time()) if timestamp is None else int(timestamp)
        body = payload.encode() if isinstance(payload, str) else payload
        digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={ts},v1={digest}"

    def webhook_request(
        self, event: dict[str, Any], secret: str, timestamp: int | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers Stripe would POST to a webhook endpoint for `event`."""
        payload = json.dumps(event, indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.sign(payload, secret, timestamp),
        }
        return payload, headers

    # --- test controls ---------------------------------------------------------------------
    def complete_session(
        self, session_id: str, shipping_details: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The customer pays: the session becomes complete/paid with a payment intent and charge.

        `shipping_details` is ``{"name": …, "address": {"line1", "line2", "city", "state",
        "postal_code", "country"}}``; when the session collects an address and none is given, a
        London address in the first allowed country is used. Returns the
        ``checkout.session.completed`` event.
        """
        with self.lock:
            session = self._open_session(session_id)
            shipping = self._shipping_details(session, shipping_details)
            if session["amount_total"] == 0:
                session["payment_status"] = "no_payment_required"
            else:
                intent = self._payment_intent(session, paid=True)
                session["payment_intent"] = intent["id"]
                session["payment_status"] = "paid"
            self._finish(session, shipping)
            return self._event("checkout.session.completed", session)

    def expire_session_event(self, session_id: str) -> dict[str, Any]:
        """Expire an open session (as when `expires_at` passes); the ``…expired`` event."""
        with self.lock:
            session = self.checkout_sessions[session_id]
            if session["status"] == "open":
                return self._expire(session, None)
            if session["status"] == "expired":  # already expired: the event Stripe sent then
                for event in reversed(self.events):
                    if event["type"] == "checkout.session.expired" and (
                        event["data"]["object"]["id"] == session_id
                    ):
                        return copy.deepcopy(event)
            raise ValueError(f"Checkout Session {session_id} is {session['status']}")

    def payment_failed_event(self, session_id: str) -> dict[str, Any]:
        """A delayed payment fails: ``checkout.session.async_payment_failed``.

        An open session is first completed with ``payment_status`` "unpaid" (as Checkout does for
        bank debits and other delayed methods); a paid session raises ValueError. (Card declines
        never end a Checkout Session: the customer just tries again on the page.)
        """
        with self.lock:
            session = self.checkout_sessions[session_id]
            if session["status"] == "open":
                session = self._open_session(session_id)
                shipping = self._shipping_details(session, None)
                session["payment_intent"] = self._payment_intent(session, paid=False)["id"]
                self._finish(session, shipping)
            elif session["status"] != "complete" or session["payment_status"] != "unpaid":
                raise ValueError(
                    f"Checkout Session {session_id} is {session['status']}/"
                    f"{session['payment_status']}; its payment cannot fail now"
                )
            intent = self.payment_intents[session["payment_intent"]]
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {
                "type": "invalid_request_error",
                "code": "payment_method_provider_decline",
                "message": "The payment was declined.",
            }
            return self._event("checkout.session.async_payment_failed", session)

    def refund_event(self, payment_intent_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund `amount` (default: all that is left) as from the Dashboard.

        Returns the ``charge.refunded`` event; its charge carries the cumulative
        ``amount_refunded``. Raises ValueError where the API would answer 400. For a refund the
        code made through the API, use ``fake.last_event("charge.refunded")`` instead.
        """
        with self.lock:
            try:
                self._refund(self._charge_of(payment_intent_id), amount)
            except StripeAPIError as error:
                raise ValueError(str(error)) from None
            return self.last_event("charge.refunded")

    def _open_session(self, session_id: str) -> dict[str, Any]:
        try:
            session = self._session(session_id)
        except StripeAPIError:
            raise KeyError(session_id) from None
        if session["status"] != "open":
            raise ValueError(f"Checkout Session {session_id} is {session['status']}, not open")
        return session

    def _shipping_details(
        self, session: dict[str, Any], details: dict[str, Any] | None
    ) -> dict[str, Any] | None:
        collection = session["shipping_address_collection"]
        if collection is None:
            return copy.deepcopy(details)
        allowed = collection["allowed_countries"]
        if details is None:
            details = {
                "name": "Ada Lovelace",
                "address": {
                    "line1": "12 Test Street",
                    "line2": None,
                    "city": "London",
                    "state": None,
                    "postal_code": "E1 6AN",
                    "country": allowed[0],
                },
            }
        address = {"line1": None, "line2": None, "city": None, "state": None, "postal_code": None}
        address.update(details.get("address") or {})
        if address.get("country") not in allowed:
            raise ValueError(f"Country {address.get('country')!r} is not in {allowed}")
        return {"name": details.get("name"), "address": address}

    def _payment_intent(self, session: dict[str, Any], *, paid: bool) -> dict[str, Any]:
        now = int(time.time())
        params = self._session_params[session["id"]]
        intent_id = new_id("pi_")
        metadata = (params.get("payment_intent_data") or {}).get("metadata") or {}
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "amount_received": session["amount_total"] if paid else 0,
            "capture_method": "automatic_async",
            "created": now,
            "currency": session["currency"],
            "customer": session["customer"],
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "payment_method_types": ["card"],
            "status": "succeeded" if paid else "processing",
        }
        if paid:
            charge_id = new_id("ch_")
            self.charges[charge_id] = {
                "id": charge_id,
                "object": "charge",
                "amount": session["amount_total"],
                "amount_captured": session["amount_total"],
                "amount_refunded": 0,
                "balance_transaction": new_id("txn_"),
                "captured": True,
                "created": now,
                "currency": session["currency"],
                "customer": session["customer"],
                "livemode": False,
                "metadata": metadata,
                "paid": True,
                "payment_intent": intent_id,
                "refunded": False,
                "status": "succeeded",
            }
            intent["latest_charge"] = charge_id
        self.payment_intents[intent_id] = intent
        return intent

    def _finish(self, session: dict[str, Any], shipping: dict[str, Any] | None) -> None:
        session["status"] = "complete"
        email = session["customer_email"] or "customer@example.com"
        session["customer_details"] = {
            "address": shipping["address"] if shipping else None,
            "email": email,
            "name": shipping["name"] if shipping else None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        }
        if shipping:
            session["collected_information"] = {
                "business_name": None,
                "individual_name": None,
                "shipping_details": shipping,
            }

    # --- hosted payment page (browser tests) -----------------------------------------------
    def _hosted_page(self, request: Request, session_id: str) -> Response:
        session = self.checkout_sessions.get(session_id)
        if session is None:
            return Response(404, b"<h1>No such Checkout Session</h1>", content_type="text/html")
        self._session(session_id)  # expire it if its time has passed
        if request.method == "POST":
            if session["status"] != "open":
                return Response(410, b"<h1>This session has ended</h1>", content_type="text/html")
            self.complete_session(session_id)
            target = (session["success_url"] or f"{self.url}/pay/{session_id}").replace(
                "{CHECKOUT_SESSION_ID}", session_id
            )
            return Response(303, b"", {"Location": target}, content_type="text/html")
        amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
        cancel = session["cancel_url"] or "#"
        page = (
            "<!doctype html><title>FakeStripe Checkout</title>"
            f"<h1>Pay {html.escape(amount)}</h1><p>Status: {html.escape(session['status'])}</p>"
            f'<form method="post"><button type="submit">Pay</button></form>'
            f'<a href="{html.escape(cancel)}">Cancel</a>'
        )
        return Response(200, page, content_type="text/html; charset=utf-8")
