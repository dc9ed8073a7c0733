from .orders import Order, OrderEvent, OrderLine, OrderStatus, PaymentEvent
from .settings import ShippingZone, ShopSettings

__all__ = [
    "Order",
    "OrderEvent",
    "OrderLine",
    "OrderStatus",
    "PaymentEvent",
    "ShippingZone",
    "ShopSettings",
]
