"""The collector's account, under /accounts/ beside django-allauth's own pages.

Every pattern that takes an id or a number is tried with another collector's values by
``tests/test_collector_accounts.py::test_no_collector_reaches_another_collectors_objects``: a new
one fails that test until ``_ben_values`` there says how to fill it with the other collector's
object (saves, follows …).
"""

from allauth.account import views as allauth_views
from django.urls import path

from . import views
from .ratelimits import limited

app_name = "collectors"

urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("addresses/", views.address_list, name="addresses"),
    path("addresses/add/", views.address_add, name="address_add"),
    path("addresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("addresses/<int:pk>/delete/", views.address_delete, name="address_delete"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order_detail"),
    path("privacy/", views.privacy_page, name="privacy"),
    path("privacy/export/", views.data_export, name="data_export"),
    path("privacy/delete/", views.delete_account, name="delete_account"),
]

# allauth's sign-in, sign-up and password reset behind this site's limits (collectors.ratelimits).
# Same paths and names as allauth's, listed first so they answer.
limited_allauth_urlpatterns = [
    path("login/", limited("login")(allauth_views.login), name="account_login"),
    path("signup/", limited("signup")(allauth_views.signup), name="account_signup"),
    # Adding an address sends it a verification email: limited like a sign-up.
    path("email/", limited("manage_email")(allauth_views.email), name="account_email"),
    path(
        "password/reset/",
        limited("password_reset")(allauth_views.password_reset),
        name="account_reset_password",
    ),
]
