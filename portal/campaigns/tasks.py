"""The daily reminders of the campaigns. Thin and idempotent: each (task, reminder) is recorded under a unique key."""

from __future__ import annotations

from celery import shared_task

from portal.campaigns import services
from portal.extensions import db

REMINDER_TASK = "campaigns.reminders"


@shared_task(name=REMINDER_TASK, ignore_result=True)
def reminders() -> int:
    """Send today's reminders to the bodies that have not answered; a second run the same day sends nothing."""
    sent = services.run_reminders_once()
    db.session.commit()
    return sent
