"""Partners, conventions and their parties, signatories, axes, actions, meetings, documents and alerts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.clock import utcnow
from portal.common.database import TimestampMixin, UTCDateTime
from portal.common.labels import N_, Labels
from portal.conventions import rules
from portal.extensions import db


class PartnerKind:
    CNFPT = "cnfpt"
    CNFPT_DELEGATION = "cnfpt_delegation"
    AMF = "amf"
    PREFON = "prefon"
    AATF = "aatf"
    REGIONS = "regions_de_france"
    FNCDG = "fncdg"
    ETAT = "etat"
    DSDEN = "dsden"
    CDG = "cdg"
    COLLECTIVITE = "collectivite"
    OTHER = "other"


PARTNER_KIND_LABELS = Labels(
    {
        PartnerKind.CNFPT: N_("CNFPT"),
        PartnerKind.CNFPT_DELEGATION: N_("Délégation régionale du CNFPT"),
        PartnerKind.AMF: N_("Association des maires de France (AMF)"),
        PartnerKind.PREFON: N_("Préfon"),
        PartnerKind.AATF: N_("Association des administrateurs territoriaux de France (AATF)"),
        PartnerKind.REGIONS: N_("Régions de France"),
        PartnerKind.FNCDG: N_("Fédération nationale des centres de gestion (FNCDG)"),
        PartnerKind.ETAT: N_("État"),
        PartnerKind.DSDEN: N_("DSDEN / DASEN"),
        PartnerKind.CDG: N_("Centre de gestion"),
        PartnerKind.COLLECTIVITE: N_("Collectivité du registre"),
        PartnerKind.OTHER: N_("Autre organisme"),
    }
)


class Partner(TimestampMixin, db.Model):
    """An organisation that signs conventions; a collectivité of the registry is linked to its row."""

    __tablename__ = "partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    collectivite_id: Mapped[int | None] = mapped_column(ForeignKey("collectivite.id", ondelete="SET NULL"), unique=True)
    representative_name: Mapped[str | None] = mapped_column(String(200))
    representative_role: Mapped[str | None] = mapped_column(String(200))

    collectivite = relationship("Collectivite")

    @property
    def kind_label(self) -> str:
        return PARTNER_KIND_LABELS.get(self.kind, self.kind)


class Convention(TimestampMixin, db.Model):
    """A convention; its state is computed from its dates (see :mod:`portal.conventions.rules`)."""

    __tablename__ = "convention"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30), index=True)
    object: Mapped[str | None] = mapped_column(Text)
    signed_on: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date | None] = mapped_column(Date)
    # The end date given, or the one derived from the duration when the convention was saved.
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    duration_months: Mapped[int | None] = mapped_column(Integer)
    tacit_renewal: Mapped[bool] = mapped_column(Boolean, default=False)
    renewal_months: Mapped[int | None] = mapped_column(Integer)
    notice_months: Mapped[int | None] = mapped_column(Integer)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str | None] = mapped_column(Text)
    deliberation_refs: Mapped[str | None] = mapped_column(Text)
    follow_up: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("convention.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    parent: Mapped[Convention | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Convention]] = relationship(back_populates="parent", order_by="Convention.start_date")
    parties: Mapped[list[ConventionParty]] = relationship(
        back_populates="convention", order_by="ConventionParty.id", cascade="all, delete-orphan"
    )
    signatories: Mapped[list[Signatory]] = relationship(
        back_populates="convention", order_by="Signatory.id", cascade="all, delete-orphan"
    )
    axes: Mapped[list[Axis]] = relationship(
        back_populates="convention", order_by="Axis.position", cascade="all, delete-orphan"
    )
    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="convention", order_by="Meeting.held_on.desc()", cascade="all, delete-orphan"
    )
    documents: Mapped[list[ConventionDocument]] = relationship(
        back_populates="convention", order_by="ConventionDocument.id", cascade="all, delete-orphan"
    )

    @property
    def offered_documents(self) -> list[ConventionDocument]:
        """The documents shown and downloadable: those not withdrawn."""
        return [d for d in self.documents if d.withdrawn_at is None]

    @property
    def withdrawn_documents(self) -> list[ConventionDocument]:
        return [d for d in self.documents if d.withdrawn_at is not None]

    @property
    def terms(self) -> rules.Terms:
        return rules.Terms(
            signed_on=self.signed_on,
            start_date=self.start_date,
            end_date=self.end_date,
            tacit_renewal=bool(self.tacit_renewal),
            renewal_months=self.renewal_months or self.duration_months,
            notice_months=self.notice_months,
            terminated_on=self.terminated_on,
        )

    @property
    def kind_label(self) -> str:
        return rules.KIND_LABELS.get(self.kind, self.kind)


class ConventionParty(db.Model):
    """A partner bound by a convention, with its representative and the délibération authorising signature."""

    __tablename__ = "convention_party"
    __table_args__ = (UniqueConstraint("convention_id", "partner_id", name="uq_convention_party_partner"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner.id", ondelete="RESTRICT"), index=True)
    representative: Mapped[str | None] = mapped_column(String(200))
    deliberation_ref: Mapped[str | None] = mapped_column(String(200))

    convention: Mapped[Convention] = relationship(back_populates="parties")
    partner: Mapped[Partner] = relationship()


class Signatory(db.Model):
    __tablename__ = "convention_signatory"

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("convention_party.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(200))

    convention: Mapped[Convention] = relationship(back_populates="signatories")
    party: Mapped[ConventionParty | None] = relationship()


class Axis(db.Model):
    """An axis of collaboration, with its follow-up actions."""

    __tablename__ = "convention_axis"

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)

    convention: Mapped[Convention] = relationship(back_populates="axes")
    actions: Mapped[list[AxisAction]] = relationship(
        back_populates="axis", order_by="AxisAction.id", cascade="all, delete-orphan"
    )


ACTION_STATUS_LABELS = Labels(
    {"planned": N_("Prévue"), "in_progress": N_("En cours"), "done": N_("Réalisée"), "dropped": N_("Abandonnée")}
)


class AxisAction(db.Model):
    __tablename__ = "convention_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    axis_id: Mapped[int] = mapped_column(ForeignKey("convention_axis.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    due_date: Mapped[date | None] = mapped_column(Date)

    axis: Mapped[Axis] = relationship(back_populates="actions")

    @property
    def status_label(self) -> str:
        return ACTION_STATUS_LABELS.get(self.status, self.status)


class Meeting(db.Model):
    """A meeting of the comité de suivi (or an annual review), with its minutes."""

    __tablename__ = "convention_meeting"

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    minutes: Mapped[str | None] = mapped_column(Text)

    convention: Mapped[Convention] = relationship(back_populates="meetings")


class ConventionDocument(db.Model):
    """A file attached to a convention, stored under the instance folder (never under static)."""

    __tablename__ = "convention_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # A wrong document is withdrawn, never deleted: no longer offered, its file kept as evidence.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    convention: Mapped[Convention] = relationship(back_populates="documents")
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class ConventionAlert(db.Model):
    """One warning sent about one deadline: the unique constraint makes the alert job idempotent."""

    __tablename__ = "convention_alert"
    __table_args__ = (
        UniqueConstraint("convention_id", "kind", "deadline", name="uq_convention_alert_convention_kind_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    deadline: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
