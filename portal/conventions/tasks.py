"""The daily renewal alerts. Thin and idempotent: an alert row per (convention, deadline kind, deadline date)."""

from __future__ import annotations

from celery import shared_task

from portal.conventions import services
from portal.extensions import db


@shared_task(name=services.ALERT_TASK, ignore_result=True)
def alerts() -> int:
    """Warn staff of the end dates and notice deadlines due within ``CONVENTION_ALERT_DAYS``; safe to run twice."""
    sent = services.run_alerts()
    db.session.commit()
    return sent
