"""Publishing Celery tasks only once the transaction that asked for them has committed.

The row that describes the work (a subscription whose documents are pending, for instance)
is the source of truth: if the publication is lost, a periodic sweep publishes it again, and
the task itself is idempotent. A rollback publishes nothing.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

_KEY = "tasks_to_publish"


def enqueue_after_commit(task_name: str, *args) -> None:
    db.session.info.setdefault(_KEY, []).append((task_name, args))


@event.listens_for(Session, "after_commit")
def _publish(session):
    if session.in_nested_transaction():  # a savepoint was released: nothing is committed yet
        return
    pending = session.info.pop(_KEY, None)
    if not pending:
        return
    celery_app = current_app.extensions["celery"]
    for task_name, args in dict.fromkeys(pending):
        try:
            celery_app.tasks[task_name].apply_async(args=list(args))
        except Exception:  # noqa: BLE001 - broker down: stop here, the sweeps publish the rest later
            current_app.logger.warning("Task %s%s not published; the sweep will retry", task_name, args, exc_info=True)
            break


@event.listens_for(Session, "after_soft_rollback")
def _forget(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop(_KEY, None)
