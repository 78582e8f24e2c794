"""The bounds of what people type: years, dates, numbers and text (portal/common/inputs.py)."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.common.inputs import (
    DATE_MIN,
    YEAR_MIN,
    InvalidNumber,
    date_bounds,
    date_problem,
    parse_decimal,
    parse_integer,
    strip_control_characters,
    year_max,
    year_problem,
)

TODAY = date(2026, 9, 15)


# Years ---------------------------------------------------------------------------------------------


def test_the_portal_years_run_from_2000_to_five_years_ahead():
    assert YEAR_MIN == 2000 and year_max(TODAY) == 2031
    assert year_max(date(2027, 1, 1)) == 2032  # the range follows the calendar
    for year in (2000, 2026, 2031):
        assert year_problem(year, today=TODAY) is None
    for year in (0, 1999, 2032, 99999, -2026):
        assert year_problem(year, today=TODAY) == "L'année doit être comprise entre 2000 et 2031."


def test_a_rule_may_narrow_the_year_range_never_widen_it():
    assert year_problem(2028, latest=2027, today=TODAY) == "L'année doit être comprise entre 2000 et 2027."
    assert year_problem(2027, latest=2027, today=TODAY) is None
    assert year_problem(2032, latest=2100, today=TODAY) == "L'année doit être comprise entre 2000 et 2031."


@pytest.mark.parametrize("year", [True, 2026.0, "2026", None])
def test_a_year_is_an_integer(year):
    assert year_problem(year, today=TODAY) is not None


# Dates ---------------------------------------------------------------------------------------------


def test_dates_run_from_1950_to_fifty_years_ahead():
    assert date_bounds(TODAY) == (DATE_MIN, date(2076, 12, 31)) and date(1950, 1, 1) == DATE_MIN
    assert date_problem(date(1950, 1, 1), TODAY) is None and date_problem(date(2076, 12, 31), TODAY) is None
    assert date_problem(datetime(2030, 3, 1, 9, 0), TODAY) is None
    assert date_problem(None, TODAY) is None
    message = "La date doit être comprise entre le 1er janvier 1950 et le 31 décembre 2076."
    for day in (date(1, 1, 1), date(1949, 12, 31), date(2077, 1, 1), date(9999, 12, 31)):
        assert date_problem(day, TODAY) == message
    assert date_problem(datetime(9999, 1, 1, 9, 0), TODAY) == message


# Integers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [("12", 12), (" 12 ", 12), ("1 000", 1000), ("1\u202f000", 1000), ("-3", -3), ("007", 7)]
)
def test_integers_in_plain_digits(text, value):
    assert parse_integer(text) == value


@pytest.mark.parametrize(
    "text", ["", "douze", "1e3", "1_000", "1.5", "1,5", "\u0663", "\uff13", "１２", "12\u0663", "0x10", "NaN", "+"]
)
def test_integers_refuse_what_python_would_take(text):
    with pytest.raises(InvalidNumber, match="Saisissez un nombre entier en chiffres"):
        parse_integer(text)


def test_integers_fit_an_integer_column():
    assert parse_integer("2147483647") == 2**31 - 1
    with pytest.raises(InvalidNumber, match="Nombre trop grand : au plus 2\u202f147\u202f483\u202f647."):
        parse_integer("2147483648")
    with pytest.raises(InvalidNumber, match="Nombre trop grand"):
        parse_integer("9" * 5000)  # refused before int() is asked to read it
    with pytest.raises(InvalidNumber, match="Nombre trop petit : au moins 0."):
        parse_integer("-1", low=0, high=10)
    with pytest.raises(InvalidNumber, match="Nombre trop grand : au plus 10."):
        parse_integer("11", low=0, high=10)


# Decimals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "places", "value"),
    [
        ("0,8", 4, Decimal("0.8000")),
        ("0.8", 4, Decimal("0.8000")),
        ("1 250 000,50", 2, Decimal("1250000.50")),
        ("1\u202f250,5", 2, Decimal("1250.50")),
        ("1\u00a0250", 2, Decimal("1250.00")),
        (",5", 1, Decimal("0.5")),
        ("12,", 2, Decimal("12.00")),
        ("12,500", 2, Decimal("12.50")),  # trailing zeros are not precision
        ("-3,25", 2, Decimal("-3.25")),
        ("0000012", 0, Decimal("12")),
    ],
)
def test_decimals_typed_the_french_or_the_english_way(text, places, value):
    parsed = parse_decimal(text, places=places, max_digits=12)
    assert parsed == value and parsed.as_tuple().exponent == -places


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1e-30",
        "1E30",
        "1e3",
        "\u0663",
        "\u0661\u066b\u0665",  # Arabic-Indic 1٫5
        "\uff13",
        "１２,５",
        "1.000,50",
        "1,2,3",
        "",
        ",",
        "douze",
        "0x1F",
        "1_000",
    ],
)
def test_decimals_refuse_what_decimal_would_take(text):
    with pytest.raises(InvalidNumber) as caught:
        parse_decimal(text, places=2, max_digits=12)
    assert caught.value.message.startswith("Saisissez un nombre en chiffres, par exemple 12,5")


def test_decimals_fit_their_column():
    assert parse_decimal("9999999999,99", places=2, max_digits=12) == Decimal("9999999999.99")
    with pytest.raises(InvalidNumber, match="Nombre trop grand : au plus 10 chiffres avant la virgule."):
        parse_decimal("10000000000", places=2, max_digits=12)
    with pytest.raises(InvalidNumber, match="Au plus 2 chiffres après la virgule."):
        parse_decimal("0,001", places=2, max_digits=12)
    with pytest.raises(InvalidNumber, match="Au plus 1 chiffre après la virgule."):
        parse_decimal("0,000000000000000000000000000001", places=1, max_digits=4)
    with pytest.raises(InvalidNumber, match="Saisissez un nombre entier."):
        parse_decimal("1,5", places=0, max_digits=4)
    assert parse_decimal("00000000000000000001", places=2, max_digits=4) == Decimal("1.00")  # zeros are not digits


# Text ----------------------------------------------------------------------------------------------


def test_control_characters_are_removed_tab_and_line_breaks_kept():
    assert strip_control_characters("a\x00b\x01c\x08d\x0be\x0cf\x1bg\x1fh") == "abcdefgh"
    assert strip_control_characters("ligne 1\r\nligne 2\tfin") == "ligne 1\r\nligne 2\tfin"
    assert strip_control_characters("x.html\x00.pdf") == "x.html.pdf"
    assert strip_control_characters("\ud800élu\udfff") == "élu"
    assert strip_control_characters("Élu « numérique » – 2026 ✓ \x7f") == "Élu « numérique » – 2026 ✓ \x7f"
