"""Working days in France: Monday to Friday, public holidays (jours fériés, Code du travail art. L3133-1) excepted.

The holidays come from the ``holidays`` package (Easter-based ones included); Alsace-Moselle's two extra days are
not counted, the portal serving a CDG of the rest of France."""

from __future__ import annotations

from datetime import date, timedelta

import holidays


def public_holidays_between(first: date, last: date) -> list[tuple[date, str]]:
    """The public holidays from ``first`` to ``last`` included, with their French names ("Lundi de Pâques")."""
    calendar = holidays.France(years=range(first.year, last.year + 1), language="fr")
    return sorted((day, name) for day, name in calendar.items() if first <= day <= last)


def is_public_holiday(day: date) -> bool:
    return day in holidays.France(years=day.year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and not is_public_holiday(day)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first one after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def working_days_from(day: date, count: int) -> list[date]:
    """``count`` consecutive working days, the first on or after ``day``, with no day off between them (a session
    of several days is never split by a weekend or a holiday)."""
    start = next_working_day(day)
    while True:
        days = [start + timedelta(days=n) for n in range(count)]
        if all(is_working_day(d) for d in days):
            return days
        start = next_working_day(start + timedelta(days=1))
