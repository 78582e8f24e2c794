"""Celery tasks for the outbox: thin, idempotent, taking ids only."""

from __future__ import annotations

import time
from collections import Counter

from celery import shared_task
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.notifications import services
from portal.notifications.mailer import PermanentEmailError, TransientEmailError, build_message, send
from portal.notifications.models import OutboxEmail


@shared_task(name=services.SEND_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_email(email_id: int) -> str:
    """Send one outbox email. Safe to run twice: only the worker holding the claim sends."""
    results = _send([email_id])
    return next(iter(results)) if results else "skipped"


@shared_task(name=services.SEND_BATCH_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def send_emails(email_ids: list[int]) -> dict:
    """Send several outbox emails: one claim, one load, the process's SMTP connection; each marked on its own."""
    return dict(_send(email_ids))


def _send(email_ids: list[int]) -> Counter:
    claimed_at = time.monotonic()  # taken before the claim: the lease is never thought longer than it is
    token, claimed = services.claim_many(email_ids)
    results: Counter = Counter()
    if not claimed:
        return results
    emails = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.id.in_(claimed))
        .options(selectinload(OutboxEmail.attachments))
        .order_by(OutboxEmail.id)
    ).all()
    # Render them all first: every mark_* commits, which expires the loaded rows.
    prepared = []
    for email in emails:
        try:
            prepared.append((email.id, build_message(email), None))
        except PermanentEmailError as exc:
            prepared.append((email.id, None, str(exc)))
        except Exception as exc:  # an unexpected bug must not leave the row claimed forever
            current_app.logger.exception("Outbox %s: unexpected error", email.id)
            prepared.append((email.id, None, f"Erreur inattendue : {exc!r}"))
    # The lease covers the whole batch. Past half of it, renew it before the next email, and leave out those
    # whose lease ran out: the sweep may have handed them to another worker, which sends them. So only an email
    # in flight when the lease runs out (or the worker dies) can be sent twice, never the rest of the batch.
    half_lease = current_app.config["OUTBOX_LEASE_SECONDS"] / 2
    held = set(claimed)
    for index, (email_id, message, error) in enumerate(prepared):
        if time.monotonic() - claimed_at > half_lease:
            claimed_at = time.monotonic()
            held = set(services.renew_claim([each[0] for each in prepared[index:]], token))
        if email_id not in held:
            results["taken_over"] += 1
            continue
        results[_deliver(email_id, token, message, error)] += 1
    return results


def _deliver(email_id: int, token: str, message, error: str | None) -> str:
    if error is not None:
        services.mark_failed(email_id, token, error)
        return "failed"
    try:
        send(message)
    except PermanentEmailError as exc:
        db.session.rollback()
        services.mark_failed(email_id, token, str(exc))
        return "failed"
    except TransientEmailError as exc:
        db.session.rollback()
        delay = services.mark_transient_failure(email_id, token, str(exc))
        if delay is not None:
            send_email.apply_async(args=[email_id], countdown=delay)
            return "retry"
        return "failed"
    except Exception as exc:  # an unexpected bug must not leave the row claimed forever
        db.session.rollback()
        current_app.logger.exception("Outbox %s: unexpected error", email_id)
        services.mark_failed(email_id, token, f"Erreur inattendue : {exc!r}")
        return "failed"
    if not services.mark_sent(email_id, token):
        current_app.logger.warning(
            "Outbox %s: sent after its lease ran out; another worker may send it again (same Message-ID)", email_id
        )
    return "sent"


@shared_task(name="notifications.sweep", ignore_result=True)
def sweep_outbox() -> int:
    """Re-publish rows whose message may have been lost (broker crash, worker killed). Safe to run twice.

    A pending row's message may simply be waiting behind a backlog: while the queue still holds
    messages, only rows claimed by a dead worker are republished; once it is empty, any pending row
    left behind lost its message. When the broker cannot tell, republish (a duplicate message is
    harmless, the claim makes sure one email is sent; a lost one is not)."""
    ids = services.due_for_publication(include_pending=not services.queued_messages())
    for email_id in ids:
        send_email.apply_async(args=[email_id])
    return len(ids)
