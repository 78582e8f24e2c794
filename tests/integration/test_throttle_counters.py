"""Throttle counters in the database: counted all or none, within their limit, and purged once their window is over."""

from datetime import timedelta

from sqlalchemy import select

from portal.accounts import counters, services, tasks
from portal.accounts.models import ThrottleCounter
from portal.accounts.rules import CounterLimit
from portal.common.clock import utcnow
from portal.extensions import db
from workers.schedule import build_schedule

WINDOW = timedelta(minutes=15)


def counts() -> dict[tuple[str, str], int]:
    db.session.expire_all()
    return {(c.scope, c.key): c.attempts for c in db.session.scalars(select(ThrottleCounter))}


def test_an_attempt_is_counted_up_to_the_limit_then_refused_until_the_window_is_over(app):
    now = utcnow()
    counter = CounterLimit("login-account", "agent@cdg47.fr", 3)
    assert [counters.take([counter], now, WINDOW) for _ in range(3)] == [None, None, None]
    assert counters.take([counter], now + timedelta(minutes=1), WINDOW) == now + WINDOW
    assert counts() == {("login-account", "agent@cdg47.fr"): 3}  # a refused attempt is not counted
    assert counters.take([counter], now + WINDOW, WINDOW) is None  # a new window, counted from zero
    assert counts() == {("login-account", "agent@cdg47.fr"): 1}


def test_an_attempt_refused_by_one_counter_is_counted_by_none(app):
    now = utcnow()
    narrow = CounterLimit("login-account-address", "192.0.2.1 agent@cdg47.fr", 5)
    wide = CounterLimit("login-address", "192.0.2.1", 1)
    assert counters.take([narrow, wide], now, WINDOW) is None
    assert counters.take([narrow, wide], now, WINDOW) == now + WINDOW
    assert counts() == {("login-account-address", "192.0.2.1 agent@cdg47.fr"): 1, ("login-address", "192.0.2.1"): 1}


def test_counters_whose_window_is_over_are_purged_by_a_periodic_job(app):
    now = utcnow()
    config = app.config
    window = timedelta(
        seconds=max(config["LOGIN_THROTTLE_WINDOW_SECONDS"], config["PASSWORD_RESET_THROTTLE_WINDOW_SECONDS"])
    )
    counters.take([CounterLimit("login-account", "ancien@cdg47.fr", 5)], now - window - timedelta(seconds=1), window)
    counters.take([CounterLimit("reset-email", "recent@cdg47.fr", 3)], now - window + timedelta(minutes=1), window)
    assert tasks.purge_throttle_counters.apply().get() == 1
    assert counts() == {("reset-email", "recent@cdg47.fr"): 1}
    assert services.purge_throttle_counters() == 0  # idempotent
    schedule = {entry["task"] for entry in build_schedule(app.config).values()}
    assert "accounts.purge_throttle_counters" in schedule
    assert "accounts.purge_throttle_counters" in app.extensions["celery"].tasks
