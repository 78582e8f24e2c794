"""Writing audit events: part of the caller's transaction, never committed here."""

from __future__ import annotations

from flask import has_request_context

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
