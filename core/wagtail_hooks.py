"""Admin registrations for what the whole site shares: the sign-in lockouts (core.lockouts)."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from core.lockouts import LockoutListView


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.is_superuser


@hooks.register("register_admin_urls")
def register_lockout_urls():
    return [path("lockouts/", LockoutListView.as_view(), name="core_lockouts")]


@hooks.register("register_settings_menu_item")
def register_lockout_menu_item():
    return SuperuserMenuItem(
        "Sign-in lockouts", reverse("core_lockouts"), icon_name="warning", order=900
    )
