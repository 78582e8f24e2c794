"""Cancellations and changes of a session told by the notice job after the commit (issue 17).

Under the roster lock only the state changes, with what the message needs (which cancellation, its reason; the
session's raised sequence); the job ``training.registration_notice`` builds the email, with its iCalendar CANCEL or
updated REQUEST, once the change has committed — once, whatever the number of runs — and the sweep sends what a
lost publication missed. Emails go to a real SMTP server (``smtp_sink``); Celery runs in the test process (eager).
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import timedelta

import icalendar
import pytest
import time_machine
from sqlalchemy import func, select

from portal.common import after_commit, jobs
from portal.common.clock import utcnow
from portal.extensions import db
from portal.notifications.models import Notification, OutboxEmail
from portal.training import registrations, tasks
from portal.training.models import Registration, TrainingSession
from portal.training.notices import describe_place, describe_when
from portal.training.registrations import CancelNotice, cancel, expire_offers, register
from portal.training.rules import Status
from portal.training.sessions import SessionInput, cancel_session, update_session
from tests import factories
from tests.workers.test_training_jobs import notice_jobs_at_once

TITLE = "Élu Numérique Rural"  # the factories' training
D = timedelta(days=1)
H = timedelta(hours=1)


@pytest.fixture
def staff(app, smtp_sink):
    with factories.shared_password_hash():
        staff = factories.user("staff", email="formation@cdg47.fr")
    db.session.commit()
    return staff


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def mail_to(smtp_sink, person) -> list[email.message.EmailMessage]:
    """What the SMTP server received for ``person``, in order, parsed again from the bytes."""
    with smtp_sink.lock:
        messages = list(smtp_sink.messages)
    return [
        email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        for message in messages
        if person.email in str(message["To"])
    ]


def told(person) -> list[tuple[str, str]]:
    """(title, body) of the notifications of ``person``, in order."""
    rows = db.session.scalars(select(Notification).where(Notification.user_id == person.id).order_by(Notification.id))
    return [(row.title, row.body) for row in rows]


def written() -> tuple[int, int]:
    """Notifications and outbox emails in the database."""
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Notification, OutboxEmail))


def flat(text: str) -> str:
    return " ".join(text.split())  # every kind of space as one


def text_of(message) -> str:
    return flat(message.get_body(("plain",)).get_content())


def calendar_of(message):
    """(MIME part, calendar, event) of the message's iCalendar file, or None."""
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    if not parts:
        return None
    (part,) = parts
    parsed = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    return part, parsed, parsed.walk("VEVENT")[0]


def assert_told(smtp_sink, person, title: str, body: str, message=None) -> None:
    """The last notification of ``person`` is exactly (title, body), and his last email says it."""
    assert told(person)[-1] == (f"{title} — {TITLE}", body)
    message = message or mail_to(smtp_sink, person)[-1]
    assert str(message["Subject"]).startswith(f"{title} — {TITLE} — ")
    assert flat(body) in text_of(message)


def moved_input(session: TrainingSession, days: int = 2, place: str = "Mairie de Layrac") -> SessionInput:
    start = session.starts_at + days * D
    return SessionInput(
        training_id=session.training_id,
        starts_at=start,
        ends_at=start + 7 * H,
        registration_deadline=session.registration_deadline,
        capacity=session.capacity,
        place=place,
        published=True,
    )


def broker_down(app, monkeypatch) -> None:
    """The notice jobs cannot be published (the request still commits: the sweep catches up)."""

    def refuse(*args, **kwargs):
        raise ConnectionError("broker injoignable")

    monkeypatch.setattr(app.extensions["celery"].tasks[registrations.NOTICE_TASK], "apply_async", refuse)


def sweep_later(minutes: int = 10) -> int:
    """The sweep, run ``minutes`` later (past its grace): the number of notices it republished."""
    with time_machine.travel(utcnow() + timedelta(minutes=minutes)):
        return tasks.sweep_notices.apply().get()


# A cancellation ----------------------------------------------------------------------------------------------------


def test_a_cancellation_is_told_after_the_commit_once_with_a_calendar_cancel(staff, smtp_sink):
    commune = factories.collectivite("Sauvagnas")
    elu = factories.elu(commune, "Anne Annule")
    session = factories.training_session(capacity=5, actor=staff)
    db.session.commit()
    registration = register(session, elu.mandate, elu)
    db.session.commit()
    (invitation,) = mail_to(smtp_sink, elu)
    _part, _calendar, invited = calendar_of(invitation)
    before = written()

    cancel(fresh(Registration, registration.id), elu)
    db.session.flush()
    # Under the lock: the state and the notice owed. The message waits for the commit, as a job.
    assert after_commit.pending(jobs.CHANNEL) == [(registrations.NOTICE_TASK, (registration.id,))]
    assert written() == before and len(mail_to(smtp_sink, elu)) == 1
    row = db.session.get(Registration, registration.id)
    assert row.status == Status.CANCELLED and row.cancel_notice == CancelNotice.CANCELLED
    assert row.cancel_notice_sent_at is None and row.ics_sequence == invited["SEQUENCE"]
    db.session.commit()

    assert fresh(Registration, registration.id).cancel_notice_sent_at is not None
    _, cancellation = mail_to(smtp_sink, elu)
    when = describe_when(fresh(TrainingSession, session.id))
    assert_told(
        smtp_sink,
        elu,
        "Inscription annulée",
        f"Votre inscription à « {TITLE} » du {when} est annulée. Motif : Annulée.",
        cancellation,
    )
    part, calendar, cancelled = calendar_of(cancellation)
    assert part.get_filename() == "annulation.ics" and part.get_param("method") == "CANCEL"
    assert calendar["METHOD"] == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["UID"]) == str(invited["UID"])
    assert cancelled["SEQUENCE"] == invited["SEQUENCE"] + 1  # above the invitation: calendars remove the event

    # A second run of the job, and the sweep, send nothing more.
    assert tasks.registration_notice.apply(args=[registration.id]).get() is None
    assert sweep_later() == 0
    assert len(mail_to(smtp_sink, elu)) == 2 and len(told(elu)) == 2
    assert fresh(Registration, registration.id).ics_sequence == cancelled["SEQUENCE"]


def test_declined_and_expired_offers_are_told_after_the_commit_with_their_titles(staff, smtp_sink):
    commune = factories.collectivite("Layrac")
    holder, first, second = (factories.elu(commune, name) for name in ("Hugo Place", "Inès Décline", "Jean Tarde"))
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    seat, declined, expired = (register(session, p.mandate, p) for p in (holder, first, second))
    db.session.commit()
    cancel(fresh(Registration, seat.id), holder)
    db.session.commit()
    assert fresh(Registration, declined.id).status == Status.OFFERED
    before = written()

    cancel(fresh(Registration, declined.id), first)
    db.session.flush()
    assert (registrations.NOTICE_TASK, (declined.id,)) in after_commit.pending(jobs.CHANNEL)
    assert written() == before
    db.session.commit()
    when = describe_when(fresh(TrainingSession, session.id))
    assert_told(
        smtp_sink,
        first,
        "Place déclinée",
        f"Votre inscription à « {TITLE} » du {when} est annulée. Motif : Place proposée déclinée.",
    )
    assert calendar_of(mail_to(smtp_sink, first)[-1]) is None  # never invited: nothing to withdraw

    offer = fresh(Registration, expired.id)
    assert offer.status == Status.OFFERED
    assert expire_offers(now=offer.offer_expires_at) == 1  # commits, session by session
    assert fresh(Registration, expired.id).cancel_notice == CancelNotice.EXPIRED
    assert_told(
        smtp_sink,
        second,
        "Offre expirée",
        f"Votre inscription à « {TITLE} » du {when} est annulée. Motif : place proposée non confirmée dans le délai.",
    )
    assert calendar_of(mail_to(smtp_sink, second)[-1]) is None

    counts = (len(told(first)), len(told(second)), len(smtp_sink.messages))
    for registration in (declined, expired):
        assert tasks.registration_notice.apply(args=[registration.id]).get() is None
    assert sweep_later() == 0
    assert (len(told(first)), len(told(second)), len(smtp_sink.messages)) == counts


# A cancelled session ---------------------------------------------------------------------------------------------


def test_a_cancelled_session_is_told_to_each_participant_after_the_commit_once(staff, smtp_sink):
    commune = factories.collectivite("Astaffort")
    seated, waiting = factories.elu(commune, "Karine Assise"), factories.elu(commune, "Louis Attend")
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    seat, queued = (register(session, p.mandate, p) for p in (seated, waiting))
    db.session.commit()
    _part, _calendar, invited = calendar_of(mail_to(smtp_sink, seated)[0])
    before, received = written(), len(smtp_sink.messages)

    assert cancel_session(fresh(TrainingSession, session.id), staff, "formateur indisponible") == 2
    db.session.flush()
    assert sorted(after_commit.pending(jobs.CHANNEL)) == [
        (registrations.NOTICE_TASK, (seat.id,)),
        (registrations.NOTICE_TASK, (queued.id,)),
    ]
    assert written() == before and len(smtp_sink.messages) == received
    db.session.commit()

    session = fresh(TrainingSession, session.id)
    body = (
        f"Votre inscription à « {TITLE} » du {describe_when(session)} est annulée. "
        "Motif : Session annulée par le CDG : formateur indisponible."
    )
    assert_told(smtp_sink, seated, "Session annulée", body)
    assert_told(smtp_sink, waiting, "Session annulée", body)
    part, calendar, cancelled = calendar_of(mail_to(smtp_sink, seated)[-1])
    assert part.get_param("method") == "CANCEL" and calendar["METHOD"] == "CANCEL"
    assert str(cancelled["UID"]) == str(invited["UID"]) and cancelled["SEQUENCE"] == invited["SEQUENCE"] + 1
    assert calendar_of(mail_to(smtp_sink, waiting)[-1]) is None
    assert len(smtp_sink.messages) == received + 2

    for registration in (seat, queued):
        assert tasks.registration_notice.apply(args=[registration.id]).get() is None
    assert sweep_later() == 0  # the session is cancelled: its cancellations are still swept, none is due
    assert len(smtp_sink.messages) == received + 2


# A moved session ---------------------------------------------------------------------------------------------------


def test_a_moved_session_is_told_after_the_commit_with_the_updated_invitation_once(staff, smtp_sink):
    commune = factories.collectivite("Moirax")
    seated, waiting = factories.elu(commune, "Marc Assis"), factories.elu(commune, "Nina Attend")
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    seat, queued = (register(session, p.mandate, p) for p in (seated, waiting))
    db.session.commit()
    _part, _calendar, invited = calendar_of(mail_to(smtp_sink, seated)[0])
    before, received = written(), len(smtp_sink.messages)

    # A change that moves nothing (the registration deadline) tells nobody.
    unmoved = fresh(TrainingSession, session.id)
    earlier = replace(
        moved_input(unmoved, days=0, place=unmoved.place), registration_deadline=unmoved.registration_deadline - D
    )
    update_session(unmoved, earlier, staff)
    assert after_commit.pending(jobs.CHANNEL) == []
    db.session.commit()
    assert written() == before and fresh(TrainingSession, session.id).sequence == 0

    update_session(fresh(TrainingSession, session.id), moved_input(fresh(TrainingSession, session.id)), staff)
    db.session.flush()
    assert sorted(after_commit.pending(jobs.CHANNEL)) == [
        (registrations.NOTICE_TASK, (seat.id,)),
        (registrations.NOTICE_TASK, (queued.id,)),
    ]
    assert written() == before and len(smtp_sink.messages) == received
    assert db.session.get(Registration, seat.id).ics_sequence == invited["SEQUENCE"]  # raised by the job
    db.session.commit()

    session = fresh(TrainingSession, session.id)
    assert session.sequence == 1
    values = f"« {TITLE} », le {describe_when(session)}, {describe_place(session)}."
    assert_told(
        smtp_sink,
        seated,
        "Session modifiée",
        f"La session a changé : {values} L'invitation jointe s'ajoute à votre agenda.",
    )
    assert_told(
        smtp_sink,
        waiting,
        "Session modifiée",
        f"La session a changé : {values} Votre inscription reste en liste d'attente.",
    )
    part, calendar, updated = calendar_of(mail_to(smtp_sink, seated)[-1])
    assert part.get_filename() == "invitation.ics" and calendar["METHOD"] == "REQUEST"
    assert str(updated["UID"]) == str(invited["UID"]) and updated["SEQUENCE"] == invited["SEQUENCE"] + 1
    assert updated.decoded("DTSTART") == session.starts_at and str(updated["LOCATION"]) == "Mairie de Layrac"
    assert calendar_of(mail_to(smtp_sink, waiting)[-1]) is None
    assert [r.told_sequence for r in (fresh(Registration, seat.id), fresh(Registration, queued.id))] == [1, 1]

    for registration in (seat, queued):
        assert tasks.registration_notice.apply(args=[registration.id]).get() is None
    assert sweep_later() == 0
    assert len(smtp_sink.messages) == received + 2

    # Cancelled afterwards: the CANCEL goes above the updated invitation.
    cancel(fresh(Registration, seat.id), seated)
    db.session.commit()
    _part, _calendar, cancelled = calendar_of(mail_to(smtp_sink, seated)[-1])
    assert cancelled["SEQUENCE"] == updated["SEQUENCE"] + 1


def test_a_change_claimed_by_several_workers_at_once_is_told_by_one(app, staff, smtp_sink, monkeypatch):
    commune = factories.collectivite("Sauvagnas")
    elu = factories.elu(commune, "Olivier Unique")
    session = factories.training_session(capacity=3, actor=staff)
    db.session.commit()
    registration = register(session, elu.mandate, elu)
    db.session.commit()
    broker_down(app, monkeypatch)
    update_session(fresh(TrainingSession, session.id), moved_input(fresh(TrainingSession, session.id)), staff)
    db.session.commit()
    monkeypatch.undo()
    results = notice_jobs_at_once(app, registration.id)
    assert results.count(registrations.MOVED) == 1 and results.count(None) == 5
    first, updated = mail_to(smtp_sink, elu)
    assert [calendar_of(m)[2]["SEQUENCE"] for m in (first, updated)] == [0, 1]
    assert fresh(Registration, registration.id).ics_sequence == 1


# Rolled back, lost, crossed -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["cancel", "cancel_session", "move"])
def test_nothing_is_told_when_the_change_is_rolled_back(staff, smtp_sink, change):
    commune = factories.collectivite("Layrac")
    seated, waiting = factories.elu(commune, "Paul Reste"), factories.elu(commune, "Rose Reste")
    session = factories.training_session(capacity=1, actor=staff)
    db.session.commit()
    seat, queued = (register(session, p.mandate, p) for p in (seated, waiting))
    db.session.commit()
    before, received = written(), len(smtp_sink.messages)

    if change == "cancel":
        cancel(fresh(Registration, seat.id), seated)
    elif change == "cancel_session":
        cancel_session(fresh(TrainingSession, session.id), staff, "salle indisponible")
    else:
        update_session(fresh(TrainingSession, session.id), moved_input(fresh(TrainingSession, session.id)), staff)
    db.session.flush()
    assert after_commit.pending(jobs.CHANNEL)  # the notices were asked for...
    db.session.rollback()  # ...and dropped with the change

    assert after_commit.pending(jobs.CHANNEL) == []
    assert written() == before and len(smtp_sink.messages) == received
    assert [fresh(Registration, r.id).status for r in (seat, queued)] == [Status.REGISTERED, Status.WAITING]
    assert fresh(TrainingSession, session.id).sequence == 0
    assert registrations.notices_due() == [] and sweep_later() == 0
    assert written() == before and len(smtp_sink.messages) == received


def test_notices_lost_with_the_broker_are_sent_by_the_sweep_once_and_up_to_date(app, staff, smtp_sink, monkeypatch):
    commune = factories.collectivite("Astaffort")
    names = ("Sophie Bouge", "Thomas Bouge", "Ursule Part", "Victor Annulé")
    moved_seat, moved_wait, leaving, dropped = (factories.elu(commune, name) for name in names)
    moving, other, doomed = (factories.training_session(capacity=1, actor=staff) for _ in range(3))
    db.session.commit()
    a, b = (register(moving, p.mandate, p) for p in (moved_seat, moved_wait))
    c = register(other, leaving.mandate, leaving)
    d = register(doomed, dropped.mandate, dropped)
    db.session.commit()
    _part, _calendar, invited = calendar_of(mail_to(smtp_sink, moved_seat)[0])
    before, received = written(), len(smtp_sink.messages)

    broker_down(app, monkeypatch)
    # Moved twice while no job could be published: one message, of the last change, is due.
    update_session(fresh(TrainingSession, moving.id), moved_input(fresh(TrainingSession, moving.id), days=2), staff)
    db.session.commit()
    update_session(fresh(TrainingSession, moving.id), moved_input(fresh(TrainingSession, moving.id), days=1), staff)
    db.session.commit()
    cancel(fresh(Registration, c.id), leaving)
    db.session.commit()
    cancel_session(fresh(TrainingSession, doomed.id), staff, "formateur malade")
    db.session.commit()  # every request succeeded; none of their notices was published
    monkeypatch.undo()
    assert written() == before and len(smtp_sink.messages) == received
    assert registrations.notices_due() == [a.id, b.id, c.id, d.id]
    assert registrations.notices_due(grace=H) == []  # a fresh one is left to its own job

    assert sweep_later() == 4
    moving = fresh(TrainingSession, moving.id)
    assert moving.sequence == 2
    ((_, body),) = told(moved_wait)[1:]
    assert describe_when(moving) in body and "reste en liste d'attente" in body
    (updated,) = mail_to(smtp_sink, moved_seat)[1:]
    _part, calendar, event = calendar_of(updated)
    assert calendar["METHOD"] == "REQUEST" and event.decoded("DTSTART") == moving.starts_at
    assert event["SEQUENCE"] == 2 and str(event["UID"]) == str(invited["UID"])  # the session's, above the first
    for person, title in ((leaving, "Inscription annulée"), (dropped, "Session annulée")):
        (cancellation,) = mail_to(smtp_sink, person)[1:]
        assert str(cancellation["Subject"]).startswith(f"{title} — ")
        assert calendar_of(cancellation)[1]["METHOD"] == "CANCEL"
    assert len(smtp_sink.messages) == received + 4

    assert sweep_later() == 0 and registrations.notices_due() == []
    assert len(smtp_sink.messages) == received + 4


def test_a_cancellation_before_the_change_was_told_withdraws_the_invitation_and_tells_no_change(
    app, staff, smtp_sink, monkeypatch
):
    commune = factories.collectivite("Moirax")
    elu = factories.elu(commune, "Yves Pressé")
    session = factories.training_session(capacity=3, actor=staff)
    db.session.commit()
    registration = register(session, elu.mandate, elu)
    db.session.commit()
    _part, _calendar, invited = calendar_of(mail_to(smtp_sink, elu)[0])
    broker_down(app, monkeypatch)
    update_session(fresh(TrainingSession, session.id), moved_input(fresh(TrainingSession, session.id)), staff)
    db.session.commit()  # the change is not told yet...
    monkeypatch.undo()
    cancel(fresh(Registration, registration.id), elu)
    db.session.commit()  # ...when the élu cancels: his job tells the cancellation alone

    assert [title.split(" — ")[0] for title, _body in told(elu)] == ["Inscription confirmée", "Inscription annulée"]
    _part, calendar, cancelled = calendar_of(mail_to(smtp_sink, elu)[-1])
    assert calendar["METHOD"] == "CANCEL" and cancelled["SEQUENCE"] == invited["SEQUENCE"] + 1
    assert registrations.notices_due() == [] and sweep_later() == 0
    assert len(mail_to(smtp_sink, elu)) == 2
