"""The notify-me form on a drop page."""

from django import forms


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label="Email me when it opens",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}),
    )
    # A honeypot: hidden from people (and from screen readers), filled in by naive bots.
    website = forms.CharField(
        required=False,
        max_length=200,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("website"):
            self.add_error(None, "Please leave the last field empty and try again.")
        return cleaned
