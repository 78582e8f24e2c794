"""The one after-commit publisher: what must happen only once the transaction that asked for it has committed —
Celery tasks (:mod:`portal.common.jobs`), outbox emails (``portal.notifications``), files written on disk
(:mod:`portal.common.stored_files`) — goes through here.

A caller records an item on a *channel* of the current session (:func:`publish_after_commit`); each channel has a
handler registered once at import (:func:`channel`). When the outermost transaction commits, every channel's
items are handed to its handler, once, in the order the channels were first used in the transaction. When it
rolls back, they are dropped (and the channel's ``on_rollback`` handler, if any, undoes what was done outside the
database, such as a file written). A savepoint released or rolled back publishes and drops nothing: only the
outermost transaction decides.

Handlers run after the data is committed: a handler that fails (a broker down) must never fail the request, so
its error is logged and the other channels still run. What a handler could not publish is not lost: the rows that
describe the work are committed, and the periodic sweeps publish them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.extensions import db

_KEY = "after_commit"


@dataclass(frozen=True)
class Channel:
    name: str
    on_commit: Callable[[list], None]
    on_rollback: Callable[[list], None] | None = None


_CHANNELS: dict[str, Channel] = {}


def channel(name: str, *, on_rollback: Callable[[list], None] | None = None):
    """Register the decorated function as the handler of channel ``name``: it receives the list of the items
    recorded on the channel during the transaction, in their order (duplicates included: the handler decides)."""

    def register(on_commit: Callable[[list], None]):
        _CHANNELS[name] = Channel(name, on_commit, on_rollback)
        return on_commit

    return register


def publish_after_commit(name: str, item, session: Session | None = None) -> None:
    """Record ``item`` on channel ``name``: handed to its handler once the current transaction commits."""
    if name not in _CHANNELS:
        raise KeyError(f"No after-commit channel named {name!r}")
    session = session or db.session()  # the session itself, not the scoped proxy
    if not session.in_transaction():
        # Tie the item to a transaction even when nothing was written yet: its rollback must drop the item.
        session.begin()
    session.info.setdefault(_KEY, {}).setdefault(name, []).append(item)


def pending(name: str, session: Session | None = None) -> list:
    """The items waiting on channel ``name`` in the current transaction (for tests and diagnostics)."""
    return list((session or db.session).info.get(_KEY, {}).get(name, []))


@event.listens_for(Session, "after_commit")
def _on_commit(session):
    if session.in_nested_transaction():  # a savepoint was released: nothing is committed yet
        return
    for name, items in (session.info.pop(_KEY, None) or {}).items():
        try:
            _CHANNELS[name].on_commit(items)
        except Exception:  # noqa: BLE001 - the data is committed: never fail the request; the sweeps catch up
            current_app.logger.warning("After-commit channel %s failed; the sweep will catch up", name, exc_info=True)


@event.listens_for(Session, "after_soft_rollback")
def _on_rollback(session, previous_transaction):
    if previous_transaction.parent is not None:  # a savepoint rolled back: the outer transaction decides
        return
    for name, items in (session.info.pop(_KEY, None) or {}).items():
        undo = _CHANNELS[name].on_rollback
        if undo is None:
            continue
        try:
            undo(items)
        except Exception:  # noqa: BLE001 - undoing is best effort; the rollback itself must go on
            current_app.logger.warning("After-commit channel %s could not undo on rollback", name, exc_info=True)
