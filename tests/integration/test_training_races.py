"""Training: what changes while a request waits (stale rows), duplicate job runs, and bookkeeping failures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.extensions import db
from portal.notifications import services as notifications
from portal.notifications.models import Notification, OutboxEmail
from portal.training import notices, registrations, sessions
from portal.training.models import Registration, TrainingSession
from portal.training.rules import Status
from tests import factories


@pytest.fixture
def staff(app):
    with factories.shared_password_hash():
        user = factories.user("staff", email="formation@cdg47.fr")
    db.session.commit()
    return user


def _registrations() -> int:
    return db.session.scalar(select(func.count()).select_from(Registration))


def test_a_session_cancelled_while_the_request_waits_refuses_the_registration(staff):
    commune = factories.collectivite("Sauvagnas")
    elu = factories.elu(commune, "Bernard Castaing")
    session = factories.training_session(capacity=5, actor=staff)
    db.session.commit()
    db.session.get(TrainingSession, session.id)  # the request's copy, read before the cancellation
    with db.engine.begin() as other_request:
        other_request.execute(
            update(TrainingSession).where(TrainingSession.id == session.id).values(cancelled_at=utcnow())
        )
    with pytest.raises(DomainError, match="annulée"):
        registrations.register(session, elu.mandate, elu)
    db.session.rollback()
    assert _registrations() == 0


def test_leave_days_are_counted_again_under_the_lock(staff):
    commune = factories.collectivite("Sauvagnas")
    elu = factories.elu(commune)
    first = factories.training_session(capacity=5, actor=staff)
    second = factories.training_session(capacity=5, actor=staff)
    db.session.commit()
    registrations.register(first, elu.mandate, elu, registrations.RegistrationInput(leave_days=Decimal("16")))
    db.session.commit()
    with pytest.raises(DomainError, match="Congé de formation dépassé") as refused:
        registrations.register(second, elu.mandate, elu, registrations.RegistrationInput(leave_days=Decimal("9")))
    assert refused.value.field == "leave_days"
    db.session.rollback()
    assert _registrations() == 1


def test_a_reminder_already_taken_by_another_run_is_not_sent_again(staff):
    commune = factories.collectivite("Sauvagnas")
    elu = factories.elu(commune)
    session = factories.training_session(capacity=5, actor=staff)
    db.session.commit()
    registration = registrations.register(session, elu.mandate, elu, now=utcnow() - timedelta(days=2))
    db.session.commit()
    seven_days_before = session.starts_at - timedelta(days=6)
    # This run's copy of the row is loaded; another run sends the J-7 reminder and commits first.
    db.session.get(Registration, registration.id)
    with db.engine.begin() as other_run:
        other_run.execute(update(Registration).where(Registration.id == registration.id).values(reminders_sent="j7"))
    before = db.session.scalar(select(func.count()).select_from(OutboxEmail))
    assert notices.send_reminders(now=seven_days_before) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == before


def test_moving_a_session_tells_the_waiting_list_and_keeps_offers_before_the_start(staff):
    commune = factories.collectivite("Sauvagnas")
    first, second = factories.elu(commune, "Élu Un"), factories.elu(commune, "Élu Deux")
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    registrations.register(session, first.mandate, first)
    waiting = registrations.register(session, second.mandate, second)
    db.session.commit()
    assert waiting.status == Status.WAITING
    new_start = session.starts_at - timedelta(days=1)
    data = sessions.SessionInput(
        training_id=session.training_id,
        starts_at=new_start,
        ends_at=new_start + timedelta(hours=7),
        registration_deadline=new_start - timedelta(days=3),
        capacity=1,
        place="Salle du conseil, Sauvagnas",
        published=True,
    )
    sessions.update_session(session, data, staff)
    db.session.commit()
    titles = db.session.scalars(select(Notification.title).where(Notification.user_id == second.id)).all()
    assert any(title.startswith("Session modifiée") for title in titles)


def test_a_broker_and_database_failure_after_commit_does_not_fail_the_committed_request(
    app, staff, monkeypatch, caplog
):
    """After the commit, the broker is down and recording that fails too: the request still succeeds; the email,
    committed, looks published and the sweep republishes it once its ``enqueued_at`` is older than the lease."""
    commune = factories.collectivite("Sauvagnas")
    elu = factories.elu(commune)
    session = factories.training_session(capacity=5, actor=staff)
    db.session.commit()

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker injoignable")

    class BrokenEngine:
        def begin(self):
            raise RuntimeError("connexion impossible")

    celery_app = app.extensions["celery"]
    monkeypatch.setattr(celery_app.tasks[notifications.SEND_TASK], "apply_async", broker_down)
    monkeypatch.setattr(notifications, "db", type("FakeDb", (), {"engine": BrokenEngine(), "session": db.session}))
    registration = registrations.register(session, elu.mandate, elu)
    db.session.commit()  # must not raise
    monkeypatch.undo()
    assert db.session.get(Registration, registration.id).status == Status.REGISTERED
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.recipient_id == elu.id))
    assert email is not None and email.state == "pending" and email.enqueued_at is not None
    assert "broker unavailable" in caplog.text and "unpublished message(s) not recorded" in caplog.text
