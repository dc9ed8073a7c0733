"""Join the queue, mounted at /drop-queue/ (drops.queue; the page tree owns /drops/)."""

from django.urls import path

from . import views

app_name = "drop_queue"

urlpatterns = [
    path("<int:drop_id>/", views.queue_page, name="page"),
    path("<int:drop_id>/join/", views.queue_join, name="join"),
    path("<int:drop_id>/status/", views.queue_status, name="status"),
]
