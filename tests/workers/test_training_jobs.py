"""Training jobs run in the test process (Celery eager): the notice of a registration, offers that expire,
reminders, attestations.

Each job reads the real clock, so the rows are placed around it; each must be safe to run twice.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.common import after_commit, jobs
from portal.common.clock import utcnow
from portal.common.pdf import DocumentError
from portal.extensions import db
from portal.notifications.models import Notification, OutboxEmail
from portal.training import attendance, registrations, tasks
from portal.training.models import Registration
from portal.training.registrations import accept_offer, cancel, register
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
    assert {
        "training.expire_offers",
        "training.reminders",
        "training.send_attestations",
        "training.sweep_notices",
    } <= names
    registered = app.extensions["celery"].tasks
    assert all(name in registered for name in names if name.startswith("training."))


def notice_jobs_at_once(app, registration_id: int, workers: int = 6) -> list:
    """The notice job of one registration run by ``workers`` workers released together: what each returned."""
    barrier, results = threading.Barrier(workers), []

    def worker():
        with app.app_context():
            barrier.wait(timeout=30)
            results.append(registrations.send_notice(registration_id))
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def titles_of(person) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.title).where(Notification.user_id == person.id).order_by(Notification.id)
        )
    )


def emails_of(person) -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.recipient_id == person.id)))


def test_the_notice_of_a_registration_is_sent_by_a_job_after_the_commit_and_once(staff):
    commune = factories.collectivite("Sauvagnas")
    seated, waiting = factories.elu(commune, "Anne Place"), factories.elu(commune, "Bruno Attente")
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    seat = register(session, seated.mandate, seated)
    db.session.flush()
    # Under the roster lock only the seat is decided: the notice waits for the commit, as a job.
    assert after_commit.pending(jobs.CHANNEL) == [(registrations.NOTICE_TASK, (seat.id,))]
    assert titles_of(seated) == [] and emails_of(seated) == []
    db.session.commit()
    assert fresh(seat.id).invitation_sent
    assert [t.split(" — ")[0] for t in titles_of(seated)] == ["Inscription confirmée"]
    (email,) = emails_of(seated)
    assert "invitation.ics" in {a.filename for a in email.attachments}

    queued = register(session, waiting.mandate, waiting)
    db.session.commit()
    assert fresh(queued.id).status == Status.WAITING and fresh(queued.id).waiting_notice_sent_at is not None
    assert [t.split(" — ")[0] for t in titles_of(waiting)] == ["Inscription en liste d'attente"]
    body = db.session.scalar(select(Notification.body).where(Notification.user_id == waiting.id))
    assert "position 1 sur la liste d'attente" in body

    # A second run (a retry, the sweep, a duplicate message) sends nothing again.
    for registration in (seat, queued):
        assert tasks.registration_notice.apply(args=[registration.id]).get() is None
    assert len(titles_of(seated)) == len(titles_of(waiting)) == 1
    assert len(emails_of(seated)) == len(emails_of(waiting)) == 1


def test_an_offered_seat_and_its_acceptance_are_told_by_the_job(staff):
    commune = factories.collectivite("Layrac")
    holder, next_one = factories.elu(commune, "Claire Partante"), factories.elu(commune, "Denis Suivant")
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    first = register(session, holder.mandate, holder)
    second = register(session, next_one.mandate, next_one)
    db.session.commit()
    cancel(first, holder)
    assert after_commit.pending(jobs.CHANNEL)[-1] == (registrations.NOTICE_TASK, (second.id,))  # the offer
    db.session.commit()
    assert fresh(second.id).status == Status.OFFERED and not fresh(second.id).invitation_sent
    assert fresh(second.id).offer_notice_sent_at is not None
    accept_offer(fresh(second.id), next_one)
    assert after_commit.pending(jobs.CHANNEL) == [(registrations.NOTICE_TASK, (second.id,))]
    db.session.commit()
    assert fresh(second.id).invitation_sent
    assert [t.split(" — ")[0] for t in titles_of(next_one)] == [
        "Inscription en liste d'attente",
        "Une place vous est proposée",
        "Inscription confirmée",
    ]
    assert tasks.registration_notice.apply(args=[second.id]).get() is None


def test_a_notice_job_claimed_by_several_workers_at_once_is_sent_by_one(app, staff, monkeypatch):
    commune = factories.collectivite("Moirax")
    elu = factories.elu(commune, "Émile Unique")
    session = factories.training_session(capacity=3, actor=staff)
    db.session.commit()
    notice_task = app.extensions["celery"].tasks[registrations.NOTICE_TASK]
    monkeypatch.setattr(notice_task, "apply_async", lambda *args, **kwargs: None)  # queued, not run here
    registration = register(session, elu.mandate, elu)
    db.session.commit()
    monkeypatch.undo()
    assert not fresh(registration.id).invitation_sent
    results = notice_jobs_at_once(app, registration.id)
    assert results.count(Status.REGISTERED) == 1 and results.count(None) == 5
    assert len(emails_of(elu)) == 1


def test_notices_lost_with_the_broker_are_sent_by_the_sweep_once(app, staff, monkeypatch):
    commune = factories.collectivite("Astaffort")
    seated, waiting, gone, next_one = (
        factories.elu(commune, name) for name in ("Fanny Sweep", "Gilles Sweep", "Hugo Parti", "Inès Suivante")
    )
    full, other = (
        factories.training_session(capacity=1, actor=staff),
        factories.training_session(capacity=1, actor=staff),
    )
    db.session.commit()
    notice_task = app.extensions["celery"].tasks[registrations.NOTICE_TASK]

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker injoignable")

    monkeypatch.setattr(notice_task, "apply_async", broker_down)
    earlier = utcnow() - 10 * timedelta(minutes=1)  # older than the sweep's grace
    seat, queued = (register(full, p.mandate, p, now=earlier) for p in (seated, waiting))
    cancelled, offered = (register(other, p.mandate, p, now=earlier) for p in (gone, next_one))
    db.session.commit()  # the request succeeds; its notices are not published
    # Cancelled before its invitation went out: only its cancellation is due now, without a calendar file. The
    # freed seat is offered to the next élu, whose waiting-list notice was never sent: only the offer is due for him.
    cancel(cancelled, gone, now=earlier + timedelta(minutes=1))
    db.session.commit()
    monkeypatch.undo()
    assert not fresh(seat.id).invitation_sent and fresh(queued.id).waiting_notice_sent_at is None
    assert fresh(offered.id).status == Status.OFFERED and fresh(offered.id).offer_notice_sent_at is None
    assert fresh(cancelled.id).cancel_notice_sent_at is None
    assert titles_of(seated) == titles_of(waiting) == titles_of(next_one) == titles_of(gone) == []
    assert registrations.notices_due() == [seat.id, queued.id, cancelled.id, offered.id]
    assert registrations.notices_due(grace=timedelta(hours=1)) == []  # a fresh one is left to its own job

    assert tasks.sweep_notices.apply().get() == 4
    assert [t.split(" — ")[0] for t in titles_of(seated)] == ["Inscription confirmée"]
    assert [t.split(" — ")[0] for t in titles_of(waiting)] == ["Inscription en liste d'attente"]
    assert [t.split(" — ")[0] for t in titles_of(next_one)] == ["Une place vous est proposée"]
    assert [t.split(" — ")[0] for t in titles_of(gone)] == ["Inscription annulée"]
    assert not [a for email in emails_of(gone) for a in email.attachments]
    assert tasks.sweep_notices.apply().get() == 0
    assert len(emails_of(seated)) == len(emails_of(waiting)) == len(emails_of(next_one)) == len(emails_of(gone)) == 1


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
