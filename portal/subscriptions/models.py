"""Subscriptions, their history of transitions, ENT schools and generated documents."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalogue.rules import QUANTITY_LABELS
from portal.common.clock import utcnow
from portal.common.database import TimestampMixin, UTCDateTime
from portal.common.formatting import decimal_fr, money_fr
from portal.common.i18n import gettext as _
from portal.extensions import db
from portal.subscriptions.rules import STATE_LABELS, State


class Subscription(TimestampMixin, db.Model):
    __tablename__ = "subscription"
    __table_args__ = (Index("ix_subscription_state", "state", "requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="RESTRICT"), index=True)
    state: Mapped[str] = mapped_column(String(30), default=State.REQUESTED)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # Quantities and answers given at request time (agents, pupils, hours, message…).
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # The last message from the CDG: reason for a refusal, information asked.
    staff_message: Mapped[str | None] = mapped_column(Text)
    end_requested_on: Mapped[date | None] = mapped_column(Date)
    # The enrolment documents are a job carried by this row: pending → done, or failed with its error.
    documents_state: Mapped[str | None] = mapped_column(String(10))
    documents_error: Mapped[str | None] = mapped_column(Text)
    documents_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    collectivite = relationship("Collectivite")
    service = relationship("Service")
    requested_by = relationship("User")
    events: Mapped[list[SubscriptionEvent]] = relationship(
        back_populates="subscription", order_by="SubscriptionEvent.id", cascade="all, delete-orphan"
    )
    schools: Mapped[list[School]] = relationship(
        back_populates="subscription", order_by="School.uai", cascade="all, delete-orphan"
    )
    documents: Mapped[list[Document]] = relationship(
        back_populates="subscription", order_by="Document.id", cascade="all, delete-orphan"
    )

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(State(self.state), self.state)

    @property
    def quantities_shown(self) -> list[tuple[str, str]]:
        """The quantities declared with the request, as people read them: ("Nombre d'élèves", "38")."""
        shown = []
        for key, value in ((self.details or {}).get("quantities") or {}).items():
            if value is None:
                continue
            text = money_fr(Decimal(str(value))) if key == "payroll" else decimal_fr(Decimal(str(value)))
            shown.append((QUANTITY_LABELS.get(key) or _("Autre quantité"), text))
        return shown


class SubscriptionEvent(db.Model):
    """One transition of the state machine, with who took it and why."""

    __tablename__ = "subscription_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[Subscription] = relationship(back_populates="events")
    actor = relationship("User")


class School(db.Model):
    """A primary school covered by an ENT subscription (annex of the DASEN convention)."""

    __tablename__ = "school"
    __table_args__ = (
        UniqueConstraint("subscription_id", "uai", name="uq_school_subscription_uai"),
        CheckConstraint("classes >= 1", name="classes_positive"),
        CheckConstraint("pupils >= 0", name="pupils_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"), index=True)
    uai: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(200))
    classes: Mapped[int]
    pupils: Mapped[int]
    director: Mapped[str | None] = mapped_column(String(200))
    joined_on: Mapped[date | None] = mapped_column(Date)

    subscription: Mapped[Subscription] = relationship(back_populates="schools")


class Document(db.Model):
    """A document generated for a subscription (convention PDF, ENT annex, CSV export), kept in the database."""

    __tablename__ = "subscription_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscription.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[Subscription] = relationship(back_populates="documents")
