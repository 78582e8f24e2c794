"""The frozen test clock: every test runs at a chosen instant, never at the day the suite happens to run.

By default the suite runs on ``DEFAULT_TEST_NOW``. ``PORTAL_TEST_TODAY`` moves it:

* ``PORTAL_TEST_TODAY=2027-12-31``: that day at noon, Paris time;
* ``PORTAL_TEST_TODAY=2027-03-28T02:30``: that wall-clock time in Paris (a time that does not
  exist on the day clocks go forward is read by zoneinfo's ``fold=0`` rule, as Python does).

The clock ticks from that instant (``tick=True``): timeouts, leases and waits keep working. Child
processes (the Celery workers of ``tests/workers``) receive the gap between the fake clock and the
real one in ``PORTAL_TEST_CLOCK_OFFSET`` (seconds) and apply it when they start (see
``tests/workers/celery_main.py``): they read exactly the parent's fake time, however long they take
to start, so that a row due "now" in the test is due for the worker too.
Only wall-clock functions move (``time.time``, ``datetime.now``, ``date.today``); ``time.monotonic``
is left alone, so measured durations stay real.
"""

from __future__ import annotations

import os
import time as _time
from datetime import UTC, datetime, time

import time_machine
from time_machine import escape_hatch

from portal.common.clock import PARIS

DEFAULT_TEST_NOW = datetime(2026, 9, 15, 10, 0, tzinfo=PARIS)
ENV_TODAY = "PORTAL_TEST_TODAY"
ENV_OFFSET = "PORTAL_TEST_CLOCK_OFFSET"


def parse_test_today(value: str) -> datetime:
    """``YYYY-MM-DD`` (noon in Paris) or ``YYYY-MM-DDTHH:MM`` (Paris wall clock) or an aware ISO instant."""
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise ValueError(
            f"{ENV_TODAY}={value!r} : attendu une date AAAA-MM-JJ ou AAAA-MM-JJTHH:MM (heure de Paris)"
        ) from error
    if parsed.tzinfo is not None:
        return parsed
    if len(value) == 10:  # a bare date
        parsed = datetime.combine(parsed.date(), time(12, 0))
    return parsed.replace(tzinfo=PARIS)


def chosen_instant(environ: dict | None = None) -> datetime:
    environ = os.environ if environ is None else environ
    if environ.get(ENV_OFFSET):
        return datetime.fromtimestamp(_real_time() + float(environ[ENV_OFFSET]), UTC)
    if environ.get(ENV_TODAY):
        return parse_test_today(environ[ENV_TODAY])
    return DEFAULT_TEST_NOW


def start(environ: dict | None = None) -> time_machine.travel:
    """Freeze the clock of this process at the chosen instant (ticking); returns the traveller to stop it."""
    traveller = time_machine.travel(chosen_instant(environ), tick=True)
    traveller.start()
    # time-machine starts ticking at the first reading, not at start(): read now, so that processes
    # forked later (Celery's pool) do not each start their own tick from the same instant, behind.
    _time.time()
    return traveller


def _real_time() -> float:
    return escape_hatch.time.time() if escape_hatch.is_travelling() else _time.time()


def offset_for_subprocess() -> str:
    """How far the fake clock is from the real one, for a child process to apply when it starts."""
    return repr(_time.time() - _real_time())
