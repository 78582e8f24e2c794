"""The roster of a session: its lock, its counts, the waiting list and the offer of freed seats.

Every change to a session's roster first takes the roster lock (:func:`lock_roster`), then reads the
counts and decides with :mod:`portal.training.rules`: on PostgreSQL the UPDATE holds the row lock until
commit, on SQLite it takes the database write lock, so concurrent requests are served one after the
other and the last seat goes to exactly one of them. Services only flush; the caller commits.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from portal.common.clock import utcnow
from portal.common.jobs import enqueue_after_commit
from portal.extensions import db
from portal.training import rules
from portal.training.models import Registration, TrainingSession
from portal.training.rules import Status

SEAT_STATUSES = [s.value for s in rules.SEAT_HOLDING]
# The job that tells the élu, after the commit, what his registration's new state is or how its session changed
# (registrations.send_notice).
NOTICE_TASK = "training.registration_notice"


def lock_roster(session_id: int) -> None:
    """Serialise roster changes of one session (see the module docstring)."""
    db.session.execute(_lock_statement(), {"session_id": session_id})


def lock_and_reload(session: TrainingSession) -> None:
    """:func:`lock_roster`, and ``session``'s columns as they are under the lock (capacity, quota, cancellation…)
    read by the same statement (UPDATE … RETURNING) instead of a ``refresh`` after it: one round trip less while
    the lock is held. Its relationships (the training) are kept as they were loaded."""
    row = db.session.execute(_lock_statement(returning=True), {"session_id": session.id}).one()
    for attribute, value in zip(inspect(TrainingSession).column_attrs, row, strict=True):
        set_committed_value(session, attribute.key, value)


@functools.cache
def _lock_statement(returning: bool = False):
    """Built once per process (building it costs more than running it); ``updated_at`` is stamped at execution."""
    statement = (
        update(TrainingSession)
        .where(TrainingSession.id == bindparam("session_id"))
        .values(roster_version=TrainingSession.roster_version + 1)
        .execution_options(synchronize_session=False)
    )
    if returning:
        statement = statement.returning(*(a.class_attribute for a in inspect(TrainingSession).column_attrs))
    return statement


@dataclass
class Roster:
    seats_taken: int = 0
    waiting: int = 0
    by_status: Counter = field(default_factory=Counter)
    seats_by_body: dict[int, int] = field(default_factory=dict)
    waiting_by_body: dict[int, int] = field(default_factory=dict)


def roster(session_id: int) -> Roster:
    rows = db.session.execute(_roster_statement(), {"session_id": session_id})
    result = Roster()
    for status, body_id, count in rows:
        result.by_status[status] += count
        if status in SEAT_STATUSES:
            result.seats_taken += count
            result.seats_by_body[body_id] = result.seats_by_body.get(body_id, 0) + count
        elif status == Status.WAITING:
            result.waiting += count
            result.waiting_by_body[body_id] = result.waiting_by_body.get(body_id, 0) + count
    return result


@functools.cache
def _roster_statement():
    return (
        select(Registration.status, Registration.collectivite_id, func.count())
        .where(Registration.session_id == bindparam("session_id"), Registration.status != Status.CANCELLED)
        .group_by(Registration.status, Registration.collectivite_id)
    )


def rosters(session_ids: list[int]) -> dict[int, Roster]:
    """Seats and waiting counts of many sessions in one query (for the list of sessions)."""
    result = {session_id: Roster() for session_id in session_ids}
    if not session_ids:
        return result
    rows = db.session.execute(
        select(Registration.session_id, Registration.status, func.count())
        .where(Registration.session_id.in_(session_ids), Registration.status != Status.CANCELLED)
        .group_by(Registration.session_id, Registration.status)
    )
    for session_id, status, count in rows:
        entry = result[session_id]
        entry.by_status[status] += count
        if status in SEAT_STATUSES:
            entry.seats_taken += count
        elif status == Status.WAITING:
            entry.waiting += count
    return result


def registrations_on(session_id: int, statuses) -> list[Registration]:
    return list(
        db.session.scalars(
            select(Registration)
            .where(Registration.session_id == session_id, Registration.status.in_([s.value for s in statuses]))
            .order_by(Registration.waiting_since, Registration.id)
        )
    )


def _waiting_entries(session_id: int) -> list[rules.WaitingEntry]:
    rows = db.session.execute(
        select(Registration.id, Registration.collectivite_id, Registration.waiting_since).where(
            Registration.session_id == session_id, Registration.status == Status.WAITING
        )
    )
    return [rules.WaitingEntry(r.id, r.collectivite_id, r.waiting_since) for r in rows]


def trained_bodies(body_ids) -> frozenset[int]:
    """Among ``body_ids``, the collectivités that already have an élu marked present at a training."""
    body_ids = list(set(body_ids))
    if not body_ids:
        return frozenset()
    return frozenset(
        db.session.scalars(
            select(Registration.collectivite_id)
            .where(Registration.collectivite_id.in_(body_ids), Registration.status == Status.PRESENT)
            .distinct()
        )
    )


def waiting_positions(session: TrainingSession) -> dict[int, int]:
    entries = _waiting_entries(session.id)
    trained = trained_bodies(e.collectivite_id for e in entries) if session.prioritise_untrained else frozenset()
    return rules.waiting_positions(entries, prioritise_untrained=session.prioritise_untrained, trained_bodies=trained)


def waiting_positions_of(sessions) -> dict[int, int]:
    """Positions on the waiting lists of many sessions at once (registration id -> position): two queries
    whatever the number of sessions (the API's list of registrations)."""
    sessions = {s.id: s for s in sessions}
    if not sessions:
        return {}
    rows = db.session.execute(
        select(Registration.session_id, Registration.id, Registration.collectivite_id, Registration.waiting_since)
        .where(Registration.session_id.in_(list(sessions)), Registration.status == Status.WAITING)
        .order_by(Registration.session_id)
    )
    entries: dict[int, list[rules.WaitingEntry]] = {}
    for row in rows:
        entries.setdefault(row.session_id, []).append(
            rules.WaitingEntry(row.id, row.collectivite_id, row.waiting_since)
        )
    prioritised = [e for sid, listed in entries.items() if sessions[sid].prioritise_untrained for e in listed]
    trained = trained_bodies(e.collectivite_id for e in prioritised)
    positions: dict[int, int] = {}
    for session_id, listed in entries.items():
        prioritise = sessions[session_id].prioritise_untrained
        positions.update(
            rules.waiting_positions(
                listed, prioritise_untrained=prioritise, trained_bodies=trained if prioritise else frozenset()
            )
        )
    return positions


def fill_freed_seats(session: TrainingSession, now: datetime | None = None) -> list[Registration]:
    """Offer the free seats to the waiting list, in order. The caller holds the roster lock."""
    now = now or utcnow()
    if session.cancelled_at is not None:
        return []
    counts = roster(session.id)
    free = session.capacity - counts.seats_taken
    if free <= 0 or counts.waiting == 0:
        return []
    expires = rules.offer_expiry(now, timedelta(hours=current_app.config["TRAINING_OFFER_HOURS"]), session.starts_at)
    if expires is None:
        return []
    entries = _waiting_entries(session.id)
    trained = trained_bodies(e.collectivite_id for e in entries) if session.prioritise_untrained else frozenset()
    chosen = rules.entries_to_offer(
        entries,
        free_seats=free,
        quota=session.quota_per_collectivite,
        taken_by_body=counts.seats_by_body,
        prioritise_untrained=session.prioritise_untrained,
        trained_bodies=trained,
    )
    offered = []
    for registration_id in chosen:
        registration = db.session.get(Registration, registration_id)
        registration.status, registration.offered_at, registration.offer_expires_at = Status.OFFERED, now, expires
        offered.append(registration)
        enqueue_after_commit(NOTICE_TASK, registration.id)  # the offer is announced after the commit
    db.session.flush()
    return offered
