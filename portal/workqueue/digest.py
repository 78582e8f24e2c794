"""The daily digest: each CDG agent receives by email the items that entered his work queue in the last day.

Sent by a beat job through the outbox; an agent switches it off in his notification preferences (category
``digest``). One email per agent and Paris day at most: its Message-ID is built from both, and the outbox's unique
key refuses a second one, whichever job (a retry, a second beat) tries.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Role, User
from portal.common.clock import paris_today, utcnow
from portal.common.formatting import decimal_fr
from portal.common.i18n import gettext as _
from portal.common.urls import external_url
from portal.extensions import db
from portal.workqueue import rules, services

WINDOW = timedelta(days=1)


def digest_key(user_id: int, day) -> str:
    return f"<digest-{user_id}-{day.isoformat()}@{current_app.config['MAIL_MESSAGE_ID_DOMAIN']}>"


def fresh_items(now: datetime) -> list[rules.WorkItem]:
    """The items that entered the queue in the last day, oldest first."""
    return rules.order_items([item for item in services.collect(now) if item.since >= now - WINDOW])


def summary_lines(counts: dict) -> list[str]:
    """A line per kind of item that has some, its label agreeing with the count: "Courriel en échec : 1",
    "Courriels en échec : 2"."""
    return [
        _("%(kind)s : %(count)s", kind=rules.KIND_LABELS.counted(kind, n), count=decimal_fr(n))
        for kind, n in counts.items()
        if n
    ]


def send_digests(now: datetime | None = None) -> int:
    """Queue today's digest for every active agent who has not had it; the number queued."""
    from portal.notifications.services import queue_email

    now = now or utcnow()
    items = fresh_items(now)
    if not items:
        return 0
    lines = [
        {
            "kind": rules.KIND_LABELS[item.kind][0],
            "title": item.title,
            "body": item.body_name,
            "url": external_url(item.endpoint, **item.url_values),
        }
        for item in items
    ]
    summary = summary_lines(rules.counts_by_kind(items))
    today = paris_today()
    staff = db.session.scalars(
        select(User).where(User.role == Role.STAFF, User.active.is_(True), User.is_service_account.is_(False))
    ).all()
    queued = 0
    for user in staff:
        if user.password_hash is None:  # still invited: he has no queue to open yet
            continue
        try:
            with db.session.begin_nested():
                email = queue_email(
                    template="staff_digest",
                    category="digest",
                    to_user=user,
                    context={
                        "full_name": user.full_name,
                        "day": today.isoformat(),
                        "items": lines,
                        "summary": summary,
                        "queue_url": external_url("main.dashboard"),
                    },
                    message_id=digest_key(user.id, today),
                )
        except IntegrityError:
            continue  # today's digest was queued already
        queued += email is not None
    return queued
