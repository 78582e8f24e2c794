"""A bulk import of secretaries confirmed by staff, run as a Celery job, and what it did line by line."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.common.clock import utcnow
from portal.common.database import UTCDateTime
from portal.common.labels import N_, Labels
from portal.extensions import db


class ImportStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


IMPORT_STATUS_LABELS = Labels(
    {
        ImportStatus.PENDING: N_("En attente"),
        ImportStatus.RUNNING: N_("En cours"),
        ImportStatus.DONE: N_("Terminé"),
        ImportStatus.FAILED: N_("Interrompu"),
    }
)


class AccountImport(db.Model):
    """One confirmed import. ``lines`` holds the lines to apply (address, name, codes), checked by the dry run;
    the lines the dry run showed in error are recorded at once in ``results`` and skipped.

    A worker owns the job while ``claim_token`` is its own and ``heartbeat_at`` is recent (less than the lease,
    ``OUTBOX_LEASE_SECONDS``); each line is committed with its result and the job's progress, only by the owner."""

    __tablename__ = "account_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    # The dry run this job was confirmed from: one job per dry run, however often the form is sent.
    upload_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=ImportStatus.PENDING, index=True)
    lines: Mapped[list] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(default=0)  # lines to apply (the errors of the dry run are not counted)
    done: Mapped[int] = mapped_column(default=0)
    claim_token: Mapped[str | None] = mapped_column(String(64))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    created_by = relationship("User", foreign_keys=[created_by_id])
    results: Mapped[list[AccountImportResult]] = relationship(
        back_populates="job", order_by="AccountImportResult.line", passive_deletes=True
    )

    @property
    def status_label(self) -> str:
        return IMPORT_STATUS_LABELS[ImportStatus(self.status)]

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, self.done * 100 // self.total)


class AccountImportResult(db.Model):
    """What one line of an import did: unique per job and line, so that no line is ever applied twice."""

    __tablename__ = "account_import_result"
    __table_args__ = (UniqueConstraint("import_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("account_import.id", ondelete="CASCADE"))
    line: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(20))  # an import_rules.Outcome
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    job: Mapped[AccountImport] = relationship(back_populates="results")
