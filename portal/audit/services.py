"""Writing audit events (part of the caller's transaction, never committed here) and reading the history of one
object."""

from __future__ import annotations

from flask import has_request_context
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.extensions import db


def record(action: str, summary: str, *, actor=None, obj=None, details: dict | None = None, ip: str | None = None):
    """Add an audit event to the current unit of work."""
    if ip is None and has_request_context():
        from portal.common.security import client_address

        ip = client_address()
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_email=getattr(actor, "email", None),
        action=action,
        object_type=type(obj).__name__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        summary=summary[:500],
        details=details,
        ip_address=ip,
    )
    db.session.add(event)
    return event


# How many events the history of one object shows (its page; the journal holds the rest).
HISTORY_LENGTH = 30


def history_of(object_type: str, object_id: int, limit: int = HISTORY_LENGTH) -> list[AuditEvent]:
    """What was done to one object (an account, a convention), most recent first, through the index on the object."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
