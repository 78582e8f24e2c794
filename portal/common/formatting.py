"""French formatting of numbers, amounts and quantities, for every place people read them (pages, PDFs, emails,
exports for people, messages): Babel's French number patterns, never hand-written string code; words that follow
a number through ``ngettext`` (portal.common.i18n), whose French rule keeps the singular for 0 and 1.

Pure functions (no request needed): the locale is the portal's, French.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_decimal

from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext, plural_count

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
    """ "aucun jour", "0,5 jour", "1 jour", "1,5 jour", "2 jours", "2,5 jours"."""
    value = Decimal(value)
    if value == 0:
        return _("aucun jour")
    return ngettext("%(days)s jour", "%(days)s jours", plural_count(value), days=decimal_fr(value))


def first_of_month(text: str, day: int) -> str:
    """French writes the first day of a month as an ordinal: "1er décembre 2026", never "1 décembre"."""
    return f"1er{text[1:]}" if day == 1 and text.startswith("1 ") else text


def date_fr(value: date) -> str:
    """ "1er décembre 2026", "2 mars 2027"."""
    return first_of_month(format_date(value, "d MMMM y", locale=LOCALE), value.day)


def _day_month(value: date) -> str:
    return first_of_month(format_date(value, "d MMMM", locale=LOCALE), value.day)


def date_range_fr(start: date, end: date) -> str:
    """A span of days as French writes it: "1er décembre 2026", "du 3 au 5 mars 2027", "du 28 février au 2 mars
    2027", "du 30 décembre 2026 au 2 janvier 2027" (month names by Babel)."""
    if end <= start:
        return date_fr(start)
    if (start.year, start.month) == (end.year, end.month):
        day = "1er" if start.day == 1 else str(start.day)
        return f"du {day} au {date_fr(end)}"
    if start.year == end.year:
        return f"du {_day_month(start)} au {date_fr(end)}"
    return f"du {date_fr(start)} au {date_fr(end)}"


def time_fr(value: time) -> str:
    """A time of day: "9 h", "9 h 30", "17 h" (no leading zero, minutes only when there are some; no-break
    spaces, so a time never wraps)."""
    return f"{value.hour}\u00a0h" if not value.minute else f"{value.hour}\u00a0h\u00a0{value.minute:02d}"


def hours_range_fr(start: time, end: time) -> str:
    """ "9 h – 17 h", "9 h 30 – 12 h": an en dash between narrow no-break spaces, so it never wraps apart."""
    return f"{time_fr(start)}{NARROW_NO_BREAK_SPACE}–{NARROW_NO_BREAK_SPACE}{time_fr(end)}"


def period_fr(start: datetime, end: datetime) -> str:
    """When something takes place, from local (Paris) times, written so that « le » or « du » may precede it:
    "1er décembre 2026, 9 h – 17 h" for one day, "3 mars 2027 à 9 h – 5 mars 2027 à 17 h" over several."""
    if start.date() == end.date():
        return f"{date_fr(start.date())}, {hours_range_fr(start.time(), end.time())}"
    dash = f"{NARROW_NO_BREAK_SPACE}–{NARROW_NO_BREAK_SPACE}"
    return f"{date_fr(start.date())} à {time_fr(start.time())}{dash}{date_fr(end.date())} à {time_fr(end.time())}"
