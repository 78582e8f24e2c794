"""Collectivités and their yearly headcount declarations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common import versions
from portal.common.clock import utcnow
from portal.common.database import TimestampMixin, UTCDateTime
from portal.extensions import db
from portal.registry.kinds import KindFacts


class Collectivite(KindFacts, TimestampMixin, db.Model):
    """A collectivité territoriale or établissement public known to the CDG."""

    __tablename__ = "collectivite"
    __table_args__ = (
        UniqueConstraint("kind", "insee_code", name="uq_collectivite_kind_insee_code"),
        # Sorting by name and paginating on ids: an index-only scan, even deep in the list.
        Index("ix_collectivite_name_normalised_id", "name_normalised", "id"),
        Index("ix_collectivite_kind_status", "kind", "affiliation_status"),
        # The bodies attached to a commune, by name (its page): a few hundred rows, where SQLite's statistics on the
        # almost-all-NULL parent_id would otherwise send it through the name index over the whole registry.
        Index(
            "ix_collectivite_parent_id_name",
            "parent_id",
            "name_normalised",
            sqlite_where=text("parent_id IS NOT NULL"),
            postgresql_where=text("parent_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # Lower-case, accent-free copy of the name: portable search on SQLite and PostgreSQL.
    name_normalised: Mapped[str] = mapped_column(String(200))
    insee_code: Mapped[str | None] = mapped_column(String(5))
    siren: Mapped[str | None] = mapped_column(String(9), unique=True)
    departement_code: Mapped[str | None] = mapped_column(String(3), index=True)
    population: Mapped[int | None]
    postal_codes: Mapped[str | None] = mapped_column(String(200))  # space-separated
    epci_id: Mapped[int | None] = mapped_column(ForeignKey("collectivite.id", ondelete="SET NULL"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"), index=True)
    # The status in force, as recorded in the history (never changed except through a recorded decision).
    affiliation_status: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default="manual")  # etalab, demo, manual

    epci: Mapped[Collectivite | None] = relationship(remote_side=[id], foreign_keys=[epci_id])
    parent: Mapped[Collectivite | None] = relationship(remote_side=[id], foreign_keys=[parent_id])

    @property
    def code(self) -> str:
        return self.insee_code or self.siren or ""

    def __repr__(self) -> str:
        return f"<Collectivite {self.kind} {self.code} {self.name!r}>"


# Every change to a collectivité replaces the registry's version token (the cached counts of its lists).
versions.track(Collectivite, versions.REGISTRY)


class HeadcountDeclaration(db.Model):
    """A yearly declaration of a body's agents. All declarations are kept; the latest of a year is in force."""

    __tablename__ = "headcount_declaration"
    __table_args__ = (
        CheckConstraint("year BETWEEN 1984 AND 2200", name="year_range"),
        CheckConstraint("titulaires_temps_complet >= 0", name="tc_positive"),
        CheckConstraint("titulaires_temps_non_complet >= 0", name="tnc_positive"),
        CheckConstraint("contractuels >= 0", name="contractuels_positive"),
        Index("ix_headcount_declaration_body_year", "collectivite_id", "year", "declared_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    collectivite_id: Mapped[int] = mapped_column(ForeignKey("collectivite.id", ondelete="CASCADE"))
    year: Mapped[int]
    titulaires_temps_complet: Mapped[int]
    titulaires_temps_non_complet: Mapped[int] = mapped_column(default=0)
    contractuels: Mapped[int] = mapped_column(default=0)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Demo figures are synthetic: real counts are not public. The interface says so.
    is_synthetic: Mapped[bool] = mapped_column(default=False)
    comment: Mapped[str | None] = mapped_column(String(500))

    collectivite: Mapped[Collectivite] = relationship()
    declared_by = relationship("User")
