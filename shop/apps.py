from django.apps import AppConfig


class ShopConfig(AppConfig):
    """Cart, holds, checkout (Stripe or the local test payment), orders, shipping and email."""

    name = "shop"
