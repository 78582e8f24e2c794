"""French formatting of numbers, amounts and quantities (portal.common.formatting)."""

from datetime import date
from decimal import Decimal

import pytest

from portal.common.formatting import days_fr, decimal_fr, money_fr

NNBSP = "\u202f"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("0.2"), "0,2"),
        (Decimal("1234.5"), f"1{NNBSP}234,5"),
        (Decimal("3.9E+2"), "390"),  # never scientific notation
        (Decimal("1E-30"), "0"),
        (12, "12"),
        (0.5, "0,5"),
    ],
)
def test_decimals_the_french_way(value, text):
    assert decimal_fr(value) == text


def test_money_shows_cents_only_when_the_amount_has_them_unless_asked():
    assert money_fr(Decimal("3421.09")) == f"3{NNBSP}421,09{NNBSP}€"
    assert money_fr(Decimal("400.00")) == f"400{NNBSP}€"
    assert money_fr(Decimal(400), cents=True) == f"400,00{NNBSP}€"
    assert money_fr(Decimal("3.9E+2")) == f"390{NNBSP}€"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "aucun jour"),
        (Decimal("0.0"), "aucun jour"),
        (Decimal("0.5"), "0,5 jour"),
        (1, "1 jour"),
        (Decimal("1.5"), "1,5 jour"),
        (2, "2 jours"),
        (Decimal("2.5"), "2,5 jours"),
        (Decimal("24"), "24 jours"),
        (1234, f"1{NNBSP}234 jours"),
    ],
)
def test_days_keep_the_singular_below_two(value, text):
    """Through ngettext and the French catalogue, which looks at the integer part of a decimal (CLDR)."""
    assert days_fr(value) == text


def test_the_count_of_a_decimal_quantity_is_its_integer_part():
    from portal.common.i18n import plural_count

    assert [plural_count(Decimal(v)) for v in ("0.5", "1", "1.5", "1.99", "2", "2.5")] == [0, 1, 1, 1, 2, 2]
    assert plural_count(Decimal("-2.5")) == 2


def test_the_first_of_the_month_is_an_ordinal():
    from datetime import date

    from portal.common.formatting import date_fr

    assert date_fr(date(2026, 12, 1)) == "1er décembre 2026"
    assert date_fr(date(2027, 3, 2)) == "2 mars 2027"
    assert date_fr(date(2027, 1, 11)) == "11 janvier 2027"  # not a first


def test_date_ranges_read_as_french_writes_them():
    from portal.common.formatting import date_range_fr

    assert date_range_fr(date(2026, 12, 1), date(2026, 12, 1)) == "1er décembre 2026"
    assert date_range_fr(date(2027, 3, 3), date(2027, 3, 5)) == "du 3 au 5 mars 2027"
    assert date_range_fr(date(2027, 3, 1), date(2027, 3, 2)) == "du 1er au 2 mars 2027"
    assert date_range_fr(date(2027, 2, 28), date(2027, 3, 1)) == "du 28 février au 1er mars 2027"
    assert date_range_fr(date(2026, 12, 30), date(2027, 1, 2)) == "du 30 décembre 2026 au 2 janvier 2027"


def test_hours_and_periods():
    from datetime import datetime, time

    from portal.common.formatting import hours_range_fr, period_fr, time_fr

    nbsp, narrow = "\u00a0", "\u202f"
    assert time_fr(time(9, 0)) == f"9{nbsp}h" and time_fr(time(9, 5)) == f"9{nbsp}h{nbsp}05"
    assert hours_range_fr(time(9), time(17)) == f"9{nbsp}h{narrow}–{narrow}17{nbsp}h"
    one_day = period_fr(datetime(2026, 12, 1, 9), datetime(2026, 12, 1, 17))
    assert one_day.replace(nbsp, " ").replace(narrow, " ") == "1er décembre 2026, 9 h – 17 h"
    days = period_fr(datetime(2027, 3, 3, 9, 30), datetime(2027, 3, 5, 12))
    assert days.replace(nbsp, " ").replace(narrow, " ") == "3 mars 2027 à 9 h 30 – 5 mars 2027 à 12 h"
