from django.urls import path

from . import views

app_name = "shop"

urlpatterns = [
    path("cart/", views.cart_detail, name="cart"),
    path("cart/add/", views.cart_add, name="cart_add"),
    path("cart/update/", views.cart_change, {"action": "update"}, name="cart_update"),
    path("cart/remove/", views.cart_change, {"action": "remove"}, name="cart_remove"),
    path("checkout/", views.checkout, name="checkout"),
    path("test-payment/<str:session_id>/", views.test_payment, name="test_payment"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
    path(
        "webhooks/shipstation/<str:secret>/", views.shipstation_webhook, name="shipstation_webhook"
    ),
]
