"""Throttle counters in the database: fixed windows counted by one guarded statement each.

``take`` counts an attempt with an upsert that adds one only below the limit (``INSERT … ON CONFLICT DO UPDATE
… WHERE attempts < limit RETURNING``): PostgreSQL locks the row and re-checks the condition against its latest
version, SQLite runs one writer at a time, so simultaneous requests never count past the limit, whichever
process serves them. The counters are rows of one table, shared by every web process and machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, delete, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite

from portal.accounts.models import ThrottleCounter
from portal.accounts.rules import CounterLimit, throttled_until
from portal.extensions import db

_table = ThrottleCounter.__table__


def _count_one_more(dialect: str, counter: CounterLimit, now: datetime, window: timedelta):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_table).values(scope=counter.scope, key=counter.key, attempts=1, window_started_at=now)
    over = _table.c.window_started_at <= now - window  # rules.window_over, in SQL
    return statement.on_conflict_do_update(
        index_elements=[_table.c.scope, _table.c.key],
        set_={
            "attempts": case((over, 1), else_=_table.c.attempts + 1),
            "window_started_at": case((over, statement.excluded.window_started_at), else_=_table.c.window_started_at),
        },
        where=or_(over, _table.c.attempts < counter.limit),
    ).returning(_table.c.attempts)


def take(counters: Sequence[CounterLimit], now: datetime, window: timedelta) -> datetime | None:
    """Count one attempt against every counter, or against none when one of them is full.

    None when the attempt is counted; else the moment the full counter takes attempts again.
    Runs in a transaction of its own, committed at once: the count holds even if the request fails later, every
    process sees it at once, and no lock is held while a password is hashed. Call it before the request writes
    anything: on SQLite the request's own write lock would keep this transaction waiting.
    """
    with db.engine.connect() as connection, connection.begin() as transaction:
        for counter in counters:
            if connection.execute(_count_one_more(connection.dialect.name, counter, now, window)).first() is None:
                started = connection.scalar(
                    select(_table.c.window_started_at).where(
                        _table.c.scope == counter.scope, _table.c.key == counter.key
                    )
                )
                transaction.rollback()  # the counters taken before this one give their attempt back
                return throttled_until(started, window)
    return None


def _where(counter: CounterLimit):
    return (_table.c.scope == counter.scope) & (_table.c.key == counter.key)


def forget(counter: CounterLimit) -> None:
    """Clear a counter (a successful login clears the failures of its account from its address)."""
    db.session.execute(delete(_table).where(_where(counter)))


def give_back(counter: CounterLimit) -> None:
    """Give one attempt back (a successful login does not count toward the wider counters)."""
    db.session.execute(
        update(_table).where(_where(counter), _table.c.attempts > 0).values(attempts=_table.c.attempts - 1)
    )


def purge(before: datetime) -> int:
    """Delete the counters whose window started before ``before``: they count nothing any more.

    Rows that a login holds at that moment are skipped (PostgreSQL's SKIP LOCKED): the purge never waits for a
    login, so the two cannot deadlock; the next purge takes what it skipped."""
    expired = (
        select(_table.c.scope, _table.c.key)
        .where(_table.c.window_started_at < before)
        .with_for_update(skip_locked=True)
    )
    result = db.session.execute(delete(_table).where(tuple_(_table.c.scope, _table.c.key).in_(expired)))
    return result.rowcount
