"""A harness for the outbox tests that use real Celery workers (subprocesses) and a real SMTP sink.

Each test gets its own Celery queue (``test-outbox-<random>``), purged when the test starts
and when it ends, so that nothing left over by a killed worker or by another run sharing the
same Redis reaches this test's worker. Workers are started as
``python -m celery -A tests.workers.worker_app worker --pool prefork --concurrency 2``,
configured only through the environment (``PORTAL_ENV=testing``, ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``MAIL_SERVER``, ``MAIL_PORT``, ``OUTBOX_LEASE_SECONDS``) as in
production, readiness being signalled by a file (see worker_app.py), and killed (SIGKILL to
the process group) at the end of the test: a warm shutdown takes 5 s or more, and nothing
leaks since the queue is purged and the tables emptied afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal import create_app
from portal.extensions import db
from portal.notifications import services
from portal.notifications.models import OutboxEmail
from portal.notifications.sink import CollectingHandler
from tests.conftest import _free_port, clean_tables, make_environ

ROOT = Path(__file__).resolve().parents[2]
WORKER_MODULE = "tests.workers.worker_app"
WORKER_READY_SECONDS = 40
# kombu's SQLAlchemy transport sleeps ``polling_interval`` (1 s by default) whenever the worker's prefetch
# window is full, which caps the embedded broker at about two tasks a second. The workers of these tests
# poll every 50 ms (see worker_app.py); Redis does not poll, so this changes nothing there.
BROKER_POLLING_INTERVAL = "0.05"


def wait_until(predicate, timeout: float, interval: float = 0.05):
    """Poll ``predicate`` until it returns a true value or ``timeout`` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def distinct_ids(handler) -> set[str]:
    return set(handler.message_ids())


def duplicates(handler) -> dict[str, int]:
    return {mid: n for mid, n in Counter(handler.message_ids()).items() if n > 1}


def copies_by_address(handler) -> dict[str, list[str]]:
    """The Message-ID of every copy received, by recipient: copies are told apart by their recipient, so that a
    resent email is recognised whatever its Message-ID."""
    copies: dict[str, list[str]] = {}
    with handler.lock:
        for message in handler.messages:
            copies.setdefault(message["To"].addresses[0].addr_spec, []).append(str(message["Message-ID"]))
    return copies


class StallingHandler(CollectingHandler):
    """An SMTP server that keeps one sender waiting in the middle of a send.

    The ``stall_on``-th message received (counting from 1) is stored, as a real server that has accepted it
    would, but its reply (250) is held back until :meth:`release` or ``max_stall`` seconds: meanwhile its
    sender is between DATA and the server's answer, the email in flight. Every other message is answered at once.
    """

    def __init__(self, stall_on: int, max_stall: float = 30.0):
        super().__init__()
        self.stall_on = stall_on
        self.max_stall = max_stall
        self.stalled = threading.Event()  # the message is stored, its sender waits for the answer
        self.released = threading.Event()
        self.stalled_message = None
        self._received = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        reply = await super().handle_DATA(server, session, envelope)
        with self.lock:
            self._received += 1
            stall = self._received == self.stall_on
            if stall:
                self.stalled_message = self.messages[-1]
        if stall:
            self.stalled.set()
            deadline = time.monotonic() + self.max_stall
            # Cancelled if the sender dies meanwhile (aiosmtpd ends the session): the message stays stored.
            while not self.released.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
        return reply

    def release(self) -> None:
        self.released.set()

    def stalled_address(self) -> str:
        """The recipient of the message held (not a property: aiosmtpd reads every attribute of its handler)."""
        return self.stalled_message["To"].addresses[0].addr_spec


class Worker:
    """A ``celery worker`` subprocess in its own process group (so that it can be killed with its children)."""

    def __init__(self, process: subprocess.Popen, log_path: Path, ready_file: Path | None):
        self.process = process
        self.log_path = log_path
        self.ready_file = ready_file

    def running(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(pas de journal)"

    def wait_ready(self, timeout: float = WORKER_READY_SECONDS) -> None:
        ready = wait_until(lambda: not self.running() or self.ready_file.exists(), timeout, 0.05)
        if not ready or not self.running():
            self.kill()
            pytest.fail(f"Le worker n'a pas démarré en {timeout} s.\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the whole process group: the main process and its prefork children, mid-task."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """At the end of a test: killed at once (a warm shutdown takes 5 s or more). Nothing leaks, the queue
        being this test's own and purged afterwards."""
        self.kill()


class OutboxHarness:
    def __init__(self, database_url: str, broker_url: str, tmp_path: Path):
        self.database_url = database_url
        self.broker_url = broker_url
        self.tmp_path = tmp_path
        self.queue = f"test-outbox-{uuid.uuid4().hex[:12]}"
        self.apps = []
        self.workers: list[Worker] = []
        self._purged = False

    # The web side ------------------------------------------------------------------------------

    def app(self, **extra):
        """A (non-eager) Flask app publishing to this test's queue on the real broker."""
        extra.setdefault("CELERY_TASK_ALWAYS_EAGER", "0")
        app = create_app({"ENVIRON": make_environ(self.database_url, self.broker_url, **extra)})
        celery_app = app.extensions["celery"]
        celery_app.conf.task_default_queue = self.queue
        self.apps.append(app)
        if not self._purged:  # start from an empty queue
            celery_app.control.purge()
            self._purged = True
        return app

    def sweep(self, app) -> int:
        """Run the beat's sweep task (``notifications.sweep``) in this process, publishing to the test queue."""
        celery_app = app.extensions["celery"]
        celery_app.set_current()  # the task publishes through ``send_email``, a proxy to the current Celery app
        return celery_app.tasks["notifications.sweep"]()

    @staticmethod
    def rows(app) -> list[OutboxEmail]:
        with app.app_context():
            try:
                return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
            finally:
                db.session.remove()

    def states(self, app) -> Counter:
        return Counter(row.state for row in self.rows(app))

    # The worker side ---------------------------------------------------------------------------

    def worker(
        self, mail_port: int, *, module: str = WORKER_MODULE, wait: bool = True, extra_args: tuple[str, ...] = (), **env
    ) -> Worker:
        n = len(self.workers) + 1
        log_path = self.tmp_path / f"worker-{n}.log"
        ready_file = self.tmp_path / f"worker-{n}.ready"
        if module == WORKER_MODULE:
            env.setdefault("TEST_BROKER_POLLING_INTERVAL", BROKER_POLLING_INTERVAL)
        environ = make_environ(
            self.database_url,
            self.broker_url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=mail_port,
            CELERY_TASK_ALWAYS_EAGER="0",
            TEST_CELERY_QUEUE=self.queue,
            TEST_WORKER_READY_FILE=ready_file,
            **env,
        )
        command = [
            sys.executable,
            "-m",
            "tests.workers.celery_main",  # Celery's command line, on the test's clock
            "-A",
            module,
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"{self.queue}-{n}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *extra_args,
        ]
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        worker = Worker(process, log_path, ready_file if module == WORKER_MODULE else None)
        self.workers.append(worker)
        if wait and worker.ready_file is not None:
            worker.wait_ready()
        return worker

    # Clean-up ----------------------------------------------------------------------------------

    def _clean_redis(self) -> None:
        """Remove what kombu keeps in Redis for this test's queue once it is purged.

        The entries of kombu's ``unacked`` hash left by a killed worker (otherwise any worker on the same
        Redis would restore them, an hour later, into a queue nobody reads) and the queue's bindings.
        """
        if not self.broker_url.startswith(("redis://", "rediss://")):
            return
        import redis

        client = redis.Redis.from_url(self.broker_url)
        try:
            for tag, raw in client.hscan_iter("unacked"):
                try:
                    routing_key = json.loads(raw)[2]
                except (ValueError, IndexError, TypeError):
                    continue
                if routing_key == self.queue:
                    client.hdel("unacked", tag)
                    client.zrem("unacked_index", tag)
            client.delete(f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
        finally:
            client.close()

    def close(self) -> None:
        for worker in self.workers:
            worker.stop()
        app = self.apps[0] if self.apps else self.app()
        try:
            app.extensions["celery"].control.purge()
            self._clean_redis()
        finally:
            with app.app_context():
                db.session.remove()
                clean_tables()
            for each in self.apps:
                with each.app_context():
                    db.session.remove()
                    db.engine.dispose()
                each.extensions["celery"].close()


@pytest.fixture(autouse=True)
def configured_broker_only(broker_url, monkeypatch):
    """Each app in this process uses the broker of its configuration.

    Celery reads ``CELERY_BROKER_URL`` from the process environment before its configuration
    (``celery.app.utils.Settings.broker_url``): in the Redis run of the suite, an app created with
    ``memory://`` (the ``app`` fixture) or with an unreachable broker would publish to the real Redis.
    ``broker_url`` (session-scoped) has read the variable already; the workers get their own environment.
    """
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)


@pytest.fixture
def stalling_sink():
    """Starts a :class:`StallingHandler` on a free local port: ``stalling_sink(stall_on=3)``."""
    started = []

    def start(stall_on: int) -> StallingHandler:
        handler = StallingHandler(stall_on)
        handler.port = _free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=handler.port, decode_data=False)
        controller.start()
        started.append((controller, handler))
        return handler

    yield start
    for controller, handler in started:
        handler.release()
        controller.stop()


@pytest.fixture
def outbox(migrated, broker_url, tmp_path):
    harness = OutboxHarness(migrated, broker_url, tmp_path)
    yield harness
    harness.close()


def queue_reset_email(app, to_address: str, to_name: str | None = None, **context) -> OutboxEmail:
    """One password-reset email (an existing template with accents), queued in the caller's transaction."""
    return services.queue_email(
        template="password_reset",
        category="account",
        to_address=to_address,
        to_name=to_name,
        context={
            "full_name": to_name or to_address,
            "reset_url": "http://localhost/mot-de-passe/x",
            "minutes": 60,
            **context,
        },
    )
