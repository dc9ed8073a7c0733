from django import forms
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from .models.settings import STRIPE_UNSUPPORTED_COUNTRIES


class CartChangeForm(forms.Form):
    artwork = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=0, max_value=20, initial=1)


class CheckoutForm(forms.Form):
    email = forms.EmailField(
        label="Email for your receipt and updates",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    country = LazyTypedChoiceField(
        label="Shipping to",
        choices=[
            (code, name) for code, name in countries if code not in STRIPE_UNSUPPORTED_COUNTRIES
        ],
        help_text="Shipping is priced by destination; you enter the full address when you pay.",
    )


class TestPaymentForm(forms.Form):
    """The address a collector would give on Stripe's page, for the local test payment."""

    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    line1 = forms.CharField(
        label="Address",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "address-line1"}),
    )
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False)
    city = forms.CharField(
        max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    postal_code = forms.CharField(
        max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
    )
    card = forms.CharField(
        label="Test card number",
        initial="4242 4242 4242 4242",
        help_text="Test mode: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined.",
    )

    def clean_card(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["card"] if ch.isdigit())
        if digits not in ("4242424242424242", "4000000000000002"):
            raise forms.ValidationError("Use one of the test card numbers shown.")
        return digits
