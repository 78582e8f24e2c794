"""French working days (portal.common.workdays): weekends and public holidays, Easter-based ones included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from portal.common.workdays import is_public_holiday, is_working_day, next_working_day, working_days_from
from portal.training.demo import _days


@pytest.mark.parametrize(
    "day",
    [
        date(2026, 12, 25),  # Noël
        date(2027, 1, 1),  # Jour de l'an
        date(2027, 3, 29),  # lundi de Pâques (Pâques le 28 mars 2027)
        date(2027, 5, 1),
        date(2027, 5, 6),  # Ascension
        date(2027, 5, 8),
        date(2027, 5, 17),  # lundi de Pentecôte
        date(2027, 7, 14),
        date(2027, 8, 15),
        date(2027, 11, 1),
        date(2027, 11, 11),
    ],
)
def test_french_public_holidays(day):
    assert is_public_holiday(day) and not is_working_day(day)


def test_ordinary_days_weekends_and_the_next_working_day():
    assert is_working_day(date(2026, 12, 2)) and not is_public_holiday(date(2026, 12, 2))
    assert not is_working_day(date(2026, 12, 5))  # a Saturday
    assert next_working_day(date(2026, 12, 2)) == date(2026, 12, 2)
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 28)  # Friday Christmas → Monday
    assert next_working_day(date(2027, 5, 6)) == date(2027, 5, 7)  # Ascension → Friday


def test_days_of_a_session_are_consecutive_working_days():
    assert working_days_from(date(2026, 12, 24), 2) == [date(2026, 12, 28), date(2026, 12, 29)]
    assert working_days_from(date(2027, 5, 5), 2) == [date(2027, 5, 10), date(2027, 5, 11)]  # not across Ascension
    assert working_days_from(date(2027, 5, 5), 1) == [date(2027, 5, 5)]


def test_a_demo_session_takes_as_many_days_as_its_hours_need():
    assert _days(SimpleNamespace(duration_hours=Decimal("7")), date(2026, 12, 25)) == [date(2026, 12, 28)]
    fourteen = _days(SimpleNamespace(duration_hours=Decimal("14")), date(2027, 7, 13))
    assert fourteen == [date(2027, 7, 15), date(2027, 7, 16)]
