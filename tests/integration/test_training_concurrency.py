"""Seats under concurrency, on SQLite and on PostgreSQL: the roster lock gives the last seat to exactly one request.

Each thread is a web request: its own app context, so its own SQLAlchemy session and connection; all start
together (a barrier) and commit. The app is not eager: as in a web process, messages go to a broker.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.accounts.models import Mandate, User
from portal.common.errors import ConflictError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.training import registrations, sessions, tasks
from portal.training import roster as training_roster
from portal.training.models import Registration, TrainingSession
from portal.training.rules import Status
from tests import factories
from tests.conftest import clean_tables, make_environ


@pytest.fixture
def web_app(migrated, monkeypatch):
    """An app with an in-memory broker, not eager, like a web process, and a connection pool for 50 threads.

    The default pool (5 + 10 overflow) serves a gunicorn process of a few threads; 50 request threads in one
    process each hold a connection until commit, and the outbox takes a second one after commit to record
    the publication: 15 connections would run out (a pool timeout, not a database lock).
    Celery reads ``CELERY_BROKER_URL`` from the environment before its configuration: without it, the
    messages stay in memory instead of going to the Redis of CI's second run.
    """
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = create_app(
        {
            "ENVIRON": make_environ(migrated),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "pool_size": 50, "max_overflow": 20},
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        clean_tables()
        db.engine.dispose()


def make_world(communes: int, elus_per_commune: int, capacity: int = 10, quota: int | None = None):
    with factories.shared_password_hash():
        staff = factories.user("staff", email="formation@cdg47.fr")
    bodies = [factories.collectivite(f"Commune {i}") for i in range(communes)]
    people = [factories.elu(body, f"Élu {body.name} n° {n}") for body in bodies for n in range(elus_per_commune)]
    session = factories.training_session(capacity=capacity, quota=quota, actor=staff)
    db.session.commit()
    return staff.id, session.id, [person.mandate.id for person in people]


def run_together(app, count: int, action) -> list:
    """Run ``action(i)`` in ``count`` threads released at the same moment, each in its own app context."""
    barrier = threading.Barrier(count)

    def request(i: int):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                result = action(i)
                db.session.commit()
                return result
            except ConflictError as exc:
                db.session.rollback()
                return ("conflict", exc.message)
            except Exception as exc:  # noqa: BLE001 - reported by the test, with the error
                db.session.rollback()
                return ("error", repr(exc))
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(request, range(count)))


def run_notice_jobs() -> None:
    """Run the registration notices published after the commits, as the worker does (this app is not eager)."""
    for registration_id in registrations.notices_due():
        tasks.registration_notice.apply(args=[registration_id])
    db.session.expire_all()


def register_action(session_id: int, mandate_ids: list[int]):
    def action(i: int):
        session = db.session.get(TrainingSession, session_id)
        mandate = db.session.get(Mandate, mandate_ids[i])
        registration = registrations.register(session, mandate, mandate.user)
        return registration.status

    return action


def test_fifty_simultaneous_requests_for_ten_seats(web_app):
    _staff_id, session_id, mandate_ids = make_world(communes=10, elus_per_commune=5)
    results = run_together(web_app, 50, register_action(session_id, mandate_ids))
    assert [r for r in results if isinstance(r, tuple)] == []  # no error, no "database is locked"
    assert Counter(results) == {Status.REGISTERED: 10, Status.WAITING: 40}

    db.session.expire_all()
    rows = db.session.execute(
        select(Registration.id, Registration.mandate_id, Registration.status).where(
            Registration.session_id == session_id
        )
    ).all()
    assert len(rows) == 50
    assert len({row.mandate_id for row in rows}) == 50  # no élu twice
    assert Counter(row.status for row in rows) == {Status.REGISTERED: 10, Status.WAITING: 40}
    session = db.session.get(TrainingSession, session_id)
    assert session.roster_version == 50  # every request went through the lock
    positions = training_roster.waiting_positions(session)
    assert sorted(positions.values()) == list(range(1, 41))  # no gap, no duplicate
    # Each waiting élu is told, by the notice job after the commits, the position he has on the list (the order
    # the requests were served in).
    run_notice_jobs()
    told = {}
    for registration_id, mandate_id, status in rows:
        if status == Status.WAITING:
            user_id = db.session.get(Mandate, mandate_id).user.id
            (body,) = db.session.scalars(select(Notification.body).where(Notification.user_id == user_id)).all()
            told[registration_id] = int(re.search(r"en position (\d+)", body).group(1))
    assert told == positions
    # The first ten served hold the seats: every seat-holder registered before every waiting élu.
    registered_ids = [row.id for row in rows if row.status == Status.REGISTERED]
    assert max(registered_ids) < min(positions)


def test_twenty_simultaneous_duplicates_of_the_same_elu_make_one_registration(web_app):
    _staff_id, session_id, (mandate_id,) = make_world(communes=1, elus_per_commune=1)
    results = run_together(web_app, 20, register_action(session_id, [mandate_id] * 20))
    errors = [r for r in results if isinstance(r, tuple) and r[0] == "error"]
    assert errors == []
    assert results.count(Status.REGISTERED) == 1
    conflicts = [r for r in results if isinstance(r, tuple) and r[0] == "conflict"]
    assert len(conflicts) == 19 and all("déjà inscrit" in message for _, message in conflicts)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 1


def test_simultaneous_cancellations_and_registrations_never_overbook_nor_jump_the_queue(web_app):
    _staff_id, session_id, mandate_ids = make_world(communes=5, elus_per_commune=5)
    staff = db.session.scalar(select(User).where(User.email == "formation@cdg47.fr"))
    session = db.session.get(TrainingSession, session_id)
    first = [registrations.register(session, db.session.get(Mandate, m), staff) for m in mandate_ids[:15]]
    db.session.commit()
    holders = [r.id for r in first[:10]]
    waiting = [r.id for r in first[10:]]
    newcomers = mandate_ids[15:]  # 10 more élus
    register = register_action(session_id, newcomers)

    def action(i: int):
        if i < 5:  # five seat-holders cancel...
            registration = db.session.get(Registration, holders[i])
            return registrations.cancel(registration, registration.mandate.user).status
        return register(i - 5)  # ...while ten newcomers register

    results = run_together(web_app, 15, action)
    assert [r for r in results if isinstance(r, tuple)] == []
    assert Counter(results) == {Status.CANCELLED: 5, Status.WAITING: 10}
    db.session.expire_all()
    by_id = dict(db.session.execute(select(Registration.id, Registration.status)).all())
    assert [by_id[i] for i in waiting] == [Status.OFFERED] * 5  # the five who waited first got the seats
    assert training_roster.roster(session_id).seats_taken == 10
    assert sorted(training_roster.waiting_positions(db.session.get(TrainingSession, session_id)).values()) == list(
        range(1, 11)
    )


def test_a_capacity_lowered_by_another_request_is_seen_by_a_registration_already_under_way(web_app):
    """The session row read at the start of a request may be stale by the time the roster lock is held."""
    staff_id, session_id, mandate_ids = make_world(communes=1, elus_per_commune=6)
    staff = db.session.get(User, staff_id)
    session = db.session.get(TrainingSession, session_id)
    for mandate_id in mandate_ids[:5]:
        registrations.register(session, db.session.get(Mandate, mandate_id), staff)
    db.session.commit()

    # This request has read the session (capacity 10) and is about to register the sixth élu...
    session = db.session.get(TrainingSession, session_id)
    mandate = db.session.get(Mandate, mandate_ids[5])
    assert session.capacity == 10

    # ...when staff, in another request, bring the capacity down to the five seats taken.
    def lower_capacity():
        with web_app.app_context():
            other = db.session.get(TrainingSession, session_id)
            data = sessions.SessionInput(
                training_id=other.training_id,
                starts_at=other.starts_at,
                ends_at=other.ends_at,
                registration_deadline=other.registration_deadline,
                capacity=5,
                place=other.place,
                published=True,
            )
            sessions.update_session(other, data, db.session.get(User, staff_id))
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=lower_capacity)
    thread.start()
    thread.join(timeout=30)

    registration = registrations.register(session, mandate, staff)
    db.session.commit()
    assert registration.status == Status.WAITING
    assert training_roster.roster(session_id).seats_taken == 5


def test_an_offer_accepted_while_staff_move_the_session_invites_to_the_new_date(web_app):
    """The invitation sent on acceptance describes the session as it is when the notice job builds it, not as
    the élu's request first read it."""
    import icalendar

    from portal.notifications.models import OutboxAttachment, OutboxEmail

    staff_id, session_id, (holder_id, waiting_id) = make_world(communes=1, elus_per_commune=2, capacity=1)
    staff = db.session.get(User, staff_id)
    session = db.session.get(TrainingSession, session_id)
    holder = registrations.register(session, db.session.get(Mandate, holder_id), staff)
    offered = registrations.register(session, db.session.get(Mandate, waiting_id), staff)
    db.session.commit()
    registrations.cancel(holder, staff)
    db.session.commit()

    # The élu's request has read its offer and the session...
    offered = db.session.get(Registration, offered.id)
    assert offered.status == Status.OFFERED and offered.session.starts_at is not None
    new_start = offered.session.starts_at + timedelta(days=3)

    def move_session():  # ...when staff move the session in another request.
        with web_app.app_context():
            other = db.session.get(TrainingSession, session_id)
            data = sessions.SessionInput(
                training_id=other.training_id,
                starts_at=new_start,
                ends_at=new_start + timedelta(hours=7),
                registration_deadline=other.registration_deadline,
                capacity=other.capacity,
                place=other.place,
                published=True,
            )
            sessions.update_session(other, data, db.session.get(User, staff_id))
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=move_session)
    thread.start()
    thread.join(timeout=30)

    registrations.accept_offer(offered, offered.mandate.user)
    db.session.commit()
    run_notice_jobs()
    user_id = db.session.get(Mandate, waiting_id).user.id
    data = db.session.scalars(
        select(OutboxAttachment.data).join(OutboxEmail).where(OutboxEmail.recipient_id == user_id)
    ).one()
    (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
    assert event.decoded("DTSTART") == new_start
