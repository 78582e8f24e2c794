"""Queueing emails through the outbox, in-app notifications, and the claim/send/sweep cycle.

The outbox row is written in the caller's transaction; its Celery message is published
only after that transaction commits (a rollback leaves neither). Workers claim a row with
a single guarded UPDATE, so a message delivered twice sends one email.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, g, has_app_context
from sqlalchemy import and_, func, or_, select, update

from portal.accounts.models import Role, User, secretary_collectivite
from portal.common.after_commit import channel, publish_after_commit
from portal.common.claims import claim_row
from portal.common.clock import utcnow
from portal.common.i18n import gettext as _
from portal.extensions import db
from portal.notifications.categories import is_mandatory
from portal.notifications.models import (
    Notification,
    NotificationPreference,
    OutboxAttachment,
    OutboxEmail,
    OutboxState,
)

SEND_TASK = "notifications.send_email"
SEND_BATCH_TASK = "notifications.send_emails"
PUBLISH_BATCH_SIZE = 20  # outbox ids per Celery message: one claim, one load, one task for 20 emails
OUTBOX_CHANNEL = "outbox-emails"


# Publishing after commit ----------------------------------------------------------------------


def _publish(ids: list[int]) -> None:
    """Publish the messages of committed rows.

    The rows were written with ``enqueued_at`` already set (:func:`queue_email`): on the usual path nothing is
    left to record, and a request that sends an email costs no second transaction. At the first broker failure,
    stop and clear ``enqueued_at`` of the rows not published: the sweep publishes them as soon as the broker is
    back (no request hangs). Should even that fail (or the process die between commit and publication), the
    rows look published and the sweep republishes them once ``enqueued_at`` is older than the lease."""
    celery_app = current_app.extensions["celery"]
    for start in range(0, len(ids), PUBLISH_BATCH_SIZE):
        chunk = ids[start : start + PUBLISH_BATCH_SIZE]
        try:
            # Through the registered tasks, so that eager mode (CELERY_TASK_ALWAYS_EAGER) runs them in place.
            if len(chunk) == 1:
                celery_app.tasks[SEND_TASK].apply_async(args=[chunk[0]])
            else:
                celery_app.tasks[SEND_BATCH_TASK].apply_async(args=[chunk])
        except Exception:  # noqa: BLE001 - broker down: the sweep will publish them later
            left = ids[start:]
            current_app.logger.warning(
                "Outbox: broker unavailable, %d message(s) left to the sweep", len(left), exc_info=True
            )
            _mark_unpublished(left)
            return


def _mark_unpublished(ids: list[int]) -> None:
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id.in_(ids), OutboxEmail.state == OutboxState.PENDING)
                .values(enqueued_at=None)
            )
    except Exception:  # noqa: BLE001 - the request's own data is committed: never fail it for bookkeeping
        current_app.logger.warning("Outbox: %d unpublished message(s) not recorded", len(ids), exc_info=True)


@channel(OUTBOX_CHANNEL)
def _after_commit(ids: list[int]) -> None:
    _publish(sorted(set(ids)))


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{current_app.config['MAIL_MESSAGE_ID_DOMAIN']}>"


def queue_email(
    *,
    template: str,
    category: str,
    context: dict,
    to_user=None,
    to_address: str | None = None,
    to_name: str | None = None,
    mandatory: bool | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    message_id: str | None = None,
) -> OutboxEmail | None:
    """Write an outbox row in the current transaction; published to Celery after commit.

    Returns None when the user switched off email for this (optional) category.
    """
    if to_user is not None and not (mandatory or is_mandatory(category)) and not email_enabled(to_user.id, category):
        return None
    email = OutboxEmail(
        # A caller may give the key itself (a daily digest: one per user and day): the unique column then
        # refuses a second email, whatever the number of jobs that try.
        message_id=message_id or new_message_id(),
        category=category,
        to_address=to_address or to_user.email,
        to_name=to_name or (to_user.full_name if to_user is not None else None),
        recipient_id=getattr(to_user, "id", None),
        template=template,
        context=context,
        state=OutboxState.PENDING,
        next_attempt_at=utcnow(),
        # Published right after the commit; cleared if that publication fails (see _publish).
        enqueued_at=utcnow(),
    )
    for filename, content_type, data in attachments:
        email.attachments.append(OutboxAttachment(filename=filename, content_type=content_type, data=data))
    db.session.add(email)
    db.session.flush()
    publish_after_commit(OUTBOX_CHANNEL, email.id)
    return email


def notify(
    user,
    *,
    category: str,
    title: str,
    body: str,
    link: str | None = None,
    email_template: str | None = "notification",
    context: dict | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
    mandatory: bool | None = None,
) -> Notification:
    """An in-app notification, and its email unless the user switched the (optional) category off
    (``mandatory``: sent whatever his choice)."""
    email = None
    if email_template:
        email = queue_email(
            template=email_template,
            category=category,
            to_user=user,
            mandatory=mandatory,
            context={
                "title": title,
                "body": body,
                "link": link,
                "full_name": user.full_name,
                "base_url": current_app.config["PORTAL_BASE_URL"],
                **(context or {}),
            },
            attachments=attachments,
        )
    notification = Notification(
        user_id=user.id, category=category, title=title[:200], body=body, link=link, email_id=getattr(email, "id", None)
    )
    db.session.add(notification)
    db.session.flush()
    forget_unread_counts()
    return notification


# Messages meant for a person (an élu), with or without an account ------------------------------------------


ACCOUNT, CONTACT, SECRETARIES = "account", "contact", "secretaries"


@dataclass
class Recipients:
    """Where the messages meant for a person go (:func:`person_recipients`)."""

    kind: str
    users: list = field(default_factory=list)
    address: str | None = None

    @property
    def email(self) -> str | None:
        """The address his messages reach first (his own, or a secretary's)."""
        if self.address:
            return self.address
        return self.users[0].email if self.users else None


def collectivite_secretaries(collectivite_id: int) -> list:
    """The active secretaries attached to a collectivité."""
    return list(
        db.session.scalars(
            select(User)
            .join(secretary_collectivite, secretary_collectivite.c.user_id == User.id)
            .where(
                secretary_collectivite.c.collectivite_id == collectivite_id,
                User.role == Role.SECRETARY,
                User.active.is_(True),
            )
            .order_by(User.id)
        )
    )


def person_recipients(person, collectivite_id: int) -> Recipients:
    """Where the messages meant for ``person`` go: his account if he has an active one; else the contact address
    a secretary entered for him; else the secretaries of ``collectivite_id`` (his collectivité), who pass them on."""
    user = person.user
    if user is not None and user.active:
        return Recipients(ACCOUNT, [user], user.email)
    if person.contact_email:
        return Recipients(CONTACT, [], person.contact_email)
    return Recipients(SECRETARIES, collectivite_secretaries(collectivite_id))


def notify_person(
    person,
    *,
    collectivite_id: int,
    category: str,
    title: str,
    body: str,
    link: str | None = None,
    salutation: str | None = None,
    description: str | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> Recipients:
    """Tell a person something, with or without an account (see :func:`person_recipients`).

    With an account: an in-app notification and its email, as :func:`notify`. With only a contact address: an
    email (no link into the portal, which he cannot open), sent whatever the category. Otherwise each secretary
    of his collectivité gets it as a notification to pass on, naming him (``description``: "Anne Roux, Maire
    de Sauvagnas"), sent whatever her choices for the category: a convocation must reach the élu."""
    to = person_recipients(person, collectivite_id)
    if to.kind == ACCOUNT:
        notify(
            to.users[0],
            category=category,
            title=title,
            body=body,
            link=link,
            attachments=attachments,
            context={"salutation": salutation} if salutation else None,
        )
    elif to.kind == CONTACT:
        queue_email(
            template="notification",
            category=category,
            to_address=to.address,
            to_name=person.full_name,
            mandatory=True,
            context={
                "title": title,
                "body": body,
                "link": None,
                "full_name": person.full_name,
                "salutation": salutation,
                "without_account": True,
                "base_url": current_app.config["PORTAL_BASE_URL"],
            },
            attachments=attachments,
        )
    else:
        who = description or person.full_name
        for secretary in to.users:
            notify(
                secretary,
                category=category,
                title=_("%(title)s — pour %(name)s", title=title, name=person.full_name),
                body=_(
                    "Message destiné à %(who)s, qui n'a ni compte ni adresse électronique sur le portail : "
                    "merci de le lui transmettre.",
                    who=who,
                )
                + f"\n\n{body}",
                link=link,
                attachments=attachments,
                mandatory=True,
            )
    return to


def email_enabled(user_id: int, category: str) -> bool:
    if is_mandatory(category):
        return True
    preference = db.session.get(NotificationPreference, (user_id, category))
    return True if preference is None else preference.email_enabled


def unread_count_column(user_id_column):
    """The unread count of a user as a scalar subquery: folded into the loading of the logged-in user, so that the
    header's count costs no round trip of its own (:func:`header_unread_count`)."""
    return (
        select(func.count(Notification.id))
        .where(Notification.user_id == user_id_column, Notification.read_at.is_(None))
        .scalar_subquery()
    )


def remember_unread_count(user_id: int, count: int) -> None:
    """The unread count read with the user at the start of the request (forgotten when a notification is made)."""
    g.unread_notifications = (user_id, count)


def forget_unread_counts() -> None:
    if has_app_context():
        g.pop("unread_notifications", None)


def header_unread_count(user_id: int) -> int:
    """The count in the header: the one read with the user, unless notifications changed since."""
    known = g.get("unread_notifications")
    if known is not None and known[0] == user_id:
        return known[1]
    return unread_count(user_id)


def unread_count(user_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


# Claiming and finishing --------------------------------------------------------------------------


def claim(email_id: int, now: datetime | None = None) -> str | None:
    """Atomically take a due row: returns a claim token, or None if another worker has it or it is done."""
    token, claimed = claim_many([email_id], now)
    return token if claimed else None


def claim_many(email_ids: list[int], now: datetime | None = None) -> tuple[str, list[int]]:
    """Atomically take the due rows among ``email_ids``: (a claim token, the ids taken), in one statement.

    One guarded UPDATE ... RETURNING: on PostgreSQL a concurrent claimer waits on the row locks and then
    re-checks the condition, which no longer holds; on SQLite writes are serialised.
    """
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    token = secrets.token_hex(16)
    claimed = db.session.scalars(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(email_ids),
            or_(
                and_(OutboxEmail.state == OutboxState.PENDING, OutboxEmail.next_attempt_at <= now),
                and_(OutboxEmail.state == OutboxState.RUNNING, OutboxEmail.claimed_at < now - lease),
            ),
        )
        .values(state=OutboxState.RUNNING, claim_token=token, claimed_at=now, attempts=OutboxEmail.attempts + 1)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return token, sorted(claimed)


def renew_claim(email_ids: list[int], token: str, now: datetime | None = None) -> list[int]:
    """Extend the lease of the rows among ``email_ids`` that this claim still holds; returns their ids.

    A row whose lease ran out may have been handed to another worker by the sweep (:func:`claim_many` takes
    it over with a new token, and that worker sends it): it is no longer this worker's to send."""
    now = now or utcnow()
    held = db.session.scalars(
        update(OutboxEmail)
        .where(
            OutboxEmail.id.in_(email_ids),
            OutboxEmail.claim_token == token,
            OutboxEmail.state == OutboxState.RUNNING,
        )
        .values(claimed_at=now)
        .returning(OutboxEmail.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(held)


def _finish(email_id: int, token: str, **values) -> bool:
    """Record the outcome of a send, if this claim still holds the row (else another worker does: it decides)."""
    finished = claim_row(OutboxEmail, OutboxEmail.id == email_id, OutboxEmail.claim_token == token, **values)
    db.session.commit()
    return finished


def mark_sent(email_id: int, token: str) -> bool:
    return _finish(email_id, token, state=OutboxState.SENT, sent_at=utcnow(), last_error=None, claim_token=None)


def backoff_seconds(attempts: int, base: float = 30.0, cap: float = 3600.0) -> float:
    """Exponential backoff with full jitter: up to base × 2^(attempts-1), capped."""
    return random.uniform(base / 2, min(cap, base * 2 ** max(0, attempts - 1)))


def mark_transient_failure(email_id: int, token: str, error: str) -> float | None:
    """Back to pending with a delay, or failed once the attempts are used up. Returns the delay, if any (none
    either when this claim no longer holds the row)."""
    email = db.session.get(OutboxEmail, email_id)
    if email is None:
        return None
    if email.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        _finish(
            email_id,
            token,
            state=OutboxState.FAILED,
            last_error=f"Abandon après {email.attempts} tentatives : {error}"[:4000],
            claim_token=None,
        )
        return None
    delay = backoff_seconds(email.attempts)
    held = _finish(
        email_id,
        token,
        state=OutboxState.PENDING,
        last_error=error[:4000],
        next_attempt_at=utcnow() + timedelta(seconds=delay),
        claim_token=None,
        enqueued_at=utcnow(),
    )
    return delay if held else None  # taken over after the lease: its new holder retries it if need be


def mark_failed(email_id: int, token: str, error: str) -> None:
    _finish(email_id, token, state=OutboxState.FAILED, last_error=error[:4000], claim_token=None)


def due_for_publication(now: datetime | None = None, limit: int = 500, include_pending: bool = True) -> list[int]:
    """Rows whose message may be lost: never published, claimed by a worker past the lease (the worker
    died), and, only when ``include_pending``, pending and due but not published recently.

    Marks them as published now, in the same transaction (SKIP LOCKED on PostgreSQL, so two
    sweeps running by mistake take different rows).
    """
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    stale = now - lease
    lost_while_running = and_(OutboxEmail.state == OutboxState.RUNNING, OutboxEmail.claimed_at < stale)
    # A row never published (the broker was down at commit) certainly has no message: always publish it.
    never_published = and_(
        OutboxEmail.state == OutboxState.PENDING, OutboxEmail.next_attempt_at <= now, OutboxEmail.enqueued_at.is_(None)
    )
    condition = or_(never_published, lost_while_running)
    if include_pending:
        condition = or_(
            and_(
                OutboxEmail.state == OutboxState.PENDING,
                OutboxEmail.next_attempt_at <= now,
                or_(OutboxEmail.enqueued_at.is_(None), OutboxEmail.enqueued_at < stale),
            ),
            lost_while_running,
        )
    statement = select(OutboxEmail.id).where(condition).order_by(OutboxEmail.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        statement = statement.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(statement))
    if ids:
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(ids))
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def queued_messages() -> int | None:
    """Messages waiting in the broker's default queue, or None if the broker cannot say."""
    celery_app = current_app.extensions["celery"]
    try:
        with celery_app.connection_for_read() as connection:
            queue = celery_app.conf.task_default_queue
            return connection.default_channel.queue_declare(queue=queue, passive=True).message_count
    except Exception:  # noqa: BLE001 - an unknown queue or a broker without the information
        return None


def retry_failed(email: OutboxEmail, actor) -> None:
    """Staff action: put a failed email back in the queue (published after commit)."""
    from portal.audit import services as audit

    if email.state != OutboxState.FAILED:
        from portal.common.errors import DomainError

        raise DomainError(_("Seul un envoi en échec peut être relancé."))
    email.state = OutboxState.PENDING
    email.attempts = 0
    email.next_attempt_at = utcnow()
    email.enqueued_at = utcnow()  # published after the commit (cleared if that fails)
    db.session.flush()
    publish_after_commit(OUTBOX_CHANNEL, email.id)
    audit.record("outbox.retry", f"Relance de l'envoi n° {email.id} à {email.to_address}", actor=actor, obj=email)
