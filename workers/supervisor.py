"""Keeping ``make run``'s processes up: a service that stops is started again, after a growing delay.

A restartable service (the Celery worker, beat, the local mail sink) that stops is started again
after 1 s, then 2 s, 4 s … up to 60 s if it keeps stopping; once it has run for a minute, the
next stop is waited for 1 s again. An essential service (the web server) that stops stops them
all: the supervisor's point is the portal, and a web server that exits has usually met an error
that a restart would only repeat (port taken, configuration refused). Ctrl-C and SIGTERM stop
every service: SIGTERM to each one's process group (its own children included), then SIGKILL to
what is left after ``stop_timeout`` seconds. Messages to the operator are in French.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from babel.numbers import format_decimal


@dataclass(frozen=True)
class Backoff:
    """How long to wait before starting a stopped service again."""

    base: float = 1.0  # seconds before the first restart
    cap: float = 60.0  # the longest wait
    stable_after: float = 60.0  # a service that ran this long was healthy: its count of stops starts again

    def delay(self, stops: int) -> float:
        """Seconds to wait after the ``stops``-th stop in a row (1 for the first): base × 2^(stops − 1), capped."""
        return min(self.cap, self.base * 2 ** max(0, stops - 1))

    def stops_in_a_row(self, previous: int, uptime: float) -> int:
        """The count of stops in a row once a service stops after ``uptime`` seconds (``previous`` before it)."""
        return 1 if uptime >= self.stable_after else previous + 1


@dataclass(frozen=True)
class Service:
    name: str
    command: list[str]
    essential: bool = False  # when it stops, everything stops


def seconds(value: float) -> str:
    """« 2 s », « 0,5 s »."""
    return f"{format_decimal(value, format='#,##0.###', locale='fr_FR')} s"


def _how_it_stopped(name: str, returncode: int) -> str:
    if returncode < 0:
        try:
            signal_name = signal.Signals(-returncode).name
        except ValueError:
            signal_name = str(-returncode)
        return f"« {name} » a été arrêté par le signal {signal_name}"
    return f"« {name} » s'est arrêté (code {returncode})"


def _exited(process: subprocess.Popen) -> bool:
    """Whether the process has ended, without reaping it: until it is reaped its pid cannot be reused, so
    neither can its process group id, which can still be signalled safely."""
    try:
        return os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:  # already reaped
        return True


def _say_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Supervisor:
    """Starts the services, restarts the restartable ones, stops them all at the end. Not thread-safe, except
    :meth:`request_stop`, which a signal handler or another thread may call."""

    def __init__(
        self,
        services: list[Service],
        backoff: Backoff = Backoff(),
        *,
        poll_interval: float = 0.2,
        stop_timeout: float = 15.0,
        cwd: str | os.PathLike | None = None,
        say: Callable[[str], None] = _say_to_stderr,
    ):
        self.services = {service.name: service for service in services}
        self.backoff = backoff
        self.poll_interval = poll_interval
        self.stop_timeout = stop_timeout
        self.cwd = cwd
        self.say = say
        self.processes: dict[str, subprocess.Popen] = {}
        self._started_at: dict[str, float] = {}
        self._stops: dict[str, int] = {}
        self._restart_at: dict[str, float] = {}  # services waiting to be started again
        self._stop_requested = False

    def request_stop(self) -> None:
        self._stop_requested = True

    def run(self) -> int:
        """Supervise until a stop is requested (returns 0) or an essential service stops (returns its exit code;
        1 if it exited with 0, 128 + the signal's number if a signal ended it, as a shell would)."""
        try:
            for name in self.services:
                self._start(name)
            while not self._stop_requested:
                status = self.poll()
                if status is not None:
                    return status
                time.sleep(self.poll_interval)
            return 0
        finally:
            self.stop_all()

    def poll(self) -> int | None:
        """One round: note the services that stopped, start those whose delay is over. Returns an exit status
        once an essential service has stopped."""
        now = time.monotonic()
        for name, process in list(self.processes.items()):
            if not _exited(process):
                continue
            del self.processes[name]
            self._kill_group(process, signal.SIGKILL)  # what it left behind (a dead Celery worker's pool)
            returncode = process.wait()
            if self.services[name].essential:
                self.say(f"{_how_it_stopped(name, returncode)} : arrêt de l'ensemble.")
                return 128 - returncode if returncode < 0 else returncode or 1
            delay = self._schedule_restart(name, now - self._started_at[name])
            self.say(f"{_how_it_stopped(name, returncode)} : redémarrage dans {seconds(delay)}.")
        for name, due in list(self._restart_at.items()):
            if due <= now and not self._stop_requested:
                del self._restart_at[name]
                self._start(name)
        return None

    def _schedule_restart(self, name: str, uptime: float) -> float:
        self._stops[name] = self.backoff.stops_in_a_row(self._stops.get(name, 0), uptime)
        delay = self.backoff.delay(self._stops[name])
        self._restart_at[name] = time.monotonic() + delay
        return delay

    def _start(self, name: str) -> None:
        service = self.services[name]
        self._started_at[name] = time.monotonic()
        try:
            # Its own process group, so that stopping it reaches its children too (gunicorn's and Celery's).
            self.processes[name] = subprocess.Popen(service.command, cwd=self.cwd, process_group=0)
        except OSError as exc:
            if service.essential:
                raise
            delay = self._schedule_restart(name, 0.0)
            self.say(f"« {name} » n'a pas pu démarrer ({exc}) : nouvel essai dans {seconds(delay)}.")

    @staticmethod
    def _kill_group(process: subprocess.Popen, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signum)

    def stop_all(self) -> None:
        """SIGTERM to every running service's process group; SIGKILL to what is left after ``stop_timeout``."""
        self._restart_at.clear()
        processes = list(self.processes.values())
        self.processes.clear()
        for process in processes:
            self._kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        running = processes
        while running and time.monotonic() < deadline:
            time.sleep(0.02)
            running = [process for process in running if not _exited(process)]
        for process in processes:
            self._kill_group(process, signal.SIGKILL)  # still running, or children left behind
            process.wait()


def supervise(services: list[Service], backoff: Backoff = Backoff(), **options) -> int:
    """Run a :class:`Supervisor` in the foreground: Ctrl-C (SIGINT) and SIGTERM stop every service."""
    supervisor = Supervisor(services, backoff, **options)

    def stop(_signum, _frame):
        supervisor.request_stop()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        return supervisor.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
