"""Money as collectors read it, addresses as each country writes them, shipping before payment."""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from wagtail.models import Site

from artworks.factories import ArtworkFactory
from shop.addresses import format_address_lines, validate_address, validate_phone
from shop.forms import ShippingAddressForm
from shop.models import ShopSettings
from shop.rates import shipping_quote
from tests.support.shop import checkout, pay

# --- one money format ----------------------------------------------------------------------


@pytest.mark.django_db
def test_order_confirmation_email_shows_pounds(django_capture_on_commit_callbacks):
    order = checkout(ArtworkFactory(title="Tidal Ledger", price=Decimal("17780.00")), "a@ex.com")
    with django_capture_on_commit_callbacks(execute=True):
        order = pay(order)
    (email,) = [m for m in mail.outbox if m.subject == f"Your ArtSpot order {order.number}"]
    html = email.alternatives[0][0]
    shipping, total = f"£{order.shipping:,.2f}", f"£{order.total:,.2f}"
    for body in (email.body, html):
        assert "£17,780.00" in body
        assert shipping in body and total in body
        assert "GBP" not in body  # not "GBP 17805.00"
    assert f"Total: {total}" in email.body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "shown", "hidden"),
    [
        ({"price": Decimal("1800.00")}, "£1,800.00", "Price on request"),
        ({"price": Decimal("3150.50"), "currency": "EUR"}, "€3,150.50", "Price on request"),
        ({"price": None, "price_on_request": True}, "Price on request", "£"),
        ({"price": Decimal("900.00"), "price_on_request": True}, "Price on request", "900"),
    ],
)
def test_enquiry_email_prices_the_work_or_says_on_request(fields, shown, hidden):
    artwork = ArtworkFactory(**fields)
    inquiry = SimpleNamespace(name="Olu Park", email="olu@ex.com", phone="", message="Hello")
    context = {"artwork": artwork, "inquiry": inquiry, "admin_url": "http://x/admin/"}
    for name in ("inquiry_team.txt", "inquiry_team.html"):
        body = render_to_string(f"artworks/email/{name}", context)
        assert shown in body and hidden not in body


# --- addresses -----------------------------------------------------------------------------


def uk(**changes) -> dict:
    address = {
        "country_code": "GB",
        "name": "Ana Ruiz",
        "street_address": "1 Portobello Road",
        "city": "London",
        "postal_code": "W11 2NS",
    }
    return {**address, **changes}


def us(**changes) -> dict:
    address = {
        "country_code": "US",
        "name": "Ana Ruiz",
        "street_address": "1 Market St",
        "city": "San Francisco",
        "postal_code": "94105",
        "country_area": "CA",
    }
    return {**address, **changes}


def errors(data: dict) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        validate_address(data)
    return caught.value.message_dict


@pytest.mark.parametrize("typed", ["W11 2NS", "w11 2ns", "W112NS", " w11  2NS "])
def test_uk_postcode_is_written_the_royal_mail_way(typed):
    cleaned = validate_address(uk(postal_code=typed))
    assert cleaned["postal_code"] == "W11 2NS"
    assert cleaned["city"] == "London"  # the collector's capitals, not LONDON


@pytest.mark.parametrize("typed", ["12345", "W11", "SW1A 1A", "NOT A CODE"])
def test_uk_postcode_must_look_like_one(typed):
    assert errors(uk(postal_code=typed)) == {
        "postal_code": ["Enter a valid UK postcode, such as SW1A 1AA."]
    }


def test_uk_address_needs_street_town_postcode_and_name():
    found = errors(uk(name="", street_address="", city="", postal_code=""))
    assert set(found) == {"name", "line1", "city", "postal_code"}
    assert found["postal_code"] == ["Enter the postcode."]
    assert found["city"] == ["Enter the town or city."]


def test_us_address_needs_a_state():
    (message,) = errors(us(country_area=""))["region"]
    assert message == "Enter the state, by name or abbreviation, such as California or CA."


@pytest.mark.parametrize("typed", ["CA", "ca", "California", "  california "])
def test_us_state_by_name_or_code_becomes_the_code(typed):
    assert validate_address(us(country_area=typed))["country_area"] == "CA"


def test_us_state_must_exist_and_zip_must_belong_to_it():
    assert errors(us(country_area="Narnia"))["region"] == [
        "Enter a valid state, by name or abbreviation, such as California or CA."
    ]
    assert errors(us(postal_code="10001")) == {  # a New York ZIP code
        "postal_code": ["Enter a valid ZIP code for California, such as 90000."]
    }


def test_hong_kong_has_no_postcode_but_needs_its_area():
    hong_kong = {
        "country_code": "HK",
        "name": "Mei Chan",
        "street_address": "8 Finance Street",
        "city": "Central",
        "postal_code": "999077",  # what collectors type when a form insists
    }
    assert errors(hong_kong)["region"] == [
        "Enter the area: Kowloon, Hong Kong Island or New Territories."
    ]
    cleaned = validate_address({**hong_kong, "country_area": "hong kong island"})
    assert cleaned["country_area"] == "Hong Kong Island" and cleaned["postal_code"] == ""


def test_irish_eircode_is_optional_but_checked_when_given():
    ireland = {"country_code": "IE", "name": "Aoife", "street_address": "1 Quay", "city": "Cork"}
    assert validate_address(ireland)["postal_code"] == ""
    assert validate_address({**ireland, "postal_code": "t12 x70a"})["postal_code"] == "T12 X70A"
    assert errors({**ireland, "postal_code": "12"})["postal_code"] == [
        "Enter a valid Eircode, such as A65 F4E2."
    ]


def test_region_a_country_does_not_use_is_dropped():
    assert validate_address(uk(country_area="Kent"))["country_area"] == ""


@pytest.mark.parametrize("country", ["", "XX", "ALL", "ZZ", "../gb", "G\x00"])
def test_unknown_country_is_a_clear_error(country):
    assert errors(uk(country_code=country)) == {
        "country": ["Choose the country the work is shipping to."]
    }


# --- phone numbers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "country", "e164"),
    [
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 20 7946 0018", "US", "+442079460018"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+33 1 42 68 53 00", "GB", "+33142685300"),  # a Paris number for a London parcel
    ],
)
def test_phone_numbers_come_back_in_e164(typed, country, e164):
    assert validate_phone(typed, country) == e164


@pytest.mark.parametrize(
    ("typed", "country"),
    [
        ("(415) 555-2671", "GB"),  # a US number without +1 is not a UK number
        ("12", "GB"),
        ("call me", "GB"),
        ("020\x007946 0018", "GB"),
        ("0" * 5000, "GB"),
        ("020 7946 0018", "XX"),  # no country to read a national number against
    ],
)
def test_impossible_phone_numbers_are_refused(typed, country):
    with pytest.raises(ValidationError) as caught:
        validate_phone(typed, country)
    assert "+ and its country code" in caught.value.messages[0]


# --- the form ------------------------------------------------------------------------------

FORM = {
    "name": "Ana Ruiz",
    "line1": "1 Market St",
    "line2": "Floor 3",
    "city": "San Francisco",
    "region": "california",
    "postal_code": "94105",
    "phone": "(415) 555-2671",
}


def test_form_normalises_a_us_address():
    form = ShippingAddressForm(FORM, country="US")
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        **FORM,
        "region": "CA",
        "phone": "+14155552671",
        "country": "US",
    }


def test_form_asks_what_the_country_asks():
    usa = ShippingAddressForm(country="US")
    assert [usa[f].label for f in ("city", "region", "postal_code")] == [
        "City",
        "State",
        "ZIP code",
    ]
    assert "<datalist" in str(usa["region"]) and '<option value="California">' in str(usa["region"])
    britain = ShippingAddressForm(country="GB")
    assert "region" not in britain.fields and britain["postal_code"].label == "Postcode"
    assert britain["city"].label == "Town or city"
    assert "postal_code" not in ShippingAddressForm(country="HK").fields
    assert ShippingAddressForm(country="IE")["postal_code"].label == "Eircode (optional)"
    france = list(ShippingAddressForm(country="FR").fields)
    assert france.index("postal_code") < france.index("city")  # "75003 Paris"


def test_form_errors_name_the_field_and_the_fix():
    form = ShippingAddressForm({**FORM, "region": "", "phone": "07700 900"}, country="US")
    assert not form.is_valid()
    assert form.errors["region"] == [
        "Enter the state, by name or abbreviation, such as California or CA."
    ]
    assert form.errors["phone"][0].startswith("Enter a phone number the courier can call")


@pytest.mark.parametrize("field", ["name", "line1", "line2", "city", "region", "postal_code"])
@pytest.mark.parametrize("hostile", ["Main\x00Street", "x" * 5000, "a\nb", "\ud800"])
def test_hostile_input_is_a_form_error_not_an_exception(field, hostile):
    form = ShippingAddressForm({**FORM, field: hostile}, country="US")
    assert not form.is_valid()
    assert list(form.errors) == [field]


@pytest.mark.parametrize("country", ["ALL", "\x00", "x" * 5000, None])
def test_hostile_country_is_a_form_error_not_an_exception(country):
    form = ShippingAddressForm(FORM, country=country)
    assert not form.is_valid()
    assert form.non_field_errors() == ["Choose the country the work is shipping to."]


# --- addresses on the page -----------------------------------------------------------------


def test_uk_address_puts_town_and_postcode_on_lines_of_their_own():
    lines = format_address_lines(
        "Ana Ruiz", "1 Portobello Road", "Flat 2", "London", "W11 2NS", "", "GB"
    )
    assert lines == [
        "Ana Ruiz",
        "1 Portobello Road",
        "Flat 2",
        "London",
        "W11 2NS",
        "United Kingdom",
    ]


def test_us_address_reads_city_state_zip():
    lines = format_address_lines(
        "Ana Ruiz", "1 Market St", "", "San Francisco", "94105", "CA", "US"
    )
    assert lines == [
        "Ana Ruiz",
        "1 Market St",
        "San Francisco, CA 94105",
        "United States of America",
    ]


def test_order_pages_write_the_address_in_the_country_order():
    from shop.models import Order

    order = Order(
        shipping_name="Ana Ruiz", shipping_line1="1 Portobello Road", shipping_line2="",
        shipping_city="London", shipping_postal_code="W11 2NS", shipping_state="",
        shipping_country="GB",
    )  # fmt: skip
    assert order.address_lines == [
        "Ana Ruiz",
        "1 Portobello Road",
        "London",
        "W11 2NS",
        "United Kingdom",
    ]


# --- shipping before payment ---------------------------------------------------------------

RATES = "{% load shipping_tags %}{% shipping_rates currency %}"


@pytest.fixture
def site():
    site = Site.objects.get(is_default_site=True)
    ShopSettings.objects.update_or_create(
        site=site,
        defaults={
            "home_country": "GB",
            "domestic_rate": Decimal("40.00"),
            "eu_rate": Decimal("90.00"),
            "world_rate": Decimal("150.00"),
        },
    )
    return site


def page_request(site, **extra):
    """A request for a page Wagtail is serving: the site already resolved, as it is then."""
    request = RequestFactory().get("/artworks/tidal-ledger/", **extra)
    assert Site.find_for_request(request) == site
    return request


@pytest.mark.django_db
def test_shipping_rates_by_zone_in_the_works_currency(site, django_assert_max_num_queries):
    request = page_request(site)
    with django_assert_max_num_queries(1):
        html = Template(RATES).render(Context({"request": request, "currency": "GBP"}))
    text = " ".join(html.replace("</span>", " ").split())
    for expected in ("United Kingdom £40.00", "European Union £90.00", "Rest of the world £150.00"):
        assert expected in text
    assert text.startswith('<p class="shipping-rates">Insured delivery:')
    with django_assert_max_num_queries(0):  # the settings are cached on the request
        again = Template(RATES).render(Context({"request": request, "currency": "EUR"}))
    assert "€90.00" in again and "£" not in again


@pytest.mark.django_db
def test_shipping_rates_are_the_same_for_every_visitor(site, client):
    anonymous = page_request(site)
    collector = page_request(site, HTTP_COOKIE="sessionid=abc; csrftoken=tok")
    collector.session = {"artspot-cart": {"1": 1}}
    rendered = [
        Template(RATES).render(
            Context({"request": request, "currency": "GBP", "csrf_token": "tok-secret"})
        )
        for request in (anonymous, collector)
    ]
    assert rendered[0] == rendered[1]
    assert "tok" not in rendered[0] and "csrf" not in rendered[0]


@pytest.mark.django_db
def test_shipping_quote_is_what_checkout_charges(site):
    assert shipping_quote(site, "GB", "GBP") == Decimal("40.00")
    assert shipping_quote(site, "fr", "EUR") == Decimal("90.00")
    assert shipping_quote(site, "US", "USD") == Decimal("150.00")
    assert shipping_quote(site, "JP", "JPY") == Decimal("150")
    order = checkout(ArtworkFactory(), "b@ex.com")
    assert order.shipping == shipping_quote(site, order.shipping_country.code, order.currency)
