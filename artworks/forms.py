from django import forms
from django.db import transaction

from core import outbox

from .models import ArtworkInquiry


class ArtworkInquiryForm(forms.ModelForm):
    # A field people never see; bots that fill every field are turned away.
    website = forms.CharField(required=False, widget=forms.HiddenInput, label="Leave empty")

    class Meta:
        model = ArtworkInquiry
        fields = ["name", "email", "phone", "message"]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "name"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel"}),
            "message": forms.Textarea(attrs={"rows": 5}),
        }
        labels = {"phone": "Phone (optional)", "message": "Your message"}

    def clean_website(self) -> str:
        if self.cleaned_data.get("website"):
            raise forms.ValidationError("Please leave this field empty.")
        return ""

    def save_for(self, artwork) -> ArtworkInquiry:
        """Store the enquiry and, through the outbox, email the gallery team once (even if the
        broker is down now: ``core.outbox``)."""
        inquiry = self.save(commit=False)
        inquiry.artwork = artwork
        with transaction.atomic():
            inquiry.save()
            outbox.enqueue("artworks.tasks.notify_team_of_inquiry", inquiry.pk)
        return inquiry
