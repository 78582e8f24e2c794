"""Accounts jobs: delete the throttle counters whose window is over; run a confirmed import of secretaries."""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task
from flask import current_app

from portal.accounts import bulk_import, services
from portal.common import cdg
from portal.extensions import db


@shared_task(name="accounts.purge_throttle_counters", ignore_result=True)
def purge_throttle_counters() -> int:
    """Idempotent: a second run finds nothing more to delete."""
    deleted = services.purge_throttle_counters()
    db.session.commit()
    return deleted


def run_import(import_id: int, on_line: Callable[[], None] | None = None) -> str:
    """Apply a confirmed import, one committed transaction per line (see ``portal.accounts.bulk_import``).

    Safe to run twice, at once or later: only the holder of the claim writes, and it starts from the first line
    without a result. Returns "done", "failed", "skipped" (finished, or held by another worker) or "lost" (the
    claim was taken over after this worker stalled beyond the lease)."""
    token = bulk_import.claim(import_id)
    db.session.commit()
    if token is None:
        return "skipped"
    departements = cdg.departements()
    for entry in bulk_import.remaining_lines(import_id):
        try:
            kept = bulk_import.apply_line(import_id, token, entry, departements)
        except Exception as exc:  # a bug or a database failure: stop here, the lines before stay imported
            db.session.rollback()
            current_app.logger.exception("Account import %s: line %s failed", import_id, entry["line"])
            bulk_import.fail(import_id, token, entry["line"], type(exc).__name__)
            db.session.commit()
            return "failed"
        if not kept:
            db.session.rollback()
            return "lost"
        db.session.commit()
        if on_line is not None:
            on_line()
    finished = bulk_import.finish(import_id, token)
    db.session.commit()
    return "done" if finished else "lost"


@shared_task(name=bulk_import.RUN_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_account_import(import_id: int) -> str:
    return run_import(import_id)


@shared_task(name="accounts.sweep_imports", ignore_result=True)
def sweep_imports() -> int:
    """Publish again the imports whose message may be lost or whose worker died. The claim makes a copy harmless."""
    ids = bulk_import.stale_jobs()
    for import_id in ids:
        run_account_import.apply_async(args=[import_id])
    return len(ids)
