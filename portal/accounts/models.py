"""Users (logins), their attachments to collectivités, persons holding mandates, their mandates, login attempts.

A *person* (an élu) exists without an account; a login may be attached to him later (``User.person_id``).
A mandate row holds one function in one collectivité during one term: ``start_date`` is the start of the
term (RNE "Date de début du mandat"), ``function_start_date`` the start of that function, ``end_date`` the day
the row ended (a new function, a departure). Mandates are closed, never deleted.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Date, ForeignKey, String, Table, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.auth import Role as Role  # the roles are every area's vocabulary: defined in common
from portal.common.clock import utcnow
from portal.common.database import TimestampMixin, UTCDateTime
from portal.common.labels import N_, Labels
from portal.common.titles import function_title, role_title
from portal.extensions import db


class AccountStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DEACTIVATED = "deactivated"


STATUS_LABELS = Labels(
    {
        AccountStatus.INVITED: N_("Invitation en attente"),
        AccountStatus.ACTIVE: N_("Actif"),
        AccountStatus.DEACTIVATED: N_("Désactivé"),
    }
)


class LinkPurpose(StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of link, not a password)


class MandateFunction(StrEnum):
    MAIRE = "maire"
    ADJOINT = "adjoint"
    CONSEILLER = "conseiller"
    CONSEILLER_COMMUNAUTAIRE = "conseiller_communautaire"


# Functions held on a municipal council: a person sits on one council at a time, so he has at most one current
# municipal mandate (``User.mandate``).
MUNICIPAL_FUNCTIONS = (MandateFunction.MAIRE, MandateFunction.ADJOINT, MandateFunction.CONSEILLER)


class Sex(StrEnum):
    F = "F"
    M = "M"


class PersonSource(StrEnum):
    MANUAL = "manual"
    RNE = "rne"


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
    # Empty while the account is invited: its holder chooses the password by following the invitation link.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    terms_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Rotated at logout and password change: a copied session cookie stops working.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An account dedicated to an integration (an API client): created by staff, used only through its tokens.
    is_service_account: Mapped[bool] = mapped_column(default=False, server_default=false())

    # The person (élu) this login belongs to, if any.
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"), unique=True)

    collectivites = relationship("Collectivite", secondary=secretary_collectivite, order_by="Collectivite.name")
    person: Mapped[Person | None] = relationship(back_populates="user", lazy="joined")
    # The current municipal mandate of his person (read-only: mandates are changed through the person).
    mandate: Mapped[Mandate | None] = relationship(
        primaryjoin=(
            "and_(User.person_id == foreign(Mandate.person_id), Mandate.end_date.is_(None), "
            "Mandate.function.in_(['maire', 'adjoint', 'conseiller']))"
        ),
        viewonly=True,
        uselist=False,
        lazy="joined",
    )

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
    def sex(self) -> str | None:
        """The sex of the person behind the account, when known (an élu's, from the register): titles agree."""
        return self.person.sex if self.person is not None else None

    @property
    def role_label(self) -> str:
        return role_title(self.role, self.sex)

    @property
    def status(self) -> AccountStatus:
        if not self.active:
            return AccountStatus.DEACTIVATED
        return AccountStatus.INVITED if self.password_hash is None else AccountStatus.ACTIVE

    @property
    def status_label(self) -> str:
        # Said of the account ("Actif", "Désactivé") or of the invitation: no agreement with the person.
        return STATUS_LABELS[self.status]

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class Person(TimestampMixin, db.Model):
    """Someone who holds (or held) a mandate, with or without a login."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("source", "source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    # 'F' or 'M'; unknown for the persons migrated from logins (their accounts never recorded it).
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20), default=PersonSource.MANUAL)
    # The identity in the source (for the RNE: names, sex, birth date and commune, normalised).
    source_key: Mapped[str | None] = mapped_column(String(300))
    # An address entered by a secretary for an élu without an account.
    contact_email: Mapped[str | None] = mapped_column(String(254))

    user: Mapped[User | None] = relationship(back_populates="person", uselist=False)
    mandates: Mapped[list[Mandate]] = relationship(
        back_populates="person", order_by="(Mandate.start_date, Mandate.id)", passive_deletes=True
    )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.given_name, self.family_name) if part)

    @property
    def current_mandates(self) -> list[Mandate]:
        return [m for m in self.mandates if m.end_date is None]

    def __repr__(self) -> str:
        return f"<Person {self.full_name}>"


class Mandate(db.Model):
    """One function held by a person in a collectivité during one term; closed (``end_date``), never deleted."""

    __tablename__ = "mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    function: Mapped[str] = mapped_column(String(30))
    # Rank of an adjoint (1 for the premier adjoint); empty for other functions.
    rank: Mapped[int | None]
    has_delegation: Mapped[bool] = mapped_column(default=False)
    delegation_subject: Mapped[str | None] = mapped_column(String(200))
    # Start of the term (the council's installation), kept when the function changes during the term.
    start_date: Mapped[date] = mapped_column(Date)
    function_start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship(back_populates="mandates", lazy="joined")
    # The login of the person, if he has one (read-only).
    user: Mapped[User | None] = relationship(
        primaryjoin="foreign(Mandate.person_id) == remote(User.person_id)", viewonly=True, uselist=False
    )
    collectivite = relationship("Collectivite", lazy="joined")

    @property
    def function_label(self) -> str:
        return function_title(self.function, self.person.sex if self.person else None, self.rank)

    @property
    def is_current(self) -> bool:
        return self.end_date is None


class AccountLink(db.Model):
    """A single-use link sent by email: an invitation (choose a password, accept the terms) or a password reset.

    Only a digest of the secret is stored. A link is good once, until ``expires_at``, and only while it is the
    newest of its account and purpose (sending a new one replaces the previous: ``replaced_at``)."""

    __tablename__ = "account_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


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
