"""Notify me, mounted at /drop-alerts/ (the page tree owns /drops/)."""

from django.urls import path

from . import views

app_name = "drops"

urlpatterns = [
    path("<int:drop_id>/subscribe/", views.subscribe, name="subscribe"),
    path("<int:drop_id>/subscribe/me/", views.subscribe_me, name="subscribe_me"),
    path("<int:drop_id>/check-your-inbox/", views.check_inbox, name="check_inbox"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
