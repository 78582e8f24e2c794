"""Training bodies, trainings, sessions, registrations of élus and the communes' training budgets."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.clock import utcnow
from portal.common.database import TimestampMixin, UTCDateTime
from portal.extensions import db
from portal.training.rights_rules import FUNDING_LABELS, Funding
from portal.training.rules import Status, agrement_valid, status_label


class TrainingBody(TimestampMixin, db.Model):
    """An organisme de formation approved by the ministry (after the CNFEL's opinion)."""

    __tablename__ = "training_body"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    agrement_number: Mapped[str] = mapped_column(String(60))
    agrement_from: Mapped[date] = mapped_column(Date)
    agrement_until: Mapped[date] = mapped_column(Date)
    contact_email: Mapped[str | None] = mapped_column(String(254))

    def agrement_valid_on(self, day: date) -> bool:
        return agrement_valid(self.agrement_from, self.agrement_until, day)


class Training(TimestampMixin, db.Model):
    __tablename__ = "training"
    __table_args__ = (
        CheckConstraint("duration_hours > 0", name="duration_positive"),
        CheckConstraint("cost_per_participant >= 0", name="cost_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    objectives: Mapped[str] = mapped_column(Text, default="")
    programme: Mapped[str] = mapped_column(Text, default="")
    duration_hours: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    cost_per_participant: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    body_id: Mapped[int] = mapped_column(ForeignKey("training_body.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(default=True)

    body: Mapped[TrainingBody] = relationship(lazy="joined")
    sessions: Mapped[list[TrainingSession]] = relationship(
        back_populates="training", order_by="TrainingSession.starts_at"
    )


class TrainingSession(TimestampMixin, db.Model):
    __tablename__ = "training_session"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_training_session_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str | None] = mapped_column(String(300))
    remote_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int]
    registration_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    quota_per_collectivite: Mapped[int | None]
    # Below this many participants a week before, the session waits for a decision on the staff's work queue.
    minimum_participants: Mapped[int | None]
    published: Mapped[bool] = mapped_column(default=False)
    # When a seat frees, élus of communes with no trained élu get the offer first.
    prioritise_untrained: Mapped[bool] = mapped_column(default=False)
    # iCalendar SEQUENCE of the invitations: increased when the date, time or place changes.
    sequence: Mapped[int] = mapped_column(default=0)
    # Bumped by every change to the roster: its UPDATE is the lock that serialises seat allocation
    # (a row lock on PostgreSQL, the write lock on SQLite), so two requests never take the last seat.
    roster_version: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)  # told to the participants, shown on the session page
    attendance_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    training: Mapped[Training] = relationship(back_populates="sessions", lazy="joined")
    registrations: Mapped[list[Registration]] = relationship(
        back_populates="session", order_by="Registration.id", viewonly=True
    )

    @property
    def hours(self) -> Decimal:
        return self.training.duration_hours


# A registration whose notice is due: a seat without its invitation, a waiting élu not yet told his position,
# a seat offered and not yet announced, a cancellation not yet told. (A change of the session not yet told is
# read from the session's sequence: see ``Registration.told_sequence``.)
NOTICE_DUE_SQL = (
    "(status = 'registered' AND NOT invitation_sent) OR (status = 'waiting' AND waiting_notice_sent_at IS NULL)"
    " OR (status = 'offered' AND offer_notice_sent_at IS NULL)"
    " OR (status = 'cancelled' AND cancel_notice_sent_at IS NULL)"
)


class Registration(TimestampMixin, db.Model):
    """One élu's registration to a session, with what the law asks to record (domain.md §4)."""

    __tablename__ = "training_registration"
    __table_args__ = (
        # One live registration per élu and session, enforced by the database under concurrency too.
        Index(
            "uq_training_registration_live",
            "session_id",
            "mandate_id",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_training_registration_session_status", "session_id", "status"),
        Index("ix_training_registration_status_expiry", "status", "offer_expires_at"),
        # The registrations whose notice is still due (the sweep's query): a handful of rows at any time.
        Index(
            "ix_training_registration_notice_due",
            "id",
            sqlite_where=text(NOTICE_DUE_SQL),
            postgresql_where=text(NOTICE_DUE_SQL),
        ),
        UniqueConstraint("uid", name="uq_training_registration_uid"),
        CheckConstraint("leave_days >= 0", name="leave_days_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    mandate_id: Mapped[int] = mapped_column(ForeignKey("mandate.id", ondelete="CASCADE"), index=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # First in, first out: the time the élu joined the waiting list (or registered).
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Recorded at registration time, as the law asks.
    delegation_held: Mapped[bool] = mapped_column(default=False)
    first_year: Mapped[bool] = mapped_column(default=False)
    funding: Mapped[str] = mapped_column(String(10), default=Funding.COMMUNE)
    tuition_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    travel_cost: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    dife_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0.00"))
    leave_days: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal("0.0"))
    # The iCalendar UID of the invitation, stable for the life of the registration.
    uid: Mapped[str] = mapped_column(String(80), default=lambda: uuid.uuid4().hex)
    ics_sequence: Mapped[int] = mapped_column(default=0)
    invitation_sent: Mapped[bool] = mapped_column(default=False)
    # When the élu was told his position on the waiting list (by the notice task, once).
    waiting_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the élu was told a seat is offered to him (by the notice task, once).
    offer_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which cancellation the élu is told of (registrations.CancelNotice: the title of the message), recorded with
    # the cancellation; when he was told (by the notice task, once).
    cancel_notice: Mapped[str | None] = mapped_column(String(20))
    cancel_notice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The session's ``sequence`` (its date, time and place) the élu was last told of: below the session's, its
    # change is still to be told (by the notice task, which raises it).
    told_sequence: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    reminders_sent: Mapped[str] = mapped_column(String(20), default="")
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attestation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[TrainingSession] = relationship(back_populates="registrations")
    mandate = relationship("Mandate", lazy="joined")
    collectivite = relationship("Collectivite")
    registered_by = relationship("User")

    @property
    def status_label(self) -> str:
        """Agrees with the élu ("Inscrite")."""
        person = self.mandate.person if self.mandate is not None else None
        return status_label(self.status, person.sex if person is not None else None)

    @property
    def funding_label(self) -> str:
        return FUNDING_LABELS.get(Funding(self.funding), self.funding)

    @property
    def holds_seat(self) -> bool:
        return self.status in {Status.REGISTERED, Status.OFFERED, Status.PRESENT, Status.ABSENT}


class TrainingBudget(TimestampMixin, db.Model):
    """The training credits a council voted for a year, and its maximum indemnités for the 2–20 % bounds."""

    __tablename__ = "training_budget"
    __table_args__ = (
        UniqueConstraint("collectivite_id", "year", name="uq_training_budget_year"),
        CheckConstraint("amount >= 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"))
    year: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    max_indemnities: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    deliberation_ref: Mapped[str | None] = mapped_column(String(100))
