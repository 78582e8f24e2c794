"""Who on the CDG's staff has taken an item of the work queue in hand.

The queue itself is not stored (it is what the areas hold right now); a claim only says "agent X handles it", and
for the items that no action of the portal ends (an import's rejected lines, fixed outside the portal), that it
was dealt with (``resolved_at``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.clock import utcnow
from portal.common.database import UTCDateTime
from portal.extensions import db


class WorkClaim(db.Model):
    __tablename__ = "work_claim"
    __table_args__ = (UniqueConstraint("kind", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # a workqueue.rules.Kind
    object_id: Mapped[int]
    agent_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agent = relationship("User")
