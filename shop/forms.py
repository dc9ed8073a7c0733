from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.html import format_html, format_html_join
from django_countries import countries
from django_countries.fields import LazyTypedChoiceField

from . import addresses
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
        help_text="Shipping is priced by destination.",
    )

    @staticmethod
    def country_codes() -> set[str]:
        return {code for code, _ in countries if code not in STRIPE_UNSUPPORTED_COUNTRIES}


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

    def __init__(self, *args, address_known: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if address_known:  # given at checkout: only the card is asked for here
            for name in ("name", "line1", "line2", "city", "postal_code"):
                del self.fields[name]

    def clean_card(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["card"] if ch.isdigit())
        if digits not in ("4242424242424242", "4000000000000002"):
            raise forms.ValidationError("Use one of the test card numbers shown.")
        return digits


class SuggestionsInput(forms.TextInput):
    """A free-text input offering known values (a ``<datalist>``) without limiting to them."""

    def __init__(self, suggestions=(), attrs=None):
        super().__init__(attrs)
        self.suggestions = list(suggestions)

    def render(self, name, value, attrs=None, renderer=None):
        if not self.suggestions:
            return super().render(name, value, attrs, renderer)
        list_id = f"{(attrs or {}).get('id') or name}-suggestions"
        html = super().render(name, value, {**(attrs or {}), "list": list_id}, renderer)
        options = format_html_join(
            "", '<option value="{}"></option>', ((value,) for value in self.suggestions)
        )
        return html + format_html('<datalist id="{}">{}</datalist>', list_id, options)


def _text(label: str, max_length: int, autocomplete: str, help_text: str = "", **kwargs):
    field = forms.CharField(
        label=label,
        max_length=max_length,
        help_text=help_text,
        widget=kwargs.pop("widget", None) or forms.TextInput(attrs={"autocomplete": autocomplete}),
        **kwargs,
    )
    # One message for any control character, NUL included (Django's own would say it twice).
    field.validators = [
        addresses.validate_printable,
        *(v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)),
    ]
    return field


class ShippingAddressForm(forms.Form):
    """Where the work goes and how the courier reaches the collector, checked for ``country``.

    Fields, labels and their order follow the country (a US address asks for a state and a ZIP
    code; a UK one for a postcode after the town; Hong Kong for an area and no postcode).
    ``cleaned_data`` holds the normalised address (``region`` as its code, ``"CA"``; postcode
    in capitals) and the phone in E.164, plus ``country``.
    """

    name = _text(
        "Full name",
        200,
        "shipping name",
        "The person who will receive the parcel and sign for it.",
        error_messages={"required": "Enter the name of the person receiving the parcel."},
    )
    line1 = _text(
        "Address",
        200,
        "shipping address-line1",
        "House number and street, or building.",
        error_messages={"required": "Enter the street address: house number and street."},
    )
    line2 = _text(
        "Address line 2 (optional)",
        200,
        "shipping address-line2",
        "Flat, floor or company name.",
        required=False,
    )
    city = _text("City", 100, "shipping address-level2")
    region = _text("Region", 100, "shipping address-level1", required=False)
    postal_code = _text("Postal code", 20, "shipping postal-code")
    phone = _text(
        "Phone",
        40,
        "shipping tel",
        "Only for the courier, to arrange delivery of an insured parcel.",
        error_messages={"required": "Enter a phone number the courier can call."},
        widget=forms.TextInput(attrs={"autocomplete": "shipping tel", "type": "tel"}),
    )

    def __init__(self, *args, country: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.country = str(country or "").upper()
        try:
            allowed, required = addresses.address_fields(self.country)
        except ValidationError:
            return  # clean() says so; the generic fields still render
        words = addresses.labels(self.country)
        for key, field_name in (
            ("city", "city"),
            ("country_area", "region"),
            ("postal_code", "postal_code"),
        ):
            if key not in allowed:
                del self.fields[field_name]
                continue
            field = self.fields[field_name]
            field.required = key in required
            field.error_messages["required"] = addresses.required_message(self.country, key)
            field.label = words[key][:1].upper() + words[key][1:]
            if not field.required:
                field.label += " (optional)"
        if "region" in self.fields:
            choices = addresses.region_choices(self.country)
            self.fields["region"].widget = SuggestionsInput(
                suggestions=[name for _, name in choices],
                attrs={"autocomplete": "shipping address-level1"},
            )
            if any(code != name for code, name in choices):
                self.fields["region"].help_text = "Its name or abbreviation."
        self.order_fields([*addresses.field_order(self.country), "phone"])

    def clean(self):
        data = super().clean()
        address = {
            "country_code": self.country,
            "name": data.get("name", ""),
            "street_address": "\n".join(
                part for part in (data.get("line1", ""), data.get("line2", "")) if part
            ),
            "city": data.get("city", ""),
            "postal_code": data.get("postal_code", ""),
            "country_area": data.get("region", ""),
        }
        try:
            normalized = addresses.validate_address(address)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                target = field if field in self.fields else None
                if target not in self.errors:  # a field's own error (too long …) says enough
                    self.add_error(target, messages)
        else:
            line1, _, line2 = normalized["street_address"].partition("\n")
            data.update(
                name=normalized["name"],
                line1=line1,
                line2=line2,
                city=normalized["city"],
                postal_code=normalized["postal_code"],
                region=normalized["country_area"],
                country=self.country,
            )
        if data.get("phone") and "phone" not in self.errors:
            try:
                data["phone"] = addresses.validate_phone(data["phone"], self.country)
            except ValidationError as error:
                self.add_error("phone", error)
        return data
