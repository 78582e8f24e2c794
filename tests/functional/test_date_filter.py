"""The pages' ``date_fr`` filter writes a moment as Babel's French pattern "d MMMM y 'à' HH:mm" does, in the
portal's time zone, "1er" for the first of a month — without Babel's pattern machinery (the work queue's fifty rows)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import format_datetime


def test_a_moment_reads_as_babel_writes_it_in_paris_first_of_month_and_daylight_saving_included(app):
    date_fr = app.jinja_env.filters["date_fr"]
    moments = [
        datetime(2026, month, day, hour, minute, tzinfo=UTC)
        for month in range(1, 13)
        for day in (1, 2, 28)
        for hour, minute in ((0, 0), (22, 59), (23, 5))
    ]
    # Around both changes of hour in Paris (29 March and 25 October 2026), minute by quarter hour.
    for start in (datetime(2026, 3, 28, 23, tzinfo=UTC), datetime(2026, 10, 24, 23, tzinfo=UTC)):
        moments += [start + timedelta(minutes=15 * n) for n in range(16)]
    moments.append(datetime(2026, 12, 31, 23, 30))  # naive: read as UTC, as Babel does
    with app.test_request_context("/"):
        for moment in moments:
            babel = format_datetime(moment, "d MMMM y 'à' HH:mm")
            expected = f"1er{babel[1:]}" if babel.startswith("1 ") else babel
            assert date_fr(moment) == expected, moment
        assert date_fr(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "1er décembre 2026 à 00:30"
        assert date_fr(datetime(2026, 7, 14, 7, 5, tzinfo=UTC)) == "14 juillet 2026 à 09:05"
