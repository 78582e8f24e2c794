"""Campaigns, their tasks (one per body in scope), the answers to their steps and the messages sent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.campaigns.rules import STATE_LABELS, State
from portal.common.clock import utcnow
from portal.common.database import UTCDateTime
from portal.extensions import db


class Campaign(db.Model):
    """A campaign of one kind (``portal.campaigns.definitions``) for a year: its scope, dates and message."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("deadline >= reference_date", name="deadline_after_reference"),
        CheckConstraint("year BETWEEN 1984 AND 2200", name="year_range"),
        Index("ix_campaign_state_kind_year", "state", "kind", "year"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    reference_date: Mapped[date] = mapped_column(Date)
    deadline: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text, default="")
    # The scope as chosen at opening (kinds of bodies, départements): the tasks are its result.
    scope: Mapped[dict] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(10), default=State.OPEN)
    opened_on: Mapped[date] = mapped_column(Date)  # Paris day of the opening: the J+n reminders count from it
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    opened_by = relationship("User", foreign_keys=[opened_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])

    @property
    def is_open(self) -> bool:
        return self.state == State.OPEN

    @property
    def state_label(self) -> str:
        return STATE_LABELS[State(self.state)]


class CampaignTask(db.Model):
    """What one body has to do in a campaign. Whether it is done is observed (declarations, answers), not stored."""

    __tablename__ = "campaign_task"
    __table_args__ = (UniqueConstraint("campaign_id", "collectivite_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    collectivite = relationship("Collectivite")


class CampaignAnswer(db.Model):
    """A step answered by a body (a document uploaded, a deliberation). A new upload adds a row; the latest counts."""

    __tablename__ = "campaign_answer"
    __table_args__ = (Index("ix_campaign_answer_task_step", "task_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("campaign_task.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(40))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    filename: Mapped[str | None] = mapped_column(String(255))
    stored_name: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]

    task: Mapped[CampaignTask] = relationship()
    answered_by = relationship("User")


class CampaignMessage(db.Model):
    """The opening message or a reminder, recorded per task: the unique key makes each go out once at most."""

    __tablename__ = "campaign_message"
    __table_args__ = (UniqueConstraint("task_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("campaign_task.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(20))  # "ouverture", "J+15", "J-3"
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
