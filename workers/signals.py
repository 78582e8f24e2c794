"""Worker process hooks: a forked child must not reuse its parent's database connections."""

from celery.signals import worker_process_init
from flask import Flask

from portal.extensions import db


def connect(flask_app: Flask) -> None:
    """Connect the hooks for the worker processes of ``flask_app`` (workers.celery_app calls it once)."""

    def dispose_engine_after_fork(**_kwargs):
        with flask_app.app_context():
            db.engine.dispose(close=False)

    # weak=False: the signal keeps the closure alive; dispatch_uid: connecting twice is connecting once.
    worker_process_init.connect(dispose_engine_after_fork, weak=False, dispatch_uid="portal.dispose_engine_after_fork")
