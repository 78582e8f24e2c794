"""Data versions: a token per data set, changed in the same transaction as any change to the set.

The expensive part of a list over the national registry is its COUNT (36,000 rows, every request).
Counts are cached per process under the registry's version token: any change to a collectivité, by
the ORM (caught at flush) or by the importer's bulk statements (which call :func:`bump`), replaces the
token, so a cached count is never served for data that changed since. The token is random rather than
a counter: emptied tables (tests) or a restored backup can never bring an old token back.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict

from sqlalchemy import String, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.extensions import db

REGISTRY = "registry"
_CACHE_SIZE = 512


class DataVersion(db.Model):
    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


def current(name: str) -> str | None:
    """The version token of ``name``; None when it was never recorded (then nothing may be cached)."""
    return db.session.scalar(select(DataVersion.token).where(DataVersion.name == name))


def bump(name: str, session: Session | None = None) -> None:
    """Give ``name`` a new token, in the current transaction."""
    session = session or db.session
    token = secrets.token_hex(16)
    changed = session.execute(
        update(DataVersion)
        .where(DataVersion.name == name)
        .values(token=token)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        session.execute(insert(DataVersion).values(name=name, token=token))


class CountCache:
    """Counts of a data set, per process, valid while its version token is unchanged."""

    def __init__(self, size: int = _CACHE_SIZE):
        self.size = size
        self._entries: OrderedDict[tuple, tuple[str, int]] = OrderedDict()

    def get(self, key: tuple, token: str | None) -> int | None:
        entry = self._entries.get(key)
        if token is None or entry is None or entry[0] != token:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: tuple, token: str | None, total: int) -> None:
        if token is None:
            return
        self._entries[key] = (token, total)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


counts = CountCache()

# The models whose rows make up a data set, declared by the area that owns them (registry: Collectivite).
_TRACKED: dict[type, str] = {}


def track(model: type, name: str) -> None:
    """Any flush that writes a row of ``model`` (new, changed or deleted) replaces the token of ``name``."""
    _TRACKED[model] = name


def _tracked_name(obj) -> str | None:
    for model, name in _TRACKED.items():
        if isinstance(obj, model):
            return name
    return None


@event.listens_for(Session, "before_flush")
def _bump_on_change(session, _flush_context, _instances):
    """A flush that writes a row of a tracked model (new, changed or deleted) replaces its data set's token."""
    changed: set[str] = set()
    for obj in session.new | session.deleted:
        if (name := _tracked_name(obj)) is not None:
            changed.add(name)
    for obj in session.dirty:
        if (name := _tracked_name(obj)) is not None and name not in changed and session.is_modified(obj):
            changed.add(name)
    for name in sorted(changed):
        bump(name, session)
