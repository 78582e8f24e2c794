"""Periodic affiliation job: apply decided statuses whose effective date has come."""

from __future__ import annotations

from celery import shared_task

from portal.affiliation import services
from portal.extensions import db


@shared_task(name="affiliation.apply_due_changes", ignore_result=True)
def apply_due_changes() -> int:
    """Idempotent: aligns each body's status in force with its history; two runs change nothing more."""
    changed = services.apply_due_changes()
    db.session.commit()
    return changed
