"""Saved works, followed artists and artist alerts, mounted at /account/."""

from django.urls import path

from . import interest_views as views

app_name = "interests"

urlpatterns = [
    path("saved/", views.saved, name="saved"),
    path("saved/<int:artwork_id>/", views.save_work, name="save"),
    path("following/", views.following, name="following"),
    path("following/<int:artist_id>/", views.follow_artist, name="follow"),
    path("interests/", views.state, name="state"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/unsubscribe/<str:token>/", views.unsubscribe_digest, name="unsubscribe"),
]
