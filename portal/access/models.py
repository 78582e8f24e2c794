"""An access request, as the person wrote it, with the collectivités it named and the staff's decision."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.database import TimestampMixin, UTCDateTime
from portal.common.labels import N_, Labels
from portal.extensions import db


class RequestState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


STATE_LABELS = Labels(
    {
        RequestState.PENDING: N_("À traiter"),
        RequestState.ACCEPTED: N_("Acceptée"),
        RequestState.REFUSED: N_("Refusée"),
    }
)


access_request_collectivite = Table(
    "access_request_collectivite",
    db.metadata,
    Column("access_request_id", ForeignKey("access_request.id", ondelete="CASCADE"), primary_key=True),
    Column("collectivite_id", ForeignKey("collectivite.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class AccessRequest(TimestampMixin, db.Model):
    __tablename__ = "access_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    job_title: Mapped[str] = mapped_column(String(120))
    # What the person typed to name her collectivités, kept as written for the staff who decide.
    collectivites_text: Mapped[str] = mapped_column(String(1000))
    message: Mapped[str | None] = mapped_column(String(1000))
    # A ProConnect login with an unknown address: the SIRET it announced (a hint for staff, never a right).
    siret_hint: Mapped[str | None] = mapped_column(String(14))
    state: Mapped[str] = mapped_column(String(20), default=RequestState.PENDING, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    refusal_reason: Mapped[str | None] = mapped_column(String(1000))
    # The account created when the request was accepted.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    collectivites = relationship("Collectivite", secondary=access_request_collectivite, order_by="Collectivite.name")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    user = relationship("User", foreign_keys=[user_id])

    @property
    def state_label(self) -> str:
        return STATE_LABELS[RequestState(self.state)]
