"""Permission policies for admin listings of records the team reads but never edits by hand."""

from __future__ import annotations

from wagtail.permission_policies import ModelPermissionPolicy

READ_ACTIONS = {"view", "export"}


class ReadOnlyPermissionPolicy(ModelPermissionPolicy):
    """Only ``view``: no one, superusers included, adds, edits or deletes through the admin."""

    def user_has_permission(self, user, action: str) -> bool:
        if action not in READ_ACTIONS:
            return False
        return super().user_has_permission(user, "view")

    def user_has_any_permission(self, user, actions) -> bool:
        return any(self.user_has_permission(user, action) for action in actions)

    def users_with_any_permission(self, actions, **kwargs):
        if not set(actions) & READ_ACTIONS:
            return self.model._default_manager.none().model.objects.none()
        return super().users_with_any_permission(["view"], **kwargs)
