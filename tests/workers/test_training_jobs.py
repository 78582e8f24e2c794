"""Training jobs run in the test process (Celery eager): offers that expire, reminders, attestations.

Each job reads the real clock, so the rows are placed around it; each must be safe to run twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.common.clock import utcnow
from portal.common.pdf import DocumentError
from portal.extensions import db
from portal.notifications.models import Notification
from portal.training import attendance, tasks
from portal.training.models import Registration
from portal.training.registrations import cancel, register
from portal.training.rules import Status
from tests import factories
from workers.schedule import build_schedule

H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def staff(app, smtp_sink):
    with factories.shared_password_hash():
        staff = factories.user("staff", email="formation@cdg47.fr")
    db.session.commit()
    return staff


def fresh(ident) -> Registration:
    db.session.expire_all()
    return db.session.get(Registration, ident)


def test_the_beat_schedule_runs_registered_training_tasks(app):
    schedule = build_schedule(app.config)
    names = {entry["task"] for entry in schedule.values()}
    assert {"training.expire_offers", "training.reminders", "training.send_attestations"} <= names
    registered = app.extensions["celery"].tasks
    assert all(name in registered for name in names if name.startswith("training."))


def test_expire_offers_job_passes_the_seat_on_and_is_idempotent(staff):
    commune = factories.collectivite("Sauvagnas")
    people = [factories.elu(commune) for _ in range(3)]
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    holder, first, second = (register(session, p.mandate, p) for p in people)
    db.session.commit()
    cancel(holder, people[0])
    db.session.commit()
    assert fresh(first.id).status == Status.OFFERED
    assert tasks.expire_offers.apply().get() == 0  # not due yet
    db.session.execute(update(Registration).where(Registration.id == first.id).values(offer_expires_at=utcnow() - H))
    db.session.commit()
    assert tasks.expire_offers.apply().get() == 1
    assert tasks.expire_offers.apply().get() == 0
    assert fresh(first.id).status == Status.CANCELLED
    assert fresh(second.id).status == Status.OFFERED


def test_reminders_job_sends_each_reminder_once(staff):
    commune = factories.collectivite("Layrac")
    elu = factories.elu(commune, "Marie Rappel")
    starts = utcnow() + 7 * D - H  # inside the J-7 window
    session = factories.training_session(starts_at=starts, deadline=starts - D, actor=staff, now=utcnow() - 3 * D)
    db.session.commit()
    register(session, elu.mandate, elu, now=utcnow() - 2 * D)
    db.session.commit()
    assert tasks.reminders.apply().get() == 1
    assert tasks.reminders.apply().get() == 0
    titles = db.session.scalars(select(Notification.title).where(Notification.user_id == elu.id)).all()
    assert sum(title.startswith("Rappel : formation dans une semaine") for title in titles) == 1


def _attended(staff, count: int = 1):
    commune = factories.collectivite("Astaffort")
    people = [factories.elu(commune, f"Présent {i}") for i in range(count)]
    start = utcnow() - 2 * D
    session = factories.training_session(starts_at=start, actor=staff, now=start - 10 * D)
    db.session.commit()
    registrations = [register(session, p.mandate, p, now=start - 5 * D) for p in people]
    db.session.commit()
    return session, registrations


def test_an_attestation_that_fails_is_left_for_the_next_sweep(staff, monkeypatch):
    session, (registration,) = _attended(staff)

    def broken(_registration):
        raise DocumentError("Le document PDF n'a pas pu être produit : police absente")

    monkeypatch.setattr(tasks, "attestation_pdf", broken)
    attendance.mark_attendance(session, {registration.id}, staff, now=session.starts_at + 8 * H)
    db.session.commit()  # the eager job fails on the PDF
    assert fresh(registration.id).status == Status.PRESENT
    assert fresh(registration.id).attestation_sent_at is None
    assert attendance.attestations_due(session.id) == [registration.id]
    monkeypatch.undo()
    assert tasks.send_attestations.apply(args=[None]).get() == 1  # the sweep (all sessions)
    assert fresh(registration.id).attestation_sent_at is not None
    assert tasks.send_attestations.apply(args=[None]).get() == 0


def test_an_attestation_is_claimed_by_exactly_one_of_several_workers(app, staff):
    session, registrations = _attended(staff, count=1)
    registration_id = registrations[0].id
    db.session.execute(update(Registration).values(status=Status.PRESENT))
    db.session.commit()
    barrier, results = threading.Barrier(8), []

    def worker():
        with app.app_context():
            barrier.wait(timeout=30)
            claimed = attendance.claim_attestation(registration_id)
            db.session.commit()
            results.append(claimed)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [False] * 7 + [True]
