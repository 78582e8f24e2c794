"""Enrolment jobs: documents after validation, daily activation and end. Thin and idempotent."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from flask import current_app
from sqlalchemy import and_, or_, select

from portal.common.claims import claim_row
from portal.common.clock import utcnow
from portal.common.pdf import DocumentError
from portal.extensions import db
from portal.subscriptions import services
from portal.subscriptions.documents import documents_for
from portal.subscriptions.models import Document, Subscription


def _claim(subscription_id: int) -> bool:
    now = utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    taken = claim_row(
        Subscription,
        Subscription.id == subscription_id,
        or_(
            Subscription.documents_state == "pending",
            and_(Subscription.documents_state == "running", Subscription.documents_requested_at < now - lease),
        ),
        documents_state="running",
        documents_requested_at=now,
    )
    db.session.commit()
    return taken


@shared_task(name=services.DOCUMENTS_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def generate_documents(subscription_id: int) -> str:
    """Produce and store the enrolment documents, then notify the collectivité with the convention attached."""
    if not _claim(subscription_id):
        return "skipped"
    subscription = db.session.get(Subscription, subscription_id)
    try:
        produced = documents_for(subscription)
    except DocumentError as exc:
        db.session.rollback()
        subscription = db.session.get(Subscription, subscription_id)
        subscription.documents_state, subscription.documents_error = "failed", str(exc)[:4000]
        db.session.commit()
        return "failed"
    kinds = {kind for kind, *_ in produced}
    for document in list(subscription.documents):
        if document.kind in kinds:
            subscription.documents.remove(document)
    for kind, filename, content_type, data in produced:
        subscription.documents.append(Document(kind=kind, filename=filename, content_type=content_type, data=data))
    subscription.documents_state, subscription.documents_error = "done", None
    services.notify_documents_ready(subscription, produced)
    db.session.commit()
    return "done"


@shared_task(name="subscriptions.daily", ignore_result=True)
def daily() -> tuple[int, int]:
    result = services.run_daily()
    db.session.commit()
    return result


@shared_task(name="subscriptions.sweep_documents", ignore_result=True)
def sweep_documents() -> int:
    """Republish document jobs whose message may be lost. Safe to run twice: the task claims the row."""
    stale = utcnow() - timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    ids = list(
        db.session.scalars(
            select(Subscription.id).where(
                Subscription.documents_state.in_(["pending", "running"]), Subscription.documents_requested_at < stale
            )
        )
    )
    db.session.commit()
    for subscription_id in ids:
        generate_documents.apply_async(args=[subscription_id])
    return len(ids)
