"""The collector's profile and saved addresses. Addresses are checked by checkout's own form."""

from __future__ import annotations

from django import forms

from shop import addresses
from shop.forms import CheckoutForm, ShippingAddressForm, _text

from .models import CollectorProfile, SavedAddress


class ProfileForm(forms.Form):
    name = _text("Full name", 200, "name", required=False)
    phone = _text(
        "Phone",
        40,
        "tel",
        "Optional. With + and the country code if it is not a UK number.",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "")
        if not phone:
            return ""
        # A national number is read as a UK one; any other starts with + and its country code.
        return addresses.validate_phone(phone, "GB")

    def save(self, user) -> CollectorProfile:
        profile, _ = CollectorProfile.objects.get_or_create(user=user)
        profile.name = self.cleaned_data["name"]
        profile.phone = self.cleaned_data["phone"]
        profile.save()
        return profile


class AddressCountryForm(forms.Form):
    """The destination first: the address fields follow it (as at checkout)."""

    country = CheckoutForm.base_fields["country"].__class__(
        label="Country",
        choices=CheckoutForm.base_fields["country"].choices,
    )
    is_default = forms.BooleanField(label="Use this address first at checkout", required=False)


def address_forms(data=None, *, instance: SavedAddress | None = None, country: str = ""):
    """The country form and checkout's address form for it, bound to ``data`` or the instance."""
    initial = {}
    if instance is not None:
        initial = {
            "country": str(instance.country),
            "is_default": instance.is_default,
            "name": instance.name,
            "line1": instance.line1,
            "line2": instance.line2,
            "city": instance.city,
            "region": instance.region,
            "postal_code": instance.postal_code,
            "phone": instance.phone,
        }
    chosen = country or (data or {}).get("country") or initial.get("country") or "GB"
    chosen = str(chosen).upper()[:2]
    return (
        AddressCountryForm(data, initial={"country": chosen, **initial}),
        ShippingAddressForm(data, initial=initial, country=chosen),
    )


def save_address(user, country_form, address_form, instance: SavedAddress | None = None):
    """Store the normalised address; at most one default per collector."""
    data = address_form.cleaned_data
    address = instance or SavedAddress(user=user)
    address.country = country_form.cleaned_data["country"]
    for field in ("name", "line1", "line2", "city", "region", "postal_code", "phone"):
        setattr(address, field, data.get(field, "") or "")
    others = user.saved_addresses.exclude(pk=address.pk)
    # Asked for, or no other address is the default (the first one, or the default edited).
    make_default = (
        country_form.cleaned_data.get("is_default") or not others.filter(is_default=True).exists()
    )
    if make_default:
        others.filter(is_default=True).update(is_default=False)
    address.is_default = bool(make_default)
    address.save()
    return address


class ConfirmPasswordForm(forms.Form):
    """Deleting an account is confirmed with its password."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


__all__ = [
    "AddressCountryForm",
    "ConfirmPasswordForm",
    "ProfileForm",
    "address_forms",
    "save_address",
]
