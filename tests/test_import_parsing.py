"""The import rules on their own: names, dates, dimensions (no database)."""

from decimal import Decimal as D

import pytest

from imports import parsing


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("Blake, William", "William Blake"),
        ("Moore, Henry, OM, CH", "Henry Moore, OM, CH"),
        ("Reynolds, Sir Joshua", "Sir Joshua Reynolds"),
        ("Afro", "Afro"),
        ("British (?) School", "British (?) School"),
        ("The Leach Pottery (St. Ives, UK)", "The Leach Pottery (St. Ives, UK)"),
        ("  Klossowski de Rola, Balthus ", "Balthus Klossowski de Rola"),
    ],
)
def test_display_names(source, shown):
    assert parsing.display_name(source) == shown


def test_name_key_ignores_accents_case_and_spacing():
    assert parsing.name_key("Jean  DUBUFFET") == parsing.name_key("Jéan Dubuffet")
    assert parsing.name_key("Blake, William") != parsing.name_key("William Blake")


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("1785", (1785, None)),
        ("c.1785", (1785, None)),
        ("?1800", (1800, None)),
        ("1880–5", (1880, 1885)),
        ("c.1796–97", (1796, 1797)),
        ("c.1997-9", (1997, 1999)),
        ("1997-1999", (1997, 1999)),
        ("1960s", (1960, 1969)),
        ("published 1812", (1812, None)),
        ("1826–7, reprinted 1892", (1826, 1827)),
        ("1786 or 1800", (1786, None)),
        ("1899–05", (1899, 1905)),
        ("date not known", (None, None)),
        ("no date", (None, None)),
        ("", (None, None)),
    ],
)
def test_years(text, years):
    assert parsing.parse_years(text) == years


def test_half_up_rounding_to_a_tenth_of_a_cm():
    assert parsing.to_cm("162.5", "mm") == D("16.3")  # 16.25 -> 16.3, not banker's 16.2
    assert parsing.to_cm("0.45", "cm") == D("0.5")
    assert parsing.to_cm("150", "mm") == D("15.0")


def size(h, w, d=None):
    return parsing.Size(D(h), D(w), D(d) if d else None)


@pytest.mark.parametrize(
    ("text", "units", "expected", "framed"),
    [
        ("support: 394 x 419 mm", "", size("39.4", "41.9"), None),
        ("image: 1 x 2 cm\nsupport: 10 x 20 cm", "", size("10.0", "20.0"), None),
        ("frame: 900 x 700 x 80 mm\nsupport: 600 x 400 mm", "", size("60.0", "40.0"),
         size("90.0", "70.0", "8.0")),
        ("sheet: 5 x 6 mm\nFD: 855x715x70mm", "", size("0.5", "0.6"), None),
        ("150x200x30mm", "", size("15.0", "20.0", "3.0"), None),
        ("support: 10 x 20", "cm", size("10.0", "20.0"), None),
        ("unconfirmed: 5 x 6 mm\n7 x 8 mm", "", size("0.7", "0.8"), None),
        ("sheet: 5 x 6 mm\nunconfirmed: 7 x 8 mm", "", size("0.7", "0.8"), None),
    ],
)  # fmt: skip
def test_tate_dimension_lines(text, units, expected, framed):
    if expected is None:
        with pytest.raises(parsing.Unparseable):
            parsing.parse_tate_dimensions(text, units)
        return
    dims = parsing.parse_tate_dimensions(text, units)
    assert (dims.size, dims.framed) == (expected, framed)


@pytest.mark.parametrize(
    "text", ["duration: 22min", "overall display dimensions variable", "support: 10 x 20"]
)
def test_text_without_a_readable_measure_is_unparseable(text):
    with pytest.raises(parsing.Unparseable):
        parsing.parse_tate_dimensions(text, "")


def test_empty_dimensions_are_no_dimensions():
    assert parsing.parse_tate_dimensions("  ", "mm") == parsing.Dimensions()


def test_moma_columns_then_the_text():
    dims = parsing.parse_moma_dimensions('9 x 12" (22.9 x 30.5 cm)', "", "", "")
    assert dims.size == size("22.9", "30.5")
    dims = parsing.parse_moma_dimensions("whatever", "48.26", "60.96", "")
    assert dims.size == size("48.3", "61.0")
    with pytest.raises(parsing.Unparseable):
        parsing.parse_moma_dimensions("Dimensions variable", "", "", "")
