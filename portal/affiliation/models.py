"""Recorded affiliation statuses and the decisions CDG staff take."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.clock import utcnow
from portal.common.database import UTCDateTime
from portal.extensions import db


class AffiliationDecision(db.Model):
    """A decision about a body's affiliation: opened by a crossing or by staff, then recorded by staff.

    kinds: ``crossing`` (opened automatically when declarations cross 350),
    ``voluntary_affiliation`` and ``withdrawal`` (voluntary affiliation and its retrait).
    """

    __tablename__ = "affiliation_decision"
    __table_args__ = (Index("ix_affiliation_decision_state", "state", "opened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(20), default="open")  # open, decided
    year: Mapped[int | None]
    counted_headcount: Mapped[int | None]
    previous_headcount: Mapped[int | None]
    status_before: Mapped[str | None] = mapped_column(String(20))
    proposed_status: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Filled when decided
    decided_status: Mapped[str | None] = mapped_column(String(20))
    effective_date: Mapped[date | None] = mapped_column(Date)
    deliberation_ref: Mapped[str | None] = mapped_column(String(200))
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    collectivite = relationship("Collectivite")
    decided_by = relationship("User")


class AffiliationStatusChange(db.Model):
    """One line of a body's status history: the status in force from ``effective_date``."""

    __tablename__ = "affiliation_status_change"
    __table_args__ = (Index("ix_affiliation_status_change_body_date", "collectivite_id", "effective_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))
    effective_date: Mapped[date] = mapped_column(Date)
    explanation: Mapped[str] = mapped_column(Text)
    deliberation_ref: Mapped[str | None] = mapped_column(String(200))
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("affiliation_decision.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    decision = relationship("AffiliationDecision")
    recorded_by = relationship("User")
