"""Bounds of what people type or send: years, dates, numbers and text, one definition for the whole portal.

Forms (``portal.common.forms``), URL converters (``portal.common.routing``), services and the JSON API use these
functions, so that a year, a date, an amount or a comment is accepted or refused the same way everywhere, with
the same French message. Python's own parsers are too lenient for input: ``Decimal`` and ``int`` take ``NaN``,
``Infinity``, ``1e-30``, ``1_000`` and Arabic-Indic or full-width digits; ``date`` takes year 1 and year 9999, which
overflow the first time a month is added or taken away.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from portal.common.clock import paris_today
from portal.common.formatting import date_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext

# Years: the data the portal holds (headcounts, payrolls, rates, statements, training budgets) starts in 2000;
# a few years ahead leaves room for the next rate, budget or session without letting a typo through.
YEAR_MIN = 2000
YEARS_AHEAD = 5

# Dates: an affiliation or a convention recorded today may go back decades (the CDGs date from 1984); a
# convention may run for 50 years (its longest duration is 600 months).
DATE_MIN = date(1950, 1, 1)
DATE_YEARS_AHEAD = 50

# Integers go to INTEGER columns (at most 2**31 - 1 on PostgreSQL).
INTEGER_MAX = 2**31 - 1

# Spaces people put between thousands: space, no-break space, narrow no-break space (what the portal prints).
_GROUPING = str.maketrans("", "", " \u00a0\u202f")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"(?P<sign>[+-]?)(?P<units>[0-9]*)(?:[.,](?P<decimals>[0-9]*))?")
# C0 control characters other than tab, line feed and carriage return (PostgreSQL refuses NUL in text; the
# others only corrupt exports and emails), and lone surrogates (a JSON body may carry "\ud800": no database
# can store it).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


class InvalidNumber(ValueError):
    """A number typed or sent that the portal refuses; the message is in French, for the user."""

    @property
    def message(self) -> str:
        return str(self.args[0])


# Years ---------------------------------------------------------------------------------------------


def year_max(today: date | None = None) -> int:
    """The last year the portal accepts: the current year and a few more."""
    return (today or paris_today()).year + YEARS_AHEAD


def year_problem(year: int, latest: int | None = None, today: date | None = None) -> str | None:
    """Why ``year`` is refused, or None. ``latest`` narrows the upper bound for a rule that needs it (a
    headcount is declared at most for next year); it never widens the portal's range."""
    high = min(latest, year_max(today)) if latest is not None else year_max(today)
    if isinstance(year, bool) or not isinstance(year, int) or not (YEAR_MIN <= year <= high):
        return _("L'année doit être comprise entre %(year_min)s et %(high)s.", year_min=YEAR_MIN, high=high)
    return None


def year_in_range(year: int, today: date | None = None) -> bool:
    return year_problem(year, today=today) is None


def parse_year(text: str, today: date | None = None) -> int | None:
    """The year written in ``text`` (digits 0-9 only) if it is within the portal's range, else None."""
    text = text.strip()
    if not (0 < len(text) <= 9 and text.isascii() and text.isdigit()):
        return None
    year = int(text)
    return year if year_in_range(year, today) else None


# Dates ---------------------------------------------------------------------------------------------


def date_bounds(today: date | None = None) -> tuple[date, date]:
    """The first and last dates the portal accepts."""
    return DATE_MIN, date((today or paris_today()).year + DATE_YEARS_AHEAD, 12, 31)


def date_problem(value: date | datetime | None, today: date | None = None) -> str | None:
    """Why a date (or the day of a date and time) is refused, or None; an empty value is not checked here."""
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    first, last = date_bounds(today)
    if not (first <= day <= last):
        return _(
            "La date doit être comprise entre le %(first)s et le %(last)s.", first=date_fr(first), last=date_fr(last)
        )
    return None


# Numbers -------------------------------------------------------------------------------------------


def parse_integer(text: str, *, low: int = -INTEGER_MAX, high: int = INTEGER_MAX) -> int:
    """An integer typed in plain digits (spaces between thousands allowed), within ``low``..``high`` (by default
    what an INTEGER column holds). Refuses ``1e3``, ``1_000``, ``٣`` and ``３``: :class:`InvalidNumber`."""
    cleaned = str(text).strip().translate(_GROUPING)
    if not _INTEGER.fullmatch(cleaned):
        raise InvalidNumber(_("Saisissez un nombre entier en chiffres, par exemple 12."))
    negative = cleaned.startswith("-")
    if len(cleaned.lstrip("+-").lstrip("0")) > len(str(max(abs(low), abs(high)))):  # before int(): 10**5000
        raise InvalidNumber(_too_small(low) if negative else _too_large(high))
    value = int(cleaned)
    if value < low:
        raise InvalidNumber(_too_small(low))
    if value > high:
        raise InvalidNumber(_too_large(high))
    return value


def parse_decimal(text: str, *, places: int, max_digits: int) -> Decimal:
    """A decimal number typed the French way (``1 250,50``) or the English way (``1250.50``), with at most
    ``places`` digits after the separator and ``max_digits`` digits in all: what a ``Numeric(max_digits, places)``
    column holds. Refuses ``NaN``, ``Infinity``, exponents (``1e-30``, ``1e30``) and digits other than 0-9:
    :class:`InvalidNumber`. The result is quantized to ``places``."""
    cleaned = str(text).strip().translate(_GROUPING)
    match = _DECIMAL.fullmatch(cleaned)
    if match is None or not (match["units"] or match["decimals"]):
        example = "12,5" if places else "12"
        raise InvalidNumber(_("Saisissez un nombre en chiffres, par exemple %(example)s.", example=example))
    decimals = (match["decimals"] or "").rstrip("0")
    if len(decimals) > places:
        if places == 0:
            raise InvalidNumber(_("Saisissez un nombre entier."))
        raise InvalidNumber(
            ngettext("Au plus %(num)s chiffre après la virgule.", "Au plus %(num)s chiffres après la virgule.", places)
        )
    units = match["units"].lstrip("0")
    if len(units) > max_digits - places:
        raise InvalidNumber(
            _("Nombre trop grand : au plus %(digits)s chiffres avant la virgule.", digits=max_digits - places)
        )
    value = Decimal(f"{match['sign']}{units or '0'}.{decimals or '0'}")
    return value.quantize(Decimal(1).scaleb(-places))


def _too_small(low: int) -> str:
    return _("Nombre trop petit : au moins %(low)s.", low=_grouped(low))


def _too_large(high: int) -> str:
    return _("Nombre trop grand : au plus %(high)s.", high=_grouped(high))


def _grouped(value: int) -> str:
    return f"{value:,}".replace(",", "\u202f")


# Text ----------------------------------------------------------------------------------------------


def strip_control_characters(text: str) -> str:
    """``text`` without NUL and the other C0 control characters (tab and line breaks kept) nor lone surrogates."""
    return _CONTROL.sub("", text)
