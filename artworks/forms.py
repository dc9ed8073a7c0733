from django import forms
from django.db import transaction

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
        """Store the enquiry and email the gallery team once the row is committed."""
        from .tasks import notify_team_of_inquiry

        inquiry = self.save(commit=False)
        inquiry.artwork = artwork
        with transaction.atomic():
            inquiry.save()
            notify_team_of_inquiry.delay_on_commit(inquiry.pk)
        return inquiry
