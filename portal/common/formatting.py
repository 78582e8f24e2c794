"""French formatting of numbers, amounts and quantities, for every place people read them (pages, PDFs, emails,
exports for people, messages): Babel's French number patterns, never hand-written string code.

Pure functions (no request needed): the locale is the portal's, French.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

LOCALE = "fr_FR"
NARROW_NO_BREAK_SPACE = "\u202f"


def decimal_fr(value: Decimal | int | float, *, places: int | None = None) -> str:
    """ "0,2", "1 234,5"; with ``places``, exactly that many decimals ("12,00"). Never scientific notation."""
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    if places is None:
        return format_decimal(value, format="#,##0.###", locale=LOCALE)
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(value, format=pattern, locale=LOCALE)


def money_fr(value: Decimal | int, *, cents: bool | None = None) -> str:
    """An amount in euros: "3 421,09 €", "400 €" (cents only when the amount has them, unless ``cents`` is
    given: accounting documents always show them). A narrow no-break space before the sign."""
    value = Decimal(value)
    if cents is None:
        cents = value != value.to_integral_value()
    return f"{decimal_fr(value, places=2 if cents else 0)}{NARROW_NO_BREAK_SPACE}€"


def percent_fr(value: Decimal | int) -> str:
    """A rate written in percent: "0,2 %", "0,8 %" (a narrow no-break space before the sign)."""
    return f"{decimal_fr(value)}{NARROW_NO_BREAK_SPACE}%"


def days_fr(value: Decimal | int) -> str:
    """ "aucun jour", "0,5 jour", "1 jour", "1,5 jour", "2 jours": French keeps the singular below two."""
    value = Decimal(value)
    if value == 0:
        return "aucun jour"
    return f"{decimal_fr(value)} {'jour' if abs(value) < 2 else 'jours'}"


def first_of_month(text: str, day: int) -> str:
    """French writes the first day of a month as an ordinal: "1er décembre 2026", never "1 décembre"."""
    return f"1er{text[1:]}" if day == 1 and text.startswith("1 ") else text


def date_fr(value: date) -> str:
    """ "1er décembre 2026", "2 mars 2027"."""
    return first_of_month(format_date(value, "d MMMM y", locale=LOCALE), value.day)


def plural_fr(count: int, singular: str, plural: str) -> str:
    """ "0 présent", "1 présent", "2 présents": French keeps the singular for 0 and 1 (CLDR)."""
    return f"{count} {singular if abs(count) < 2 else plural}"
