"""Training jobs: the notice of a registration, offers that expire, reminders, attestations. Thin and
idempotent."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app

from portal.common.pdf import DocumentError
from portal.extensions import db
from portal.training import attendance, notices, registrations
from portal.training.documents import attestation_pdf
from portal.training.models import Registration


@shared_task(name=registrations.NOTICE_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def registration_notice(registration_id: int) -> str | None:
    """The invitation of a confirmed seat, the position on the waiting list, the seat offered, the cancellation or
    the session's change, built after the change committed; claimed on the registration and committed with its
    email, so sent once."""
    sent = registrations.send_notice(registration_id)
    db.session.commit()
    return sent


@shared_task(name="training.sweep_notices", ignore_result=True)
def sweep_notices() -> int:
    """Republish the notices whose job was lost (broker down at commit time). Safe to run twice: each job
    claims its notice."""
    ids = registrations.notices_due(grace=timedelta(seconds=current_app.config["OUTBOX_SWEEP_SECONDS"]))
    db.session.commit()
    for registration_id in ids:
        registration_notice.apply_async(args=[registration_id])
    return len(ids)


@shared_task(name="training.expire_offers", ignore_result=True)
def expire_offers() -> int:
    """Offers not confirmed in time go to the next person on the waiting list (commits per session)."""
    expired = registrations.expire_offers()
    db.session.commit()
    return expired


@shared_task(name="training.reminders", ignore_result=True)
def reminders() -> int:
    """The 7-day and 1-day reminders; each is recorded on the registration with its email, so sent once."""
    sent = notices.send_reminders()
    db.session.commit()
    return sent


@shared_task(name=attendance.ATTESTATIONS_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_attestations(session_id: int | None = None) -> int:
    """Produce and email the attestation of every present participant who has not had one yet.

    Each attestation is claimed by a guarded UPDATE and committed with its outbox email, so a retry or
    a second worker never sends one twice; a PDF that fails leaves the row unclaimed for the next run.
    """
    sent = 0
    for registration_id in attendance.attestations_due(session_id):
        if not attendance.claim_attestation(registration_id):
            db.session.rollback()
            continue
        registration = db.session.get(Registration, registration_id)
        try:
            pdf = attestation_pdf(registration)
        except DocumentError:
            current_app.logger.exception("Attestation %s not produced; retried by the next sweep", registration_id)
            db.session.rollback()
            continue
        attendance.send_attestation(registration, pdf)
        db.session.commit()
        sent += 1
    return sent
