"""Admin registrations for what the whole site shares: sign-in lockouts (core.lockouts) and
undeliverable email addresses (core.email)."""

from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.viewsets.model import ModelViewSet

from core.lockouts import LockoutListView
from core.models import UndeliverableAddress


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.is_superuser


@hooks.register("insert_editor_js")
def editor_accessibility_js():
    """Accessible names for the rich text editors (artspot/static/js/admin-a11y.js)."""
    return format_html('<script src="{}"></script>', static("js/admin-a11y.js"))


@hooks.register("register_admin_urls")
def register_lockout_urls():
    return [path("lockouts/", LockoutListView.as_view(), name="core_lockouts")]


@hooks.register("register_settings_menu_item")
def register_lockout_menu_item():
    return SuperuserMenuItem(
        "Sign-in lockouts", reverse("core_lockouts"), icon_name="warning", order=900
    )


class UndeliverableAddressViewSet(ModelViewSet):
    """Addresses SES reported as bouncing or complaining; deleting one lifts it."""

    model = UndeliverableAddress
    icon = "mail"
    menu_label = "Undeliverable addresses"
    add_to_settings_menu = True
    list_display = [
        "email",
        Column("reason", accessor="get_reason_display", label="Reason"),
        "reported_at",
        "skipped_count",
    ]
    list_filter = ["reason"]
    search_fields = ["email"]
    form_fields = ["email", "reason", "reported_at", "diagnostic"]
    inspect_view_enabled = True


@hooks.register("register_admin_viewset")
def register_undeliverable_addresses():
    return UndeliverableAddressViewSet("undeliverable_addresses")
