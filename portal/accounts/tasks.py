"""Periodic accounts job: delete the throttle counters whose window is over."""

from __future__ import annotations

from celery import shared_task

from portal.accounts import services
from portal.extensions import db


@shared_task(name="accounts.purge_throttle_counters", ignore_result=True)
def purge_throttle_counters() -> int:
    """Idempotent: a second run finds nothing more to delete."""
    deleted = services.purge_throttle_counters()
    db.session.commit()
    return deleted
