"""Users, their attachments to collectivités, elected mandates and login attempts."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Date, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.clock import utcnow
from portal.common.database import TimestampMixin, UTCDateTime
from portal.extensions import db


class Role(StrEnum):
    STAFF = "staff"
    SECRETARY = "secretary"
    ELU = "elu"


ROLE_LABELS = {Role.STAFF: "Agent du CDG", Role.SECRETARY: "Secrétaire de mairie", Role.ELU: "Élu"}


class MandateFunction(StrEnum):
    MAIRE = "maire"
    ADJOINT = "adjoint"
    CONSEILLER = "conseiller"


FUNCTION_LABELS = {
    MandateFunction.MAIRE: "Maire",
    MandateFunction.ADJOINT: "Adjoint au maire",
    MandateFunction.CONSEILLER: "Conseiller municipal",
}

secretary_collectivite = Table(
    "secretary_collectivite",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("collectivite_id", ForeignKey("collectivite.id", ondelete="CASCADE"), primary_key=True, index=True),
)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(TimestampMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    # Rotated at logout and password change: a copied session cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An account dedicated to an integration (an API client): created by staff, used only through its tokens.
    is_service_account: Mapped[bool] = mapped_column(default=False, server_default=false())

    collectivites = relationship("Collectivite", secondary=secretary_collectivite, order_by="Collectivite.name")
    mandate: Mapped[Mandate | None] = relationship(back_populates="user", uselist=False, lazy="joined")

    # Flask-Login protocol
    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_staff(self) -> bool:
        return self.role == Role.STAFF

    @property
    def is_secretary(self) -> bool:
        return self.role == Role.SECRETARY

    @property
    def is_elu(self) -> bool:
        return self.role == Role.ELU

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(Role(self.role), self.role)

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Mandate(db.Model):
    """An elected official's mandate in a collectivité."""

    __tablename__ = "mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    function: Mapped[str] = mapped_column(String(20))
    has_delegation: Mapped[bool] = mapped_column(default=False)
    delegation_subject: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="mandate")
    collectivite = relationship("Collectivite", lazy="joined")

    @property
    def function_label(self) -> str:
        return FUNCTION_LABELS.get(MandateFunction(self.function), self.function)


class ThrottleCounter(db.Model):
    """Attempts counted in a fixed window, one row per scope and key: failed logins per account and address,
    per account, per address; password-reset requests per address and per IP address.

    Changed only by the guarded statements of ``portal.accounts.counters`` (an upsert that counts one more
    attempt only below the limit), so that simultaneous requests never count past it."""

    __tablename__ = "throttle_counter"

    scope: Mapped[str] = mapped_column(String(30), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    attempts: Mapped[int]
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
