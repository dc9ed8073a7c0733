from .orders import (
    FulfilmentStatus,
    Hold,
    Order,
    OrderEvent,
    OrderLine,
    PaymentEvent,
    PaymentStatus,
    Refund,
)
from .settings import ShippingZone, ShopSettings

__all__ = [
    "FulfilmentStatus",
    "Hold",
    "Order",
    "OrderEvent",
    "OrderLine",
    "PaymentEvent",
    "PaymentStatus",
    "Refund",
    "ShippingZone",
    "ShopSettings",
]
