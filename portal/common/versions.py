"""Data versions: a token per data set, changed in the same transaction as any change to the set.

The expensive part of a list over the national registry is its COUNT (36,000 rows, every request).
Counts are cached per process under the registry's version token: any change to a collectivité, by
the ORM (caught at flush) or by the importer's bulk statements (which call :func:`bump`), replaces the
token, so a cached count is never served for data that changed since. The token is random rather than
a counter: emptied tables (tests) or a restored backup can never bring an old token back.

Reading the token is itself a round trip on every request: each process keeps the token it read for at most
:data:`TOKEN_TTL_SECONDS` (one second). A change made by this process forgets its copy at once (at the bump and
again at the commit or rollback); a change made by another process is seen within that second.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict

from flask import current_app, has_app_context
from sqlalchemy import String, event, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.extensions import db

REGISTRY = "registry"
_CACHE_SIZE = 512
# How long a process trusts the token it read (seconds): the delay before a change made by another process shows.
TOKEN_TTL_SECONDS = 1.0
# The clock of that delay (monotonic: unaffected by the test clock or a change of the system time).
monotonic = time.monotonic


class DataVersion(db.Model):
    __tablename__ = "data_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


def _read_tokens() -> dict[str, tuple[str | None, float]]:
    """This app's copies of the tokens it read: name -> (token, when it was read)."""
    return current_app.extensions.setdefault("portal_data_versions", {})


def current(name: str) -> str | None:
    """The version token of ``name``; None when it was never recorded (then nothing may be cached).

    Read from the database at most once a second per process (see the module's docstring)."""
    if name in db.session.info.get("bumped_versions", ()):
        # Changed by this transaction, not yet committed: read it, but keep no copy other requests could use.
        return db.session.scalar(select(DataVersion.token).where(DataVersion.name == name))
    tokens = _read_tokens()
    now = monotonic()
    entry = tokens.get(name)
    if entry is not None and now - entry[1] < TOKEN_TTL_SECONDS:
        return entry[0]
    token = db.session.scalar(select(DataVersion.token).where(DataVersion.name == name))
    tokens[name] = (token, now)
    return token


def forget(names=None) -> None:
    """Drop this process's copies of the tokens ``names`` (all by default): the next read goes to the database."""
    if not has_app_context():
        return
    tokens = _read_tokens()
    for name in list(tokens) if names is None else names:
        tokens.pop(name, None)


def bump(name: str, session: Session | None = None) -> None:
    """Give ``name`` a new token, in the current transaction (this process forgets its copy now and at the end of
    the transaction, so that no other request of the process keeps serving the old one)."""
    session = session or db.session
    forget([name])
    session.info.setdefault("bumped_versions", set()).add(name)
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


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_bumped(session):
    """The new token is now visible (or gone): another request of this process may have read the old one meanwhile."""
    bumped = session.info.pop("bumped_versions", None)
    if bumped:
        forget(bumped)
