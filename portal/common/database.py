"""Database helpers: SQLite pragmas, model mixins, time."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import DateTime, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from portal.common.clock import utcnow
from portal.extensions import db


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on SQLite (which keeps no offset) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plain_rows(statement, params: dict | None = None):
    """The rows of ``statement`` (a select of columns, no ORM entity) run on the session's connection: the same
    transaction, pending changes flushed first as the ORM would (autoflush), without the ORM's execution layer —
    a fifth of a millisecond less a statement, for a page that runs ten of them."""
    session = db.session
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params or {})


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


def configure_engine_events(engine: Engine, idle_ping_seconds: float = 30) -> None:
    """On SQLite: WAL so that web, worker and beat share the file, a busy timeout, foreign keys. On a server
    database: :func:`ping_idle_connections`."""
    if engine.dialect.name != "sqlite":
        ping_idle_connections(engine, idle_ping_seconds)
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if ":memory:" not in str(engine.url):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection only when it was left unused ``idle_seconds`` or more (the database may have
    been restarted, a firewall may have cut it), instead of ``pool_pre_ping``'s round trip on every checkout: a
    busy process reuses its connections every few milliseconds and never pays it. A dead connection is replaced
    before the request uses it (SQLAlchemy retries the checkout on ``DisconnectionError``); one that dies while in
    use fails that request, and SQLAlchemy then replaces every connection of the pool opened before."""

    @event.listens_for(engine, "checkin")
    def _remember_checkin(_dbapi_connection, record):
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()  # the ping opened a transaction: leave the connection idle, as it came
        except Exception as error:  # any failure of the ping means the connection is unusable
            raise exc.DisconnectionError(f"connexion à la base perdue : {error}") from error
