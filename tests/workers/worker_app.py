"""The Celery app the worker subprocesses of these tests import: ``celery -A tests.workers.worker_app worker``.

It is the real one (``workers.celery_app``, configured from the environment: database,
broker, SMTP port, lease) with test-only additions, read from the environment (the test clock
is started before, by ``tests/workers/celery_main.py``):

* ``TEST_CELERY_QUEUE``: the default queue, one per test, so that messages left over by a
  test (or by another run sharing the same Redis) never reach another test's worker. The
  worker consumes it and the tasks it publishes (retries, sweep) go to it too.
* ``TEST_WORKER_READY_FILE``: written when the worker is ready to consume, so that the
  test waits for exactly that instead of sleeping.
* ``TEST_BROKER_POLLING_INTERVAL``: how often kombu's SQLAlchemy transport (the embedded broker)
  polls. Its default, 1 s, is also slept whenever the prefetch window is full, so a worker
  gets about ``concurrency`` tasks a second. It cannot be set through
  ``broker_transport_options``: that transport passes every option on to ``create_engine``.
"""

from __future__ import annotations

import os
from pathlib import Path

from celery.signals import worker_ready

from workers.celery_app import app, flask_app  # noqa: F401  (``app`` is what ``celery -A`` looks for)

_queue = os.environ.get("TEST_CELERY_QUEUE")
if _queue:
    app.conf.task_default_queue = _queue


_polling_interval = os.environ.get("TEST_BROKER_POLLING_INTERVAL")
if _polling_interval:
    from kombu.transport import sqlalchemy as sqla_transport

    sqla_transport.Transport.polling_interval = float(_polling_interval)


@worker_ready.connect
def _write_ready_file(**_kwargs):
    ready_file = os.environ.get("TEST_WORKER_READY_FILE")
    if ready_file:
        Path(ready_file).write_text(str(os.getpid()))
