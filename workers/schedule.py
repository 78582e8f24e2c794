"""The one beat schedule of the portal. Every periodic job is safe if two beats run by mistake:
each is idempotent (the outbox sweep takes rows with SKIP LOCKED and the send claims them;
applying due statuses recomputes them from the history)."""

from __future__ import annotations

from celery.schedules import crontab


def build_schedule(config) -> dict:
    return {
        "outbox-sweep": {
            "task": "notifications.sweep",
            "schedule": float(config["OUTBOX_SWEEP_SECONDS"]),
        },
        "affiliation-apply-due-changes": {
            "task": "affiliation.apply_due_changes",
            "schedule": crontab(hour=2, minute=15),
        },
    }
