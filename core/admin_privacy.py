"""The page privacy dialog, refusing clearly when a restriction cannot be recorded.

Wagtail's ``SetPrivacyView`` saves the restriction; ``core.lookups`` refuses the save while Redis
cannot be told (a new restriction must never go unseen by cached pages). Here that refusal is
shown in the dialog as a form error, with what was chosen kept, instead of a server error.
"""

from __future__ import annotations

from django.db import transaction
from wagtail.admin.views.page_privacy import SetPrivacyView

from .lookups import RestrictionNotRecorded


class PrivacyView(SetPrivacyView):
    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except RestrictionNotRecorded as refused:
            form.add_error("restriction_type", str(refused))  # (the dialog shows field errors)
            return self.form_invalid(form)


set_privacy = PrivacyView.as_view()
