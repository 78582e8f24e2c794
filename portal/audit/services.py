"""Writing audit events (part of the caller's transaction, never committed here) and reading the history of one
object."""

from __future__ import annotations

import functools

from flask import has_request_context
from sqlalchemy import insert, select

from portal.audit.models import AuditEvent
from portal.extensions import db


def record(action: str, summary: str, *, actor=None, obj=None, details: dict | None = None, ip: str | None = None):
    """Add an audit event to the current unit of work."""
    event = AuditEvent(**_values(action, summary, actor=actor, obj=obj, details=details, ip=ip))
    db.session.add(event)
    return event


def write(action: str, summary: str, *, actor=None, obj=None, details: dict | None = None, ip: str | None = None):
    """Write an audit event at once, in the caller's transaction, with a plain INSERT (no object in the session):
    for a hot path, such as a registration, where the unit of work's flush at commit costs more than the insert.
    ``obj`` must already have its id (flushed)."""
    db.session.execute(_insert_statement(), _values(action, summary, actor=actor, obj=obj, details=details, ip=ip))


def _values(action: str, summary: str, *, actor, obj, details, ip) -> dict:
    if ip is None and has_request_context():
        from portal.common.security import client_address

        ip = client_address()
    return {
        "actor_id": getattr(actor, "id", None),
        "actor_email": getattr(actor, "email", None),
        "action": action,
        "object_type": type(obj).__name__ if obj is not None else None,
        "object_id": getattr(obj, "id", None),
        "summary": summary[:500],
        "details": details,
        "ip_address": ip,
    }


@functools.cache
def _insert_statement():
    return insert(AuditEvent.__table__)


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
