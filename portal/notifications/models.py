"""Outbox rows for emails and the in-app notifications shown to users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.clock import utcnow
from portal.common.database import UTCDateTime
from portal.extensions import db


class OutboxState:
    PENDING = "pending"
    RUNNING = "running"
    SENT = "sent"
    FAILED = "failed"
    ALL = (PENDING, RUNNING, SENT, FAILED)


class OutboxEmail(db.Model):
    """An email to send, written in the same transaction as the action that causes it.

    Rendering happens in the worker, from ``template`` and ``context``, so a template
    error leaves a failed row that staff can retry, never a lost email.
    """

    __tablename__ = "outbox_email"
    __table_args__ = (Index("ix_outbox_email_state_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The idempotency key, sent as the Message-ID header: a receiving server can discard a resend.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    category: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(254))
    to_name: Mapped[str | None] = mapped_column(String(200))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    template: Mapped[str] = mapped_column(String(100))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When a Celery message was last published for this row: the sweep re-publishes only stale ones.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient = relationship("User")
    attachments: Mapped[list[OutboxAttachment]] = relationship(
        back_populates="email", cascade="all, delete-orphan", order_by="OutboxAttachment.id"
    )


class OutboxAttachment(db.Model):
    __tablename__ = "outbox_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(ForeignKey("outbox_email.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    email: Mapped[OutboxEmail] = relationship(back_populates="attachments")


class Notification(db.Model):
    """An in-app notice in a user's notification centre."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_email.id", ondelete="SET NULL"))


class NotificationPreference(db.Model):
    """A user's choice to receive email or not for an optional category."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    category: Mapped[str] = mapped_column(String(40), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(default=True)
