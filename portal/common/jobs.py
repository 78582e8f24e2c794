"""Publishing Celery tasks only once the transaction that asked for them has committed, through the after-commit
publisher (:mod:`portal.common.after_commit`).

The row that describes the work (a subscription whose documents are pending, for instance) is the source of
truth: if the publication is lost, a periodic sweep publishes it again, and the task itself is idempotent. A
rollback publishes nothing.
"""

from __future__ import annotations

from flask import current_app

from portal.common.after_commit import channel, publish_after_commit

CHANNEL = "celery-tasks"


def enqueue_after_commit(task_name: str, *args) -> None:
    publish_after_commit(CHANNEL, (task_name, args))


@channel(CHANNEL)
def _publish(pending: list[tuple[str, tuple]]) -> None:
    celery_app = current_app.extensions["celery"]
    for task_name, args in dict.fromkeys(pending):  # the same task asked twice in a transaction runs once
        try:
            celery_app.tasks[task_name].apply_async(args=list(args))
        except Exception:  # noqa: BLE001 - broker down: stop here, the sweeps publish the rest later
            current_app.logger.warning("Task %s%s not published; the sweep will retry", task_name, args, exc_info=True)
            break
