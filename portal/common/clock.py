"""Time for the whole portal: instants are stored in UTC, days are counted in Paris.

A CDG's "today" is the day on the wall of its offices, not the server's: a server on UTC
would otherwise start the day an hour (two in summer) late, and the daily jobs scheduled
at 00:30 Paris would work on yesterday. Every "now" and "today" in the code comes from
here, so that tests can also freeze them in one place.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

# The zone of the CDG's offices: the one place it is named (Babel's pages and Celery beat's crontab read it too).
PARIS_TIMEZONE = "Europe/Paris"
PARIS = ZoneInfo(PARIS_TIMEZONE)


def utcnow() -> datetime:
    """The current instant, timezone-aware, in UTC (what the database stores)."""
    return datetime.now(UTC)


def paris_now() -> datetime:
    """The current instant as read on a clock in Paris."""
    return datetime.now(PARIS)


def paris_today() -> date:
    """Today's date in Paris."""
    return paris_now().date()


def to_paris(value: datetime) -> datetime:
    """An aware instant shown on Paris' clock."""
    return value.astimezone(PARIS)


def paris_day_of(value: datetime) -> date:
    """The Paris calendar day an aware instant falls on."""
    return value.astimezone(PARIS).date()


def paris_instant(day: date, at: time = time(0, 0)) -> datetime:
    """The UTC instant of a Paris wall-clock time on a given day (daylight saving handled by zoneinfo)."""
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(UTC)
