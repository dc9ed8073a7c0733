"""A guest's orders join the account once its address is verified, and again at each sign-in."""

from allauth.account.signals import email_confirmed
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .orders import attach_guest_orders


@receiver(email_confirmed, dispatch_uid="collectors.attach_on_confirm")
def attach_on_confirm(sender, request, email_address, **kwargs) -> None:
    attach_guest_orders(email_address.user)


@receiver(user_logged_in, dispatch_uid="collectors.attach_on_login")
def attach_on_login(sender, request, user, **kwargs) -> None:
    # Orders placed as a guest since the last visit, with an address already verified.
    attach_guest_orders(user)


def _connect_roles() -> None:
    from django.apps import apps
    from django.db.models.signals import post_save

    from .roles import CURATED_INDEXES, grant_curators_on_new_index

    for app_label, model in CURATED_INDEXES:
        post_save.connect(
            grant_curators_on_new_index,
            sender=apps.get_model(app_label, model),
            dispatch_uid=f"collectors.roles.{app_label}.{model}",
        )


_connect_roles()
