"""Import artworks in the admin, for holders of ``imports.import_artworks`` (Shop managers)."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from . import views


class ImportMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return views.can_import(request.user)


@hooks.register("register_admin_urls")
def register_import_urls():
    return [
        path("imports/", views.index, name="imports_index"),
        path("imports/template.csv", views.template, name="imports_template"),
        path("imports/<int:pk>/", views.run_detail, name="imports_run"),
        path("imports/<int:pk>/confirm/", views.confirm, name="imports_confirm"),
    ]


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ImportMenuItem(
        "Import artworks", reverse("imports_index"), icon_name="upload", order=260
    )
