"""Services of the catalogue and their yearly tariffs; cotisation rates and declared payrolls."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalogue.rules import (
    ELIGIBILITY_LABELS,
    GROUP_LABELS,
    TARIFF_LABELS,
    TariffModel,
    rate_deliberation_label,
)
from portal.common.clock import utcnow
from portal.common.database import TimestampMixin, UTCDateTime
from portal.common.formatting import money_fr, percent_fr
from portal.extensions import db


class Service(TimestampMixin, db.Model):
    """A service of the CDG's catalogue."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    group: Mapped[str] = mapped_column(String(20))
    eligibility: Mapped[str] = mapped_column(String(20))
    tariff_model: Mapped[str] = mapped_column(String(20))
    requires_validation: Mapped[bool] = mapped_column(default=True)
    notice_months: Mapped[int] = mapped_column(default=3)
    # What the request form asks: any of "agents", "pupils", "schools", "hours", "days", "ent_schools", "message".
    request_fields: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=100)

    tariffs: Mapped[list[Tariff]] = relationship(
        back_populates="service", order_by="Tariff.year.desc()", cascade="all, delete-orphan"
    )

    @property
    def group_label(self) -> str:
        return GROUP_LABELS.get(self.group, self.group)

    @property
    def eligibility_label(self) -> str:
        return ELIGIBILITY_LABELS.get(self.eligibility, self.eligibility)

    @property
    def tariff_label(self) -> str:
        return TARIFF_LABELS.get(self.tariff_model, self.tariff_model)

    @property
    def subscribable(self) -> bool:
        """Missions obligatoires come with affiliation: there is nothing to ask for."""
        return self.group != "obligatoire"

    def tariff_for(self, year: int) -> Tariff | None:
        """The tariff voted for ``year``, or failing that the latest one before it."""
        return next((t for t in self.tariffs if t.year <= year), None)


class Tariff(db.Model):
    """A yearly tariff voted by the board of the CDG (the délibération is referenced)."""

    __tablename__ = "tariff"
    __table_args__ = (
        UniqueConstraint("service_id", "year", name="uq_tariff_service_year"),
        CheckConstraint("unit_amount >= 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    unit_amount: Mapped[Decimal] = mapped_column(Numeric(12, 4))
    deliberation_ref: Mapped[str] = mapped_column(String(200))
    deliberation_date: Mapped[date] = mapped_column(Date)

    service: Mapped[Service] = relationship(back_populates="tariffs")

    @property
    def amount_label(self) -> str:
        """ "0,2 %" for a rate of the payroll, "390 €" for an amount (never "3,9E+2")."""
        if self.service.tariff_model == TariffModel.PAYROLL_RATE:
            return percent_fr(self.unit_amount)
        return money_fr(self.unit_amount)


class ContributionRate(db.Model):
    """The yearly rate of the obligatory cotisation (≤ 0.8 %) or of the socle commun (≤ 0.2 %)."""

    __tablename__ = "contribution_rate"
    __table_args__ = (UniqueConstraint("year", "kind", name="uq_contribution_rate_year_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # cotisation, socle
    rate_percent: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    deliberation_ref: Mapped[str] = mapped_column(String(200))
    # The day the board voted it (migration 0016): no later than 30 November of the year before for the
    # cotisation (catalogue.rules.rate_deliberation_problem). None for rates recorded before it was asked.
    deliberation_date: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def deliberation_label(self) -> str:
        """ "Délibération n° 2025-90 du 25 novembre 2025": the reference, with its date when known."""
        return rate_deliberation_label(self.deliberation_ref, self.deliberation_date)


class PayrollDeclaration(db.Model):
    """A body's payroll (masse des rémunérations declared to social security) for a year."""

    __tablename__ = "payroll_declaration"
    __table_args__ = (
        UniqueConstraint("collectivite_id", "year", name="uq_payroll_declaration_body_year"),
        CheckConstraint("amount >= 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    year: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    details: Mapped[dict | None] = mapped_column(JSON)
