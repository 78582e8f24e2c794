"""Training of élus on the real database: registrations, waiting list, offers, invitations, attendance, rights."""

from __future__ import annotations

import email
import email.policy
import io
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import icalendar
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.common.clock import utcnow
from portal.common.errors import ConflictError, DomainError
from portal.common.formatting import date_fr
from portal.extensions import db
from portal.notifications import mailer
from portal.notifications.models import Notification, OutboxAttachment, OutboxEmail
from portal.training import notices, rights_rules, roster, visibility
from portal.training import registrations as training_registrations
from portal.training.attendance import mark_attendance
from portal.training.budget import commune_budget
from portal.training.calendar import PARIS
from portal.training.models import Registration, TrainingSession
from portal.training.rights import commune_year, leave_days_booked, rights_for, save_budget, untrained_communes
from portal.training.rights_rules import Funding
from portal.training.rules import Status
from portal.training.sessions import SessionInput, cancel_session, create_session, update_session
from tests import factories

H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.fixture
def world(app, smtp_sink):
    """Emails go to a real SMTP server (sent at the first attempt: a closed port would retry each eight times)."""
    commune_a = factories.collectivite("Sauvagnas")
    commune_b = factories.collectivite("Layrac")
    with factories.shared_password_hash():
        staff = factories.user("staff", email="formation@cdg47.fr")
        secretary_a = factories.user("secretary", email="mairie@sauvagnas.fr", collectivites=[commune_a])
        secretary_b = factories.user("secretary", email="mairie@layrac.fr", collectivites=[commune_b])
    training = factories.training("Élu Numérique Rural", hours="7", cost="150.00", actor=staff)
    session = factories.training_session(training, capacity=10, actor=staff)
    db.session.commit()
    return {
        "staff": staff,
        "a": commune_a,
        "b": commune_b,
        "secretary_a": secretary_a,
        "secretary_b": secretary_b,
        "training": training,
        "session": session,
    }


def elus(commune, count: int, prefix: str = "Élu") -> list:
    people = [factories.elu(commune, f"{prefix} {commune.name} {i:02d}") for i in range(1, count + 1)]
    db.session.commit()
    return people


def register(session, user, actor=None, **kwargs) -> Registration:
    registration = training_registrations.register(session, user.mandate, actor or user, **kwargs)
    db.session.commit()
    return registration


def fresh(model, ident):
    db.session.expire_all()
    return db.session.get(model, ident)


def statuses(session) -> dict[str, str]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Registration.id, Registration.status).where(Registration.session_id == session.id)
    ).all()
    return {row.id: row.status for row in rows}


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def counts() -> tuple[int, ...]:
    return tuple(count(m) for m in (Registration, OutboxEmail, OutboxAttachment, Notification, AuditEvent))


def notes(user) -> list[Notification]:
    return list(
        db.session.scalars(select(Notification).where(Notification.user_id == user.id).order_by(Notification.id))
    )


def invitations(user) -> list[tuple[str, icalendar.Calendar, icalendar.Event]]:
    """The .ics attachments emailed to ``user``, in order: (content type, calendar, event)."""
    rows = db.session.scalars(
        select(OutboxAttachment)
        .join(OutboxEmail)
        .where(OutboxEmail.recipient_id == user.id, OutboxAttachment.filename.like("%.ics"))
        .order_by(OutboxAttachment.id)
    ).all()
    result = []
    for row in rows:
        parsed = icalendar.Calendar.from_ical(row.data)
        result.append((row.content_type, parsed, parsed.walk("VEVENT")[0]))
    return result


def fill(session, people) -> list[Registration]:
    return [register(session, person) for person in people]


# Registration and the waiting list ----------------------------------------------------------------


def test_register_gives_a_seat_an_invitation_a_notification_and_an_audit_row(world):
    (elu,) = elus(world["a"], 1)
    registration = register(world["session"], elu)
    registration = fresh(Registration, registration.id)
    assert registration.status == Status.REGISTERED
    assert registration.registered_at is not None and registration.registered_by_id == elu.id
    assert registration.collectivite_id == world["a"].id
    assert registration.tuition_cost == Decimal("150.00") and registration.funding == Funding.COMMUNE
    assert registration.invitation_sent
    ((content_type, cal, event),) = invitations(elu)
    assert content_type == "text/calendar; method=REQUEST; charset=UTF-8"
    assert cal["METHOD"] == "REQUEST"
    assert str(event["UID"]).startswith(registration.uid + "@")
    assert event.decoded("DTSTART") == world["session"].starts_at
    assert str(event["ATTENDEE"]) == f"mailto:{elu.email}"
    (note,) = notes(elu)
    assert note.title.startswith("Inscription confirmée") and note.email_id is not None
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "training.registered")).all()
    assert len(audit) == 1 and audit[0].object_id == registration.id and elu.full_name in audit[0].summary


def test_the_eleventh_on_ten_seats_waits_and_is_told_his_position(world):
    people = elus(world["a"], 10) + elus(world["b"], 2)
    registrations = fill(world["session"], people)
    assert [r.status for r in registrations[:10]] == [Status.REGISTERED] * 10
    assert [fresh(Registration, r.id).status for r in registrations[10:]] == [Status.WAITING] * 2
    positions = roster.waiting_positions(fresh(TrainingSession, world["session"].id))
    assert positions == {registrations[10].id: 1, registrations[11].id: 2}
    assert "position 1 sur la liste d'attente" in notes(people[10])[0].body
    assert "position 2 sur la liste d'attente" in notes(people[11])[0].body
    assert invitations(people[10]) == []  # no invitation for someone waiting
    assert roster.roster(world["session"].id).seats_taken == 10
    assert roster.roster(world["session"].id).waiting == 2
    actions = Counter(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("training.%"))))
    assert actions["training.registered"] == 10 and actions["training.waiting_listed"] == 2


def test_cancel_offers_the_seat_to_the_first_waiting_for_48_hours_then_accept(world, app):
    people = elus(world["a"], 12)
    registrations = fill(world["session"], people)
    now = utcnow()
    training_registrations.cancel(fresh(Registration, registrations[3].id), people[3], now=now)
    db.session.commit()
    first, second = fresh(Registration, registrations[10].id), fresh(Registration, registrations[11].id)
    assert first.status == Status.OFFERED and second.status == Status.WAITING
    assert app.config["TRAINING_OFFER_HOURS"] == 48
    assert first.offer_expires_at == now + 48 * H and first.offered_at == now
    assert roster.waiting_positions(fresh(TrainingSession, world["session"].id)) == {second.id: 1}
    assert roster.roster(world["session"].id).seats_taken == 10  # an offered seat is held
    assert notes(people[10])[-1].title.startswith("Une place vous est proposée")
    # The cancelled élu had an invitation: he gets a CANCEL with the same UID and a higher SEQUENCE.
    (_, request_cal, request), (_, cancel_cal, cancelled) = invitations(people[3])
    assert cancel_cal["METHOD"] == "CANCEL" and str(cancelled["UID"]) == str(request["UID"])
    assert cancelled["SEQUENCE"] > request["SEQUENCE"]

    training_registrations.accept_offer(first, people[10], now=now + H)
    db.session.commit()
    first = fresh(Registration, first.id)
    assert first.status == Status.REGISTERED and first.offer_expires_at is None and first.registered_at == now + H
    ((content_type, _cal, event),) = invitations(people[10])
    assert "method=REQUEST" in content_type and str(event["UID"]).startswith(first.uid)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "training.offer_accepted")) == 1


def test_an_expired_offer_is_cancelled_and_the_next_one_is_offered(world):
    people = elus(world["a"], 12)
    registrations = fill(world["session"], people)
    now = utcnow()
    training_registrations.cancel(fresh(Registration, registrations[0].id), people[0], now=now)
    db.session.commit()
    assert training_registrations.expire_offers(now=now + 47 * H) == 0
    assert fresh(Registration, registrations[10].id).status == Status.OFFERED
    later = now + 48 * H
    assert training_registrations.expire_offers(now=later) == 1
    db.session.commit()
    expired, nxt = fresh(Registration, registrations[10].id), fresh(Registration, registrations[11].id)
    assert expired.status == Status.CANCELLED and "non confirmée" in expired.cancel_reason
    assert nxt.status == Status.OFFERED and nxt.offer_expires_at == later + 48 * H
    assert notes(people[10])[-1].title.startswith("Offre expirée")
    assert training_registrations.expire_offers(now=later) == 0  # safe to run twice
    with pytest.raises(ConflictError, match="Aucune place"):
        training_registrations.accept_offer(expired, people[10], now=later)
    db.session.rollback()
    # Confirming once the delay is over is refused even before the job ran.
    with pytest.raises(ConflictError, match="délai"):
        training_registrations.accept_offer(fresh(Registration, nxt.id), people[11], now=later + 48 * H)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "training.offer_expired")) == 1


def test_an_offered_seat_can_be_declined_and_goes_to_the_next(world):
    people = elus(world["a"], 12)
    registrations = fill(world["session"], people)
    training_registrations.cancel(fresh(Registration, registrations[0].id), people[0])
    db.session.commit()
    training_registrations.cancel(fresh(Registration, registrations[10].id), people[10])
    db.session.commit()
    assert fresh(Registration, registrations[10].id).cancel_reason == "Place proposée déclinée"
    assert fresh(Registration, registrations[11].id).status == Status.OFFERED


def test_an_offer_made_after_the_deadline_can_still_be_declined(world):
    """Seats are offered until an hour before the start, after the deadline: the élu must be able to say no."""
    session = world["session"]
    people = elus(world["a"], 11)
    registrations = fill(session, people)
    after_deadline = session.registration_deadline + H
    training_registrations.cancel(fresh(Registration, registrations[0].id), world["staff"], now=after_deadline)
    db.session.commit()
    offered = fresh(Registration, registrations[10].id)
    assert offered.status == Status.OFFERED
    training_registrations.cancel(offered, people[10], now=after_deadline + H)
    db.session.commit()
    assert fresh(Registration, offered.id).status == Status.CANCELLED
    # A registered élu still cannot cancel himself after the deadline.
    with pytest.raises(DomainError, match="contactez le CDG"):
        training_registrations.cancel(fresh(Registration, registrations[1].id), people[1], now=after_deadline)
    db.session.rollback()


def _trained(commune, staff):
    """An élu of ``commune`` marked present at a past session: the commune has a trained élu."""
    start = utcnow() - 10 * D
    past = factories.training_session(
        factories.training("Finances locales", actor=staff), starts_at=start, actor=staff, now=start - 20 * D
    )
    (elu,) = elus(commune, 1, "Formé")
    registration = training_registrations.register(past, elu.mandate, elu, now=start - 10 * D)
    mark_attendance(past, {registration.id}, staff, now=start + 8 * H)
    db.session.commit()
    return elu


def test_priority_to_communes_without_a_trained_elu_when_the_setting_is_on(world):
    _trained(world["a"], world["staff"])
    staff = world["staff"]
    for prioritise in (False, True):
        session = factories.training_session(
            world["training"], capacity=1, prioritise_untrained=prioritise, actor=staff
        )
        db.session.commit()
        holder = elus(world["b"], 1, f"Titulaire {prioritise}")[0]
        from_a = elus(world["a"], 1, f"Attente {prioritise}")[0]  # commune A has a trained élu, waits first
        from_b = elus(world["b"], 1, f"Attente {prioritise}")[0]  # commune B has none, waits second
        seat = register(session, holder)
        waiting_a, waiting_b = register(session, from_a), register(session, from_b)
        session = fresh(TrainingSession, session.id)
        expected_first = waiting_b if prioritise else waiting_a
        assert roster.waiting_positions(session)[expected_first.id] == 1
        training_registrations.cancel(fresh(Registration, seat.id), holder)
        db.session.commit()
        assert fresh(Registration, expected_first.id).status == Status.OFFERED
    untrained = db.session.scalars(untrained_communes(["47"])).all()
    assert world["b"] in untrained and world["a"] not in untrained


def test_quota_per_collectivite(world):
    session = factories.training_session(world["training"], capacity=4, quota=2, actor=world["staff"])
    db.session.commit()
    from_a, from_b = elus(world["a"], 3), elus(world["b"], 3)
    a1, a2, a3 = fill(session, from_a)
    assert [fresh(Registration, r.id).status for r in (a1, a2, a3)] == [Status.REGISTERED] * 2 + [Status.WAITING]
    # Commune A waits at its quota; an élu of commune B still gets one of the two free seats.
    b1, b2, b3 = fill(session, from_b)
    assert [fresh(Registration, r.id).status for r in (b1, b2, b3)] == [Status.REGISTERED] * 2 + [Status.WAITING]
    assert roster.roster(session.id).seats_taken == 4
    # A seat of commune B frees: A3 waits first but commune A is at its quota, B3 gets it; A3 keeps its place.
    training_registrations.cancel(fresh(Registration, b1.id), from_b[0])
    db.session.commit()
    assert fresh(Registration, b3.id).status == Status.OFFERED
    assert fresh(Registration, a3.id).status == Status.WAITING
    assert roster.waiting_positions(fresh(TrainingSession, session.id)) == {a3.id: 1}
    training_registrations.cancel(fresh(Registration, a1.id), from_a[0])
    db.session.commit()
    assert fresh(Registration, a3.id).status == Status.OFFERED


def test_registering_twice_is_a_conflict_and_after_a_cancellation_it_is_allowed(world):
    (elu,) = elus(world["a"], 1)
    first = register(world["session"], elu)
    before = counts()
    with pytest.raises(ConflictError, match="déjà inscrit"):
        training_registrations.register(world["session"], elu.mandate, world["secretary_a"])
    assert counts() == before
    db.session.rollback()
    training_registrations.cancel(fresh(Registration, first.id), elu)
    db.session.commit()
    second = register(fresh(TrainingSession, world["session"].id), elu)
    assert second.id != first.id and fresh(Registration, second.id).status == Status.REGISTERED
    assert fresh(Registration, second.id).uid != fresh(Registration, first.id).uid


def test_a_waiting_elu_registering_again_is_a_conflict_too(world):
    people = elus(world["a"], 11)
    fill(world["session"], people)
    with pytest.raises(ConflictError, match="liste d'attente"):
        training_registrations.register(world["session"], people[10].mandate, people[10])
    db.session.rollback()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("deadline", "date limite d'inscription à cette session est dépassée"),
        ("past", "déjà commencé ou est passée"),
        ("unpublished", "n'est pas ouverte aux inscriptions"),
        ("other_commune", "que les élus de votre commune"),
        ("leave_days", "Congé de formation dépassé"),
        ("funding", "ne mobilise pas de DIFE"),
    ],
)
def test_bad_requests_are_refused_in_french_and_nothing_is_written(world, case, message):
    session, staff = world["session"], world["staff"]
    (elu,) = elus(world["a"], 1)
    actor, now, data = elu, None, None
    if case == "deadline":
        now = session.registration_deadline + timedelta(seconds=1)
    elif case == "past":
        now = session.starts_at + H
    elif case == "unpublished":
        session = factories.training_session(world["training"], published=False, actor=staff)
        db.session.commit()
    elif case == "other_commune":
        actor = world["secretary_b"]
    elif case == "leave_days":
        data = training_registrations.RegistrationInput(leave_days=Decimal("24.5"))
    elif case == "funding":
        data = training_registrations.RegistrationInput(funding=Funding.COMMUNE, dife_amount=Decimal("50"))
    before = counts()
    with pytest.raises(DomainError, match=message):
        training_registrations.register(session, elu.mandate, actor, data=data, now=now)
    assert counts() == before
    db.session.rollback()
    assert counts() == before


def test_a_secretary_registers_the_elus_of_her_commune_on_their_behalf(world):
    (elu,) = elus(world["a"], 1)
    registration = register(world["session"], elu, actor=world["secretary_a"])
    registration = fresh(Registration, registration.id)
    assert registration.registered_by_id == world["secretary_a"].id
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "training.registered"))
    assert audit.actor_id == world["secretary_a"].id and "par " in audit.summary
    with pytest.raises(DomainError, match="annuler l'inscription de cet élu"):
        training_registrations.cancel(registration, world["secretary_b"])
    db.session.rollback()
    # An élu cannot register another élu either.
    (other,) = elus(world["a"], 1, "Autre")
    with pytest.raises(DomainError):
        training_registrations.register(world["session"], other.mandate, elu)
    db.session.rollback()


def test_leave_days_count_against_24_per_mandate(world):
    (elu,) = elus(world["a"], 1)
    register(world["session"], elu, data=training_registrations.RegistrationInput(leave_days=Decimal("23.5")))
    other = factories.training_session(world["training"], actor=world["staff"])
    db.session.commit()
    with pytest.raises(DomainError, match="il reste 0,5 jour"):
        training_registrations.register(
            other, elu.mandate, elu, data=training_registrations.RegistrationInput(leave_days=Decimal("1"))
        )
    db.session.rollback()
    registration = register(other, elu, data=training_registrations.RegistrationInput(leave_days=Decimal("0.5")))
    assert fresh(Registration, registration.id).leave_days == Decimal("0.5")


def _new_function(user, *, on: date, function: str = "adjoint", rank: int | None = 1, new_term: bool = False):
    """Close the élu's current mandate on ``on`` and open the next one: a new function in the same term, or a
    new term (re-election) starting that day."""
    old = user.mandate
    old.end_date = on
    new = factories.MandateFactory(
        person=old.person,
        collectivite=old.collectivite,
        function=function,
        rank=rank,
        start_date=on if new_term else old.start_date,
        function_start_date=on,
    )
    db.session.commit()
    db.session.expire_all()
    return new


def test_leave_days_and_registrations_follow_the_person_into_his_new_function(world):
    (elu,) = elus(world["a"], 1)
    first = register(world["session"], elu, data=training_registrations.RegistrationInput(leave_days=Decimal("23.5")))
    conseiller_id = elu.mandate.id
    adjoint = _new_function(elu, on=date.today())
    assert fresh(type(elu), elu.id).mandate.id == adjoint.id  # the login's current mandate is the new one
    other = factories.training_session(world["training"], actor=world["staff"])
    db.session.commit()
    with pytest.raises(DomainError, match="il reste 0,5 jour"):
        training_registrations.register(
            other, adjoint, elu, data=training_registrations.RegistrationInput(leave_days=Decimal("1"))
        )
    db.session.rollback()
    rights = rights_for(fresh(type(adjoint), adjoint.id))
    assert [r.id for r in rights.registrations] == [first.id]
    assert rights.leave_days_booked == Decimal("23.5") and rights.leave_days_left == Decimal("0.5")
    assert leave_days_booked(adjoint.id) == leave_days_booked(conseiller_id) == Decimal("23.5")
    # He still sees and may cancel the registration made under his former function.
    elu = fresh(type(elu), elu.id)
    assert db.session.scalars(visibility.registrations_visible_to(elu)).all() == [fresh(Registration, first.id)]
    assert visibility.can_act_for(elu, fresh(type(adjoint), conseiller_id))
    # Only current mandates can be registered.
    assert db.session.scalars(visibility.mandates_for(elu)).all() == [fresh(type(adjoint), adjoint.id)]


def test_a_new_term_starts_a_new_count_of_leave_days_but_dife_follows_the_person(world):
    (elu,) = elus(world["a"], 1)  # mandate since 23 May 2020
    register(world["session"], elu, data=training_registrations.RegistrationInput(leave_days=Decimal("23.5")))
    reelected = _new_function(elu, on=date.today() - 30 * D, function="conseiller", rank=None, new_term=True)
    rights = rights_for(fresh(type(reelected), reelected.id))
    assert rights.leave_days_booked == 0 and rights.leave_days_left == rights_rules.LEAVE_DAYS_PER_MANDATE
    assert rights.registrations == []
    assert rights.dife_acquired == Decimal("800")  # per élu: credited since 2020, re-elected without a break
    # After a break, DIFE starts again from the new mandate.
    later = _new_function(fresh(type(elu), elu.id), on=date.today(), function="conseiller", rank=None, new_term=True)
    later.start_date = date.today() + D
    db.session.commit()
    assert rights_for(fresh(type(later), later.id)).dife_acquired == Decimal("0")


def test_dife_funding_records_the_whole_cost(world):
    (elu,) = elus(world["a"], 1)
    data = training_registrations.RegistrationInput(funding=Funding.DIFE, travel_cost=Decimal("20.00"))
    registration = fresh(Registration, register(world["session"], elu, data=data).id)
    assert registration.dife_amount == Decimal("170.00")
    assert rights_rules.commune_share(
        funding=registration.funding,
        tuition=registration.tuition_cost,
        travel=registration.travel_cost,
        dife_amount=registration.dife_amount,
    ) == Decimal("0.00")


# Session changes -----------------------------------------------------------------------------------


def session_input(session, **changes) -> SessionInput:
    values = {
        "training_id": session.training_id,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "registration_deadline": session.registration_deadline,
        "capacity": session.capacity,
        "place": session.place,
        "remote_url": session.remote_url,
        "quota_per_collectivite": session.quota_per_collectivite,
        "published": session.published,
        "prioritise_untrained": session.prioritise_untrained,
    }
    values.update(changes)
    return SessionInput(**values)


def test_capacity_below_the_seats_taken_is_a_conflict_and_nothing_changes(world):
    people = elus(world["a"], 6)
    fill(world["session"], people)
    session = fresh(TrainingSession, world["session"].id)
    with pytest.raises(ConflictError, match="ramener la capacité à 5 : 6 places"):
        update_session(session, session_input(session, capacity=5), world["staff"])
    db.session.rollback()
    assert fresh(TrainingSession, session.id).capacity == 10
    update_session(session, session_input(session, capacity=6), world["staff"])
    db.session.commit()
    assert fresh(TrainingSession, session.id).capacity == 6


def test_more_capacity_offers_the_new_seats_to_the_waiting_list(world):
    people = elus(world["a"], 13)
    registrations = fill(world["session"], people)
    session = fresh(TrainingSession, world["session"].id)
    update_session(session, session_input(session, capacity=12), world["staff"])
    db.session.commit()
    assert [fresh(Registration, r.id).status for r in registrations[10:]] == [
        Status.OFFERED,
        Status.OFFERED,
        Status.WAITING,
    ]


def test_moving_the_session_resends_the_invitation_with_a_higher_sequence_and_the_same_uid(world):
    (elu, waiting_elu) = elus(world["a"], 2)
    session = factories.training_session(world["training"], capacity=1, actor=world["staff"])
    db.session.commit()
    registration = register(session, elu)
    register(session, waiting_elu)
    session = fresh(TrainingSession, session.id)
    # Only the capacity changes: no new invitation.
    update_session(session, session_input(session, place="Maison des communes, Agen"), world["staff"])
    db.session.commit()
    assert fresh(TrainingSession, session.id).sequence == 0 and len(invitations(elu)) == 1
    new_start = session.starts_at + 2 * D + 2 * H
    update_session(
        session,
        session_input(session, starts_at=new_start, ends_at=new_start + 3 * H, place="Mairie de Layrac"),
        world["staff"],
    )
    db.session.commit()
    assert fresh(TrainingSession, session.id).sequence == 1
    training_registrations.cancel(fresh(Registration, registration.id), elu)
    db.session.commit()
    (type_1, cal_1, first), (type_2, cal_2, moved), (type_3, cal_3, cancelled) = invitations(elu)
    assert [cal_1["METHOD"], cal_2["METHOD"], cal_3["METHOD"]] == ["REQUEST", "REQUEST", "CANCEL"]
    assert ["method=REQUEST" in type_1, "method=REQUEST" in type_2, "method=CANCEL" in type_3] == [True] * 3
    assert len({str(first["UID"]), str(moved["UID"]), str(cancelled["UID"])}) == 1
    assert first["SEQUENCE"] < moved["SEQUENCE"] < cancelled["SEQUENCE"]
    assert moved.decoded("DTSTART") == new_start and str(moved["LOCATION"]) == "Mairie de Layrac"
    assert cancelled.decoded("DTSTART") == new_start
    assert notes(elu)[1].title.startswith("Session modifiée")
    assert invitations(waiting_elu) == []  # never invited, nothing to update


def test_cancelling_a_session_cancels_everyone_and_sends_cancel_invitations(world):
    people = elus(world["a"], 11)
    fill(world["session"], people)
    session = fresh(TrainingSession, world["session"].id)
    assert cancel_session(session, world["staff"], "formateur indisponible") == 11
    db.session.commit()
    assert set(statuses(session).values()) == {Status.CANCELLED}
    assert fresh(TrainingSession, session.id).cancelled_at is not None
    (_, _, request), (_, cal, cancelled) = invitations(people[0])
    assert cal["METHOD"] == "CANCEL" and str(cancelled["UID"]) == str(request["UID"])
    assert "formateur indisponible" in notes(people[10])[-1].body
    with pytest.raises(DomainError, match="annulée"):
        training_registrations.register(fresh(TrainingSession, session.id), people[0].mandate, people[0])
    db.session.rollback()
    with pytest.raises(ConflictError):
        cancel_session(fresh(TrainingSession, session.id), world["staff"], "encore")
    db.session.rollback()


# Reminders ----------------------------------------------------------------------------------------


def test_reminders_seven_days_and_one_day_before_are_sent_once_each(world):
    (elu, late_elu) = elus(world["a"], 2)
    session = world["session"]
    register(session, elu)
    # Registered five days before: the confirmation stands for J-7; J-1 is still owed.
    register(fresh(TrainingSession, session.id), late_elu, now=session.starts_at - 5 * D)
    j7 = session.starts_at - 7 * D + H
    assert notices.send_reminders(now=j7) == 1
    db.session.commit()
    assert notices.send_reminders(now=j7 + H) == 0
    db.session.commit()
    j1 = session.starts_at - D + H
    assert notices.send_reminders(now=j1) == 2
    db.session.commit()
    assert notices.send_reminders(now=j1 + H) == 0
    db.session.commit()
    assert [n.title.split(" — ")[0] for n in notes(elu)] == [
        "Inscription confirmée",
        "Rappel : formation dans une semaine",
        "Rappel : formation demain",
    ]
    assert [n.title.split(" — ")[0] for n in notes(late_elu)] == ["Inscription confirmée", "Rappel : formation demain"]
    sent = dict(db.session.execute(select(Registration.mandate_id, Registration.reminders_sent)).all())
    assert sent == {elu.mandate.id: "j7,j1", late_elu.mandate.id: "j1"}


# Attendance, attestations and rights -----------------------------------------------------------------


def _past_session(world, *, hours=7, mandate_start=None, delegation=True):
    """A session that took place last week, with two registered élus of commune A."""
    staff = world["staff"]
    start = datetime.combine(date.today() - timedelta(days=7), datetime.min.time(), tzinfo=UTC) + 7 * H
    training = factories.training("Budget communal", hours=str(hours), cost="200.00", actor=staff)
    session = factories.training_session(training, starts_at=start, hours=hours, actor=staff, now=start - 30 * D)
    present = factories.elu(
        world["a"], "Jeanne Présente", delegation=delegation, mandate_start=mandate_start or date.today() - 60 * D
    )
    absent = factories.elu(world["a"], "Paul Absent")
    db.session.commit()
    registrations = [
        training_registrations.register(
            session,
            person.mandate,
            person,
            data=training_registrations.RegistrationInput(leave_days=Decimal("1"), travel_cost=Decimal("25.00")),
            now=start - 20 * D,
        )
        for person in (present, absent)
    ]
    db.session.commit()
    return session, (present, absent), registrations


def test_attendance_is_only_marked_once_the_session_started(world):
    session = world["session"]
    with pytest.raises(DomainError, match="une fois la session commencée"):
        mark_attendance(session, set(), world["staff"])
    db.session.rollback()


def test_attendance_and_the_emailed_pdf_attestation(world, smtp_sink):
    session, (present, absent), (reg_present, reg_absent) = _past_session(world)
    assert mark_attendance(session, {reg_present.id}, world["staff"], now=session.starts_at + 8 * H) == 2
    db.session.commit()  # eager Celery: the attestations task runs after this commit
    assert fresh(Registration, reg_present.id).status == Status.PRESENT
    assert fresh(Registration, reg_absent.id).status == Status.ABSENT
    assert fresh(Registration, reg_present.id).attestation_sent_at is not None
    assert fresh(Registration, reg_absent.id).attestation_sent_at is None
    with_pdf = [m for m in smtp_sink.messages if "Attestation de présence" in str(m["Subject"])]
    assert len(with_pdf) == 1 and present.email in str(with_pdf[0]["To"])
    (attachment,) = [part for part in with_pdf[0].iter_attachments() if part.get_content_type() == "application/pdf"]
    assert attachment.get_filename() == f"attestation-formation-{reg_present.id}.pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(attachment.get_content())).pages)
    text = " ".join(text.split())
    assert "Jeanne Présente" in text and "Budget communal" in text and "7 h" in text
    # A second sweep sends nothing more.
    from portal.training.tasks import send_attestations

    assert send_attestations.apply(args=[session.id]).get() == 0


def test_sign_in_sheet_pdf_lists_the_participants(world):
    from portal.training.documents import sign_in_sheet_pdf

    session, (present, absent), registrations = _past_session(world)
    data = sign_in_sheet_pdf(session, registrations)
    text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())
    assert "Jeanne Présente" in text and "Paul Absent" in text and "Budget communal" in text


def test_rights_of_an_elu_hours_leave_days_and_first_year(world):
    session, (present, absent), (reg_present, reg_absent) = _past_session(world, mandate_start=date.today() - 60 * D)
    before = rights_for(present.mandate)
    assert before.first_year == rights_rules.FirstYear.OWED and before.hours_trained == 0
    assert before.first_year_label == f"Due : formation à suivre avant le {date_fr(before.first_year_deadline)}"
    assert fresh(Registration, reg_present.id).first_year and fresh(Registration, reg_present.id).delegation_held
    assert before.leave_days_booked == Decimal("1") and before.leave_days_left == Decimal("23")
    mark_attendance(session, {reg_present.id}, world["staff"], now=session.starts_at + 8 * H)
    db.session.commit()
    present_rights = rights_for(fresh(type(present.mandate), present.mandate.id))
    assert present_rights.hours_trained == Decimal("7")
    assert present_rights.first_year == rights_rules.FirstYear.DONE
    assert present_rights.leave_days_taken == Decimal("1") and present_rights.leave_days_left == Decimal("23")
    assert present_rights.dife_acquired == Decimal("400")  # credited at the start of the first year of mandate
    absent_rights = rights_for(fresh(type(absent.mandate), absent.mandate.id))
    assert absent_rights.hours_trained == 0 and absent_rights.first_year == rights_rules.FirstYear.NOT_CONCERNED
    assert absent_rights.leave_days_taken == 0  # absent: no leave taken
    # A year and a day later without training the first-year training would be missed.
    (late,) = [factories.elu(world["a"], "Tardif", delegation=True, mandate_start=date.today() - 400 * D)]
    db.session.commit()
    rights = rights_for(late.mandate)
    assert rights.first_year == rights_rules.FirstYear.MISSED and rights.dife_acquired == Decimal(
        "800"
    )  # two years begun


def test_commune_year_spending_and_budget_bounds(world):
    session, (present, absent), (reg_present, reg_absent) = _past_session(world)
    mark_attendance(session, {reg_present.id}, world["staff"], now=session.starts_at + 8 * H)
    (future_elu,) = elus(world["a"], 1, "Futur")
    register(world["session"], future_elu, data=training_registrations.RegistrationInput(travel_cost=Decimal("10.00")))
    year = session.starts_at.astimezone(PARIS).year
    save_budget(world["a"], year, Decimal("2000.00"), Decimal("50000.00"), "DCM 2026-12", world["staff"])
    db.session.commit()
    summary = commune_year(world["a"], year)
    # Present and absent both count as spent (the seat is invoiced): 2 × (200 + 25).
    assert summary.spent == Decimal("450.00")
    # Registered for a coming session: committed, not spent, in the year of that session.
    future_year = world["session"].starts_at.astimezone(PARIS).year
    assert commune_year(world["a"], future_year).committed == Decimal("160.00")
    if future_year != year:
        assert summary.committed == 0
    # The 2 % and 20 % bounds of the base entered with the credits, as the page shows them.
    bounds = commune_budget(world["a"].id, year)
    assert (bounds.floor, bounds.ceiling) == (Decimal("1000.00"), Decimal("10000.00"))
    assert summary.remaining == summary.budget.amount - summary.spent - summary.committed
    hours = {m.user.full_name: h for m, h in summary.elus}
    assert hours["Jeanne Présente"] == Decimal("7") and hours["Paul Absent"] == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "training.budget")) == 1
    # Saving again updates the same row.
    save_budget(world["a"], year, Decimal("2500.00"), None, "", world["staff"])
    db.session.commit()
    summary = commune_year(world["a"], year)
    assert summary.budget.amount == Decimal("2500.00") and commune_budget(world["a"].id, year).floor is None
    with pytest.raises(DomainError, match="positif"):
        save_budget(world["a"], year, Decimal("-1"), None, None, world["staff"])
    db.session.rollback()


# Bodies and sessions -----------------------------------------------------------------------------


def test_a_body_whose_agrement_lapsed_cannot_open_sessions(world):
    staff = world["staff"]
    lapsed = factories.training_body(
        "Ancien organisme", agrement_from=date(2018, 1, 1), agrement_until=date.today() - D, actor=staff
    )
    training = factories.training("Urbanisme", body=lapsed, actor=staff)
    db.session.commit()
    with pytest.raises(DomainError, match="agrément .* n'est pas valide"):
        factories.training_session(training, actor=staff)
    db.session.rollback()
    draft = factories.training_session(training, published=False, actor=staff)  # a draft may be prepared
    assert draft.id is not None
    with pytest.raises(ConflictError, match="porte déjà ce nom"):
        factories.training_body("ancien ORGANISME", actor=staff)
    db.session.rollback()


def test_session_input_checks(world):
    training, staff = world["training"], world["staff"]
    start = utcnow() + 20 * D
    base = {"training_id": training.id, "starts_at": start, "ends_at": start + 3 * H, "capacity": 10}
    cases = [
        ({"ends_at": start}, "La fin de la session doit suivre son début"),
        ({"registration_deadline": start + H}, "doit précéder le début"),
        ({"place": " ", "remote_url": None}, "lieu ou un lien"),
        ({"quota_per_collectivite": 0}, "au moins une place"),
        ({"quota_per_collectivite": 11}, "ne peut pas dépasser la capacité"),
        ({"capacity": 0, "quota_per_collectivite": None}, "au moins une place"),
        ({"starts_at": utcnow() - H, "ends_at": utcnow() + H, "registration_deadline": utcnow() - 2 * H}, "futur"),
    ]
    for changes, message in cases:
        values = {**base, "registration_deadline": start - D, "place": "Agen", **changes}
        with pytest.raises(DomainError, match=message):
            create_session(SessionInput(**values), staff)
        db.session.rollback()


# Emails received by a real SMTP server -------------------------------------------------------------


def received(smtp_sink, user, subject: str) -> list:
    return [m for m in smtp_sink.messages if user.email in str(m["To"]) and subject in str(m["Subject"])]


def ics_part(message):
    (part,) = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    return part


def test_invitation_and_cancellation_emails_carry_text_calendar_with_their_method(world, smtp_sink):
    (elu,) = elus(world["a"], 1)
    registration = register(world["session"], elu)
    (confirmation,) = received(smtp_sink, elu, "Inscription confirmée")
    # Parsed again from the bytes the server received, with the standard email package.
    confirmation = email.message_from_bytes(confirmation.as_bytes(), policy=email.policy.default)
    part = ics_part(confirmation)
    assert part.get_param("method") == "REQUEST" and part.get_content_charset() == "utf-8"
    assert part.get_filename() == "invitation.ics"
    request = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert request["METHOD"] == "REQUEST"
    (event,) = request.walk("VEVENT")
    assert str(event["UID"]).startswith(fresh(Registration, registration.id).uid)
    assert confirmation.get_body(("plain",)).get_content().startswith(f"Bonjour {elu.full_name}")

    training_registrations.cancel(fresh(Registration, registration.id), elu)
    db.session.commit()
    (cancellation,) = received(smtp_sink, elu, "Inscription annulée")
    part = ics_part(email.message_from_bytes(cancellation.as_bytes(), policy=email.policy.default))
    assert part.get_param("method") == "CANCEL" and part.get_filename() == "annulation.ics"
    cancelled = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    (cancelled_event,) = cancelled.walk("VEVENT")
    assert cancelled["METHOD"] == "CANCEL"
    assert str(cancelled_event["UID"]) == str(event["UID"])
    assert cancelled_event["SEQUENCE"] > event["SEQUENCE"]


def test_an_offered_seat_is_emailed(world, smtp_sink):
    people = elus(world["a"], 11)
    registrations = fill(world["session"], people)
    assert received(smtp_sink, people[10], "Inscription en liste d'attente")
    training_registrations.cancel(fresh(Registration, registrations[0].id), people[0])
    db.session.commit()
    (offer,) = received(smtp_sink, people[10], "Une place vous est proposée")
    text = offer.get_body(("plain",)).get_content()
    assert "Confirmez-la avant le" in text and "Élu Numérique Rural" in text
    expires = fresh(Registration, registrations[10].id).offer_expires_at
    flat = " ".join(text.split())  # every kind of space as one
    assert f"Confirmez-la avant le {' '.join(notices.local_time(expires).split())} ;" in flat
    assert re.search(r"avant le (1er|\d{1,2}) \w+ \d{4} à \d{1,2} h", flat), "a long French date, not 01/12/2026"
    assert not [p for p in offer.iter_attachments() if p.get_content_type() == "text/calendar"]


def test_attachment_parts_keep_and_unquote_their_mime_parameters():
    part = mailer._attachment_part("text/calendar; method=REQUEST; charset=UTF-8")
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST" and part.get_param("charset") == "UTF-8"
    quoted = mailer._attachment_part('text/calendar; method="CANCEL"; charset="utf-8"')
    assert quoted.get_param("method") == "CANCEL" and quoted.get_param("charset") == "utf-8"
    assert mailer._attachment_part("application/pdf").get_content_type() == "application/pdf"
    assert mailer._attachment_part("weird").get_content_type() == "weird/octet-stream"
