"""The one beat schedule of the portal. Every periodic job is safe if two beats run by mistake:
each is idempotent (the outbox sweep takes rows with SKIP LOCKED and the send claims them; document
jobs are claimed by a guarded UPDATE; the daily subscription job moves only what is due; applying due
statuses recomputes them from the history; training notices, offers,
reminders and attestations are guarded by the registration's own state; purging expired throttle counters skips
the rows a login holds; imports of secretaries are claimed by a guarded UPDATE; each campaign reminder is
recorded under a unique (task, reminder) key before its email is queued)."""

from __future__ import annotations

from celery.schedules import crontab


def build_schedule(config) -> dict:
    return {
        "outbox-sweep": {
            "task": "notifications.sweep",
            "schedule": float(config["OUTBOX_SWEEP_SECONDS"]),
        },
        "subscriptions-sweep-documents": {
            "task": "subscriptions.sweep_documents",
            "schedule": float(config["OUTBOX_SWEEP_SECONDS"]),
        },
        "subscriptions-daily": {
            "task": "subscriptions.daily",
            "schedule": crontab(hour=0, minute=30),
        },
        "conventions-alerts": {
            "task": "conventions.alerts",
            "schedule": crontab(hour=7, minute=0),
        },
        # Training: a seat not confirmed in time goes to the next person within a minute.
        "training-expire-offers": {
            "task": "training.expire_offers",
            "schedule": 60.0,
        },
        "training-reminders": {
            "task": "training.reminders",
            "schedule": crontab(minute=5),
        },
        # Registration notices (invitation, waiting position, offer, cancellation, session changed) whose job was
        # lost; each is claimed, so sent once.
        "training-notices-sweep": {
            "task": "training.sweep_notices",
            "schedule": float(config["OUTBOX_SWEEP_SECONDS"]),
        },
        # Attestations whose job was lost (broker down at commit time); each is claimed, so sent once.
        "training-attestations-sweep": {
            "task": "training.send_attestations",
            "schedule": 600.0,
        },
        "affiliation-apply-due-changes": {
            "task": "affiliation.apply_due_changes",
            "schedule": crontab(hour=2, minute=15),
        },
        # Imports of secretaries whose message was lost (broker down at commit time) or whose worker died;
        # each is claimed, so run once.
        "accounts-sweep-imports": {
            "task": "accounts.sweep_imports",
            "schedule": float(config["OUTBOX_SWEEP_SECONDS"]),
        },
        # The work queue's digest to each CDG agent (one per agent and day: the outbox key refuses a second).
        "workqueue-digest": {
            "task": "workqueue.digest",
            "schedule": crontab(hour=7, minute=30),
        },
        # Campaign reminders (J+15, J-3…: CAMPAIGN_REMINDERS) to the bodies that have not answered, each once.
        "campaigns-reminders": {
            "task": "campaigns.reminders",
            "schedule": crontab(hour=8, minute=0),
        },
        # Throttle counters whose window is over count nothing any more.
        "accounts-purge-throttle-counters": {
            "task": "accounts.purge_throttle_counters",
            "schedule": crontab(minute=40),
        },
    }
