"""Training use cases: bodies, trainings and sessions; registrations, waiting list and offers; attendance.

Every change to a session's roster first takes the roster lock (:func:`lock_roster`), then reads the
counts and decides with :mod:`portal.training.rules`: on PostgreSQL the UPDATE holds the row lock until
commit, on SQLite it takes the database write lock, so concurrent requests are served one after the
other and the last seat goes to exactly one of them. Services only flush; the caller commits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from email.utils import parseaddr

from flask import current_app
from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts.models import Mandate, Person, Role, User
from portal.audit import services as audit
from portal.common.clock import PARIS, paris_today, utcnow
from portal.common.errors import ConflictError, DomainError
from portal.common.formatting import decimal_fr, money_fr, period_fr, plural_fr
from portal.common.inputs import year_problem
from portal.common.jobs import enqueue_after_commit
from portal.common.titles import agree, salutation
from portal.extensions import db
from portal.notifications.services import notify_person, person_recipients
from portal.registry.kinds import Kind
from portal.registry.models import Collectivite
from portal.registry.visibility import attached_collectivite_ids
from portal.training import calendar, rules
from portal.training.models import Registration, Training, TrainingBody, TrainingBudget, TrainingSession
from portal.training.rules import Funding, Status

ATTESTATIONS_TASK = "training.send_attestations"
CATEGORY = "training"
LIVE_STATUSES = [s.value for s in rules.ACTIVE]
SEAT_STATUSES = [s.value for s in rules.SEAT_HOLDING]


# Who may act for whom ---------------------------------------------------------------------------


def can_act_for(user, mandate: Mandate) -> bool:
    """Staff act for every élu; an élu for himself; a secretary for the élus of her collectivités."""
    if user.role == Role.STAFF:
        return True
    if user.role == Role.ELU:
        return user.person_id is not None and mandate.person_id == user.person_id
    if user.role == Role.SECRETARY:
        return any(c.id == mandate.collectivite_id for c in user.collectivites)
    return False


def mandates_for(user) -> Select:
    """The élus ``user`` may register, as a select of their current Mandate (joined to its Person and, when he
    has one, his account): with or without an account, except those whose account was deactivated."""
    statement = (
        select(Mandate)
        .join(Mandate.person)
        .outerjoin(Mandate.user)
        .where(Mandate.end_date.is_(None), or_(User.id.is_(None), User.active.is_(True)))
    )
    if user.role == Role.STAFF:
        return statement
    if user.role == Role.ELU:
        return statement.where(User.id == user.id)
    if user.role == Role.SECRETARY:
        return statement.where(Mandate.collectivite_id.in_(attached_collectivite_ids(user)))
    return statement.where(Mandate.id.is_(None))


def registrations_visible_to(user) -> Select:
    """Registrations ``user`` may see: staff all, an élu his own, a secretary those of her collectivités."""
    statement = select(Registration)
    if user.role == Role.STAFF:
        return statement
    if user.role == Role.ELU:
        # His registrations under every mandate he held.
        held = select(Mandate.id).where(Mandate.person_id == user.person_id)
        return statement.where(Registration.mandate_id.in_(held))
    if user.role == Role.SECRETARY:
        return statement.where(Registration.collectivite_id.in_(attached_collectivite_ids(user)))
    return statement.where(Registration.id.is_(None))


def sessions_visible_to(user) -> Select:
    """Sessions listed for ``user``: staff every one; others the published ones that are not cancelled."""
    statement = select(TrainingSession)
    if user.role == Role.STAFF:
        return statement
    return statement.where(TrainingSession.published.is_(True), TrainingSession.cancelled_at.is_(None))


def visible_session(user, session_id: int) -> TrainingSession | None:
    """The session if ``user`` may see it (else None, for a 404): staff every session; others the published
    ones, and a cancelled one only if it concerned them (one of the registrations they see was on it)."""
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        return None
    if user.role == Role.STAFF or session.published:
        return session
    if session.cancelled_at is None:
        return None
    concerned = db.session.scalar(
        registrations_visible_to(user)
        .where(Registration.session_id == session.id)
        .with_only_columns(Registration.id)
        .limit(1)
    )
    return session if concerned is not None else None


# Bodies, trainings, sessions --------------------------------------------------------------------


@dataclass
class BodyInput:
    name: str
    agrement_number: str
    agrement_from: date
    agrement_until: date
    contact_email: str | None = None


def save_body(data: BodyInput, actor, body: TrainingBody | None = None) -> TrainingBody:
    if data.agrement_until < data.agrement_from:
        raise DomainError("La fin de validité de l'agrément précède son début.", "agrement_until")
    duplicate = db.session.scalar(
        select(TrainingBody.id).where(func.lower(TrainingBody.name) == data.name.strip().lower())
    )
    if duplicate is not None and (body is None or duplicate != body.id):
        raise ConflictError("Un organisme de formation porte déjà ce nom.", "name")
    creating = body is None
    body = body or TrainingBody()
    body.name, body.agrement_number = data.name.strip(), data.agrement_number.strip()
    body.agrement_from, body.agrement_until = data.agrement_from, data.agrement_until
    body.contact_email = (data.contact_email or "").strip() or None
    db.session.add(body)
    db.session.flush()
    audit.record(
        "training.body_created" if creating else "training.body_updated",
        f"Organisme de formation « {body.name} » (agrément {body.agrement_number}, "
        f"du {body.agrement_from:%d/%m/%Y} au {body.agrement_until:%d/%m/%Y})",
        actor=actor,
        obj=body,
    )
    return body


@dataclass
class TrainingInput:
    title: str
    body_id: int
    duration_hours: Decimal
    cost_per_participant: Decimal
    objectives: str = ""
    programme: str = ""
    active: bool = True


def save_training(data: TrainingInput, actor, training: Training | None = None) -> Training:
    if db.session.get(TrainingBody, data.body_id) is None:
        raise DomainError("Choisissez un organisme de formation.", "body_id")
    if data.duration_hours is None or data.duration_hours <= 0:
        raise DomainError("La durée doit être d'au moins une heure.", "duration_hours")
    creating = training is None
    training = training or Training()
    training.title, training.body_id = data.title.strip(), data.body_id
    training.duration_hours, training.cost_per_participant = data.duration_hours, data.cost_per_participant
    training.objectives, training.programme, training.active = data.objectives, data.programme, data.active
    db.session.add(training)
    db.session.flush()
    audit.record(
        "training.training_created" if creating else "training.training_updated",
        f"Formation « {training.title} » ({training.duration_hours} h)",
        actor=actor,
        obj=training,
    )
    return training


@dataclass
class SessionInput:
    training_id: int
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    capacity: int
    place: str | None = None
    remote_url: str | None = None
    quota_per_collectivite: int | None = None
    published: bool = False
    prioritise_untrained: bool = False


def _check_session(data: SessionInput, training: Training | None, now: datetime) -> None:
    if training is None:
        raise DomainError("Choisissez une formation.", "training_id")
    if data.ends_at <= data.starts_at:
        raise DomainError("La fin de la session doit suivre son début.", "ends_at")
    if data.registration_deadline > data.starts_at:
        raise DomainError("La date limite d'inscription doit précéder le début de la session.", "registration_deadline")
    if not (data.place or "").strip() and not (data.remote_url or "").strip():
        raise DomainError("Indiquez un lieu ou un lien de connexion à distance.", "place")
    if data.quota_per_collectivite is not None and data.quota_per_collectivite < 1:
        raise DomainError("Le quota par collectivité doit être d'au moins une place.", "quota_per_collectivite")
    if data.quota_per_collectivite is not None and data.quota_per_collectivite > data.capacity:
        raise DomainError("Le quota par collectivité ne peut pas dépasser la capacité.", "quota_per_collectivite")
    body = training.body
    session_day = data.starts_at.astimezone(PARIS).date()
    today = now.astimezone(PARIS).date()
    if data.published and not (body.agrement_valid_on(today) and body.agrement_valid_on(session_day)):
        raise DomainError(
            f"L'agrément de l'organisme « {body.name} » (n° {body.agrement_number}) n'est pas valide "
            f"du {today:%d/%m/%Y} au {session_day:%d/%m/%Y} (valide du {body.agrement_from:%d/%m/%Y} "
            f"au {body.agrement_until:%d/%m/%Y}) : la session ne peut pas être ouverte.",
            "published",
        )


def create_session(data: SessionInput, actor, now: datetime | None = None) -> TrainingSession:
    now = now or utcnow()
    training = db.session.get(Training, data.training_id)
    _check_session(data, training, now)
    if data.capacity < 1:
        raise DomainError("La capacité doit être d'au moins une place.", "capacity")
    if data.starts_at <= now:
        raise DomainError("Une nouvelle session doit commencer dans le futur.", "starts_at")
    session = TrainingSession(
        training_id=training.id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        registration_deadline=data.registration_deadline,
        capacity=data.capacity,
        place=(data.place or "").strip() or None,
        remote_url=(data.remote_url or "").strip() or None,
        quota_per_collectivite=data.quota_per_collectivite,
        published=data.published,
        prioritise_untrained=data.prioritise_untrained,
    )
    db.session.add(session)
    db.session.flush()
    audit.record(
        "training.session_created", f"Session de « {training.title} » du {_when(session)}", actor=actor, obj=session
    )
    return session


def update_session(session: TrainingSession, data: SessionInput, actor, now: datetime | None = None) -> TrainingSession:
    """Change a session: a lower capacity never drops a seat already given; a new date or place
    re-sends the invitations with a higher SEQUENCE; new seats go to the waiting list."""
    now = now or utcnow()
    if session.cancelled_at is not None:
        raise DomainError("Cette session est annulée : elle ne peut plus être modifiée.")
    lock_roster(session.id)
    db.session.refresh(session)
    training = db.session.get(Training, data.training_id)
    _check_session(data, training, now)
    problem = rules.capacity_problem(data.capacity, roster(session.id).seats_taken)
    if problem:
        raise ConflictError(problem, "capacity")
    moved = (
        session.starts_at != data.starts_at
        or session.ends_at != data.ends_at
        or (session.place or None) != ((data.place or "").strip() or None)
        or (session.remote_url or None) != ((data.remote_url or "").strip() or None)
    )
    session.training_id = training.id
    session.starts_at, session.ends_at = data.starts_at, data.ends_at
    session.registration_deadline, session.capacity = data.registration_deadline, data.capacity
    session.place = (data.place or "").strip() or None
    session.remote_url = (data.remote_url or "").strip() or None
    session.quota_per_collectivite = data.quota_per_collectivite
    session.published, session.prioritise_untrained = data.published, data.prioritise_untrained
    if moved:
        session.sequence += 1
    db.session.flush()
    audit.record(
        "training.session_updated",
        f"Session de « {training.title} » du {_when(session)} modifiée" + (" (date ou lieu)" if moved else ""),
        actor=actor,
        obj=session,
    )
    if moved:
        for registration in _registrations(session.id, [Status.REGISTERED, Status.OFFERED, Status.WAITING]):
            if registration.status == Status.REGISTERED and registration.invitation_sent:
                registration.ics_sequence = max(registration.ics_sequence + 1, session.sequence)
                _send_invitation(registration, "REQUEST", now, updated=True)
                continue
            if registration.status == Status.OFFERED and registration.offer_expires_at:
                # An offer never outlives the new start.
                registration.offer_expires_at = min(
                    registration.offer_expires_at, max(now, session.starts_at - timedelta(hours=1))
                )
            _notify(
                registration,
                "Session modifiée",
                f"La session a changé : « {training.title} », le {_when(session)}, {_location(session)}. "
                f"Votre inscription reste {registration.status_label.lower()}.",
            )
    fill_freed_seats(session, now)
    return session


def cancel_session(session: TrainingSession, actor, reason: str, now: datetime | None = None) -> int:
    """Cancel a whole session: every live registration is cancelled and told so (with METHOD:CANCEL)."""
    now = now or utcnow()
    if session.cancelled_at is not None:
        raise ConflictError("Cette session est déjà annulée.")
    if session.starts_at <= now:
        raise DomainError("Une session commencée ou passée ne peut pas être annulée.")
    lock_roster(session.id)
    session.cancelled_at, session.published = now, False
    count = 0
    for registration in _registrations(session.id, [Status.REGISTERED, Status.WAITING, Status.OFFERED]):
        _cancel(registration, now, f"Session annulée par le CDG : {reason}".strip(" :"), notify_title="Session annulée")
        count += 1
    audit.record(
        "training.session_cancelled",
        f"Session du {_when(session)} annulée ({count} inscriptions)",
        actor=actor,
        obj=session,
    )
    return count


def trainings(active_only: bool = False) -> list[Training]:
    statement = select(Training).order_by(Training.title)
    if active_only:
        statement = statement.where(Training.active.is_(True))
    return list(db.session.scalars(statement))


def bodies() -> list[TrainingBody]:
    return list(db.session.scalars(select(TrainingBody).order_by(TrainingBody.name)))


# The roster -------------------------------------------------------------------------------------


def lock_roster(session_id: int) -> None:
    """Serialise roster changes of one session (see the module docstring)."""
    db.session.execute(
        update(TrainingSession)
        .where(TrainingSession.id == session_id)
        .values(roster_version=TrainingSession.roster_version + 1)
        .execution_options(synchronize_session=False)
    )


@dataclass
class Roster:
    seats_taken: int = 0
    waiting: int = 0
    by_status: Counter = field(default_factory=Counter)
    seats_by_body: dict[int, int] = field(default_factory=dict)
    waiting_by_body: dict[int, int] = field(default_factory=dict)


def roster(session_id: int) -> Roster:
    rows = db.session.execute(
        select(Registration.status, Registration.collectivite_id, func.count())
        .where(Registration.session_id == session_id, Registration.status != Status.CANCELLED)
        .group_by(Registration.status, Registration.collectivite_id)
    )
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


def _registrations(session_id: int, statuses) -> list[Registration]:
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
        _notify(
            registration,
            "Une place vous est proposée",
            f"Une place s'est libérée pour « {session.training.title} » du {_when(session)}. "
            f"Confirmez-la avant le {_local(expires)} ; sans réponse, elle sera proposée à la personne suivante.",
        )
    db.session.flush()
    return offered


# Registration -----------------------------------------------------------------------------------


@dataclass
class RegistrationInput:
    funding: str = Funding.COMMUNE
    travel_cost: Decimal = Decimal("0.00")
    dife_amount: Decimal = Decimal("0.00")
    leave_days: Decimal = Decimal("0.0")


def term_mandate_ids(mandate_id: int) -> Select:
    """The mandates whose registrations count with ``mandate_id``'s for the élu's rights, as a select of ids.

    Rights belong to the person, whatever the number of mandates he holds (CGCT L2123-13): they are those of
    his mandates that overlap this one in time (same term: a conseiller become adjoint, a seat in the
    communauté), not those of a term that ended before this one began.
    """
    this = select(Mandate).where(Mandate.id == mandate_id).subquery()
    return (
        select(Mandate.id)
        .join(this, Mandate.person_id == this.c.person_id)
        .where(
            or_(Mandate.end_date.is_(None), Mandate.end_date > this.c.start_date),
            or_(this.c.end_date.is_(None), Mandate.start_date < this.c.end_date),
        )
    )


def leave_days_booked(mandate_id: int, excluding: int | None = None) -> Decimal:
    """Training-leave days taken or booked by the élu in this term (present, registered, offered, waiting),
    across all his mandates of the term (:func:`term_mandate_ids`)."""
    statement = select(func.coalesce(func.sum(Registration.leave_days), 0)).where(
        Registration.mandate_id.in_(term_mandate_ids(mandate_id)),
        Registration.status.in_([Status.PRESENT, Status.REGISTERED, Status.OFFERED, Status.WAITING]),
    )
    if excluding is not None:
        statement = statement.where(Registration.id != excluding)
    return Decimal(str(db.session.scalar(statement) or 0))


def _check_open(session: TrainingSession, now: datetime) -> None:
    closed = rules.registration_closed_reason(
        now=now,
        starts_at=session.starts_at,
        deadline=session.registration_deadline,
        published=session.published,
        cancelled=session.cancelled_at is not None,
    )
    if closed:
        raise DomainError(closed)


def _check_leave_days(mandate: Mandate, data: RegistrationInput) -> None:
    problem = rules.leave_days_problem(
        used=leave_days_booked(mandate.id),
        requested=data.leave_days or Decimal(0),
        ceiling=rules.leave_days_ceiling(paris_today()),
    )
    if problem:
        raise DomainError(problem, "leave_days")


def register(
    session: TrainingSession,
    mandate: Mandate,
    actor,
    data: RegistrationInput | None = None,
    now: datetime | None = None,
    *,
    waiting_list_allowed: bool = True,
) -> Registration:
    """Register an élu to a session: a seat if one is free, else the waiting list (or, when
    ``waiting_list_allowed`` is false, a ConflictError: the API's ``liste_attente: false``)."""
    clock_given = now is not None
    now = now or utcnow()
    data = data or RegistrationInput()
    if not can_act_for(actor, mandate):
        raise DomainError("Vous ne pouvez inscrire que les élus de votre commune.")
    _check_open(session, now)
    tuition = session.training.cost_per_participant
    dife = data.dife_amount or Decimal(0)
    if data.funding == Funding.DIFE:
        dife = rules.registration_cost(tuition=tuition, travel=data.travel_cost or Decimal(0))
    problem = rules.funding_problem(
        funding=data.funding, tuition=tuition, travel=data.travel_cost or Decimal(0), dife_amount=dife
    )
    if problem:
        raise DomainError(problem, "funding")
    if dife:
        problem = rules.dife_problem(requested=dife, balance=rights_for(mandate).dife_estimate)
        if problem:
            raise DomainError(problem, "dife_amount" if data.funding == Funding.BOTH else "funding")
    takes_leave = (data.leave_days or 0) > 0  # no leave asked: nothing to count (the usual case, kept cheap)
    if takes_leave:
        _check_leave_days(mandate, data)

    lock_roster(session.id)
    # The session row read before the lock may be stale (capacity or quota changed since): read it under the lock.
    db.session.refresh(session)
    _check_open(session, now)  # it may have been cancelled or closed while this request waited for the lock
    # The leave days count across sessions and mandates, whose locks differ: the person row is locked too
    # (PostgreSQL; SQLite already holds its single write lock), then the days are counted again.
    if takes_leave:
        db.session.execute(select(Person.id).where(Person.id == mandate.person_id).with_for_update())
        _check_leave_days(mandate, data)
    if not clock_given:
        # First in, first out follows the order the lock is granted in: a request that started earlier but
        # waited for the lock must not be stamped before one already served (its told position would be wrong).
        now = utcnow()
    already = db.session.scalar(
        select(Registration).where(
            Registration.session_id == session.id,
            Registration.mandate_id == mandate.id,
            Registration.status.in_(LIVE_STATUSES),
        )
    )
    if already is not None:
        raise ConflictError(
            f"{mandate.person.full_name} est déjà {agree('inscrit', mandate.person.sex)} à cette session "
            f"({already.status_label.lower()})."
        )
    counts = roster(session.id)
    status = rules.status_for_request(
        capacity=session.capacity,
        seats_taken=counts.seats_taken,
        waiting=rules.waiting_ahead(
            waiting_by_body=counts.waiting_by_body,
            seats_by_body=counts.seats_by_body,
            quota=session.quota_per_collectivite,
        ),
        quota=session.quota_per_collectivite,
        taken_by_body=counts.seats_by_body.get(mandate.collectivite_id, 0),
    )
    if status == Status.WAITING and not waiting_list_allowed:  # decided under the lock, like the seat itself
        if counts.seats_taken < session.capacity and session.quota_per_collectivite is not None:
            taken = counts.seats_by_body.get(mandate.collectivite_id, 0)
            if taken >= session.quota_per_collectivite:
                quota = plural_fr(session.quota_per_collectivite, "place", "places")
                raise ConflictError(
                    f"Le quota de {quota} par collectivité est atteint pour {mandate.collectivite.name} "
                    "sur cette session."
                )
        raise ConflictError("La session est complète.")
    session_day = session.starts_at.astimezone(PARIS).date()
    registration = Registration(
        session_id=session.id,
        mandate_id=mandate.id,
        collectivite_id=mandate.collectivite_id,
        status=status,
        waiting_since=now,
        registered_at=now if status == Status.REGISTERED else None,
        registered_by_id=actor.id,
        delegation_held=mandate.has_delegation,
        first_year=rules.is_first_year_training(
            has_delegation=mandate.has_delegation, mandate_start=mandate.start_date, session_day=session_day
        ),
        funding=data.funding,
        tuition_cost=tuition,
        travel_cost=data.travel_cost or Decimal(0),
        dife_amount=dife,
        leave_days=data.leave_days or Decimal(0),
        ics_sequence=session.sequence,
    )
    try:
        with db.session.begin_nested():
            db.session.add(registration)
            db.session.flush()
    except IntegrityError as exc:  # the unique index: a duplicate that slipped past the check
        raise ConflictError(
            f"{mandate.person.full_name} est déjà {agree('inscrit', mandate.person.sex)} à cette session."
        ) from exc
    registration.session = session
    on_behalf = "" if mandate.person_id == actor.person_id else f" par {actor.full_name}"
    audit.record(
        "training.registered" if status == Status.REGISTERED else "training.waiting_listed",
        f"{mandate.person.full_name} ({mandate.collectivite.name}) {registration.status_label.lower()} à "
        f"« {session.training.title} » du {_when(session)}{on_behalf}",
        actor=actor,
        obj=registration,
    )
    if status == Status.REGISTERED:
        _send_invitation(registration, "REQUEST", now)
    else:
        position = waiting_positions(session).get(registration.id)
        _notify(
            registration,
            "Inscription en liste d'attente",
            f"La session de « {session.training.title} » du {_when(session)} est complète. "
            f"Vous êtes en position {position} sur la liste d'attente : si une place se libère, "
            "elle vous sera proposée par courriel.",
        )
    return registration


def accept_offer(registration: Registration, actor, now: datetime | None = None) -> Registration:
    now = now or utcnow()
    if not can_act_for(actor, registration.mandate):
        raise DomainError("Vous ne pouvez pas répondre pour cet élu.")
    lock_roster(registration.session_id)
    db.session.refresh(registration)
    db.session.refresh(registration.session)  # the invitation describes the session as it is now (moved?)
    if registration.status != Status.OFFERED:
        raise ConflictError("Aucune place n'est proposée pour cette inscription.")
    if rules.offer_expired(registration.offer_expires_at, now):
        raise ConflictError(
            "Le délai pour confirmer cette place est dépassé : elle a été proposée à quelqu'un d'autre."
        )
    registration.status, registration.registered_at = Status.REGISTERED, now
    registration.offer_expires_at = None
    audit.record(
        "training.offer_accepted",
        f"Place confirmée par {actor.full_name} ({_who(registration)})",
        actor=actor,
        obj=registration,
    )
    _send_invitation(registration, "REQUEST", now)
    return registration


def cancel(registration: Registration, actor, reason: str = "", now: datetime | None = None) -> Registration:
    """Cancel a registration (or decline an offered seat); a freed seat goes to the waiting list."""
    now = now or utcnow()
    session = registration.session
    if not can_act_for(actor, registration.mandate):
        raise DomainError("Vous ne pouvez pas annuler l'inscription de cet élu.")
    by_staff = actor.role == Role.STAFF

    def check_window() -> None:
        if not rules.can_cancel(
            now=now,
            deadline=session.registration_deadline,
            starts_at=session.starts_at,
            by_staff=by_staff,
            offered=registration.status == Status.OFFERED,
        ):
            raise DomainError(
                "La date limite d'inscription est passée : pour annuler, contactez le CDG."
                if not by_staff
                else "La session a commencé : marquez plutôt l'élu absent sur la feuille d'émargement."
            )

    check_window()
    lock_roster(session.id)
    db.session.refresh(registration)
    db.session.refresh(session)
    check_window()  # the offer may have been accepted meanwhile: a registered seat follows the deadline
    if registration.status not in (Status.REGISTERED, Status.WAITING, Status.OFFERED):
        raise ConflictError(f"Cette inscription ne peut plus être annulée ({registration.status_label.lower()}).")
    held = registration.holds_seat
    declined = registration.status == Status.OFFERED
    who = "" if registration.mandate.person_id == actor.person_id else f" par {actor.full_name}"
    _cancel(
        registration,
        now,
        reason or ("Place proposée déclinée" if declined else f"Annulée{who}"),
        notify_title="Place déclinée" if declined else "Inscription annulée",
    )
    audit.record(
        "training.cancelled", f"Inscription annulée{who} ({_who(registration)})", actor=actor, obj=registration
    )
    if held:
        fill_freed_seats(session, now)
    return registration


def _cancel(registration: Registration, now: datetime, reason: str, notify_title: str) -> None:
    registration.status, registration.cancelled_at, registration.cancel_reason = Status.CANCELLED, now, reason
    registration.offer_expires_at = None
    session = registration.session
    body = f"Votre inscription à « {session.training.title} » du {_when(session)} est annulée. Motif : {reason}."
    if registration.invitation_sent:
        registration.ics_sequence += 1
        _send_invitation(registration, "CANCEL", now, title=notify_title, body=body)
    else:
        _notify(registration, notify_title, body)
    db.session.flush()


def expire_offers(now: datetime | None = None) -> int:
    """Cancel the offers not confirmed in time and offer the seats to the next ones. Safe to run twice."""
    now = now or utcnow()
    due = db.session.execute(
        select(Registration.id, Registration.session_id).where(
            Registration.status == Status.OFFERED, Registration.offer_expires_at <= now
        )
    ).all()
    expired = 0
    for session_id in sorted({row.session_id for row in due}):
        lock_roster(session_id)
        session = db.session.get(TrainingSession, session_id, populate_existing=True)  # as it is under the lock
        for registration in _registrations(session_id, [Status.OFFERED]):
            if not rules.offer_expired(registration.offer_expires_at, now):
                continue
            _cancel(registration, now, "place proposée non confirmée dans le délai", notify_title="Offre expirée")
            audit.record("training.offer_expired", f"Offre expirée ({_who(registration)})", obj=registration)
            expired += 1
        fill_freed_seats(session, now)
        db.session.commit()  # one session at a time: the lock is held as briefly as possible
    return expired


def send_reminders(now: datetime | None = None) -> int:
    """Reminders 7 days and 1 day before a session, each sent once (recorded with the outbox row)."""
    now = now or utcnow()
    registrations = db.session.scalars(
        select(Registration)
        .join(TrainingSession)
        .options(joinedload(Registration.session))
        .where(
            Registration.status == Status.REGISTERED,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.starts_at > now,
            TrainingSession.starts_at <= now + max(rules.REMINDERS.values()),
        )
    )
    sent = 0
    for registration in registrations:
        session = registration.session
        already = [code for code in registration.reminders_sent.split(",") if code]
        for code in rules.due_reminders(
            starts_at=session.starts_at,
            registered_at=registration.registered_at or registration.created_at,
            now=now,
            sent=already,
        ):
            when = "dans une semaine" if code == "j7" else "demain"
            sent_now = ",".join([*already, code])
            # A guarded UPDATE: a second run at the same time (two beats, a slow run) finds the flag changed.
            claimed = db.session.execute(
                update(Registration)
                .where(Registration.id == registration.id, Registration.reminders_sent == registration.reminders_sent)
                .values(reminders_sent=sent_now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed != 1:
                continue
            set_committed_value(registration, "reminders_sent", sent_now)
            _notify(
                registration,
                f"Rappel : formation {when}",
                f"« {session.training.title} » a lieu {when}, le {_when(session)}, {_location(session)}.",
            )
            sent += 1
    db.session.flush()
    return sent


# Attendance -------------------------------------------------------------------------------------


def mark_attendance(session: TrainingSession, present_ids: set[int], actor, now: datetime | None = None) -> int:
    """Record who attended; attestations are then produced and sent by a job."""
    now = now or utcnow()
    if session.starts_at > now:
        raise DomainError("L'émargement n'est possible qu'une fois la session commencée.")
    lock_roster(session.id)
    changed = present = absent = 0
    for registration in _registrations(session.id, [Status.REGISTERED, Status.PRESENT, Status.ABSENT]):
        status = Status.PRESENT if registration.id in present_ids else Status.ABSENT
        if registration.status != status:
            registration.status = status
            changed += 1
        registration.attendance_marked_at = now
        present, absent = present + (status == Status.PRESENT), absent + (status == Status.ABSENT)
    session.attendance_closed_at = now
    db.session.flush()
    audit.record(
        "training.attendance",
        f"Émargement de la session du {_when(session)} : {plural_fr(present, 'présent', 'présents')}, "
        f"{plural_fr(absent, 'absent', 'absents')}",
        actor=actor,
        obj=session,
    )
    enqueue_after_commit(ATTESTATIONS_TASK, session.id)
    return changed


def claim_attestation(registration_id: int, now: datetime | None = None) -> bool:
    """Take the right to send one attestation (a guarded UPDATE: two workers never both send it)."""
    result = db.session.execute(
        update(Registration)
        .where(
            Registration.id == registration_id,
            Registration.status == Status.PRESENT,
            Registration.attestation_sent_at.is_(None),
        )
        .values(attestation_sent_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def attestations_due(session_id: int | None = None) -> list[int]:
    statement = select(Registration.id).where(
        Registration.status == Status.PRESENT, Registration.attestation_sent_at.is_(None)
    )
    if session_id is not None:
        statement = statement.where(Registration.session_id == session_id)
    return list(db.session.scalars(statement.order_by(Registration.id)))


def send_attestation(registration: Registration, pdf: tuple[str, str, bytes]) -> None:
    session = registration.session
    _notify(
        registration,
        "Attestation de présence",
        f"Vous trouverez ci-joint l'attestation de votre présence à « {session.training.title} » "
        f"du {_when(session)} ({_hours(session.hours)}).",
        attachments=[pdf],
    )


# Rights and budgets -----------------------------------------------------------------------------


@dataclass
class Rights:
    mandate: Mandate
    registrations: list[Registration]
    hours_trained: Decimal
    first_year: rules.FirstYear
    first_year_deadline: date
    leave_days_taken: Decimal
    leave_days_booked: Decimal
    leave_days_left: Decimal
    leave_days_ceiling: Decimal
    dife_acquired: Decimal
    dife_used: Decimal
    dife_estimate: Decimal

    @property
    def first_year_label(self) -> str:
        return rules.FIRST_YEAR_LABELS[self.first_year].format(deadline=f"{self.first_year_deadline:%d/%m/%Y}")


def _facts(registration: Registration) -> rules.RegistrationFacts:
    session = registration.session
    return rules.RegistrationFacts(
        status=registration.status,
        leave_days=registration.leave_days or Decimal(0),
        dife_amount=registration.dife_amount or Decimal(0),
        session_day=session.starts_at.astimezone(PARIS).date(),
        hours=session.hours,
    )


def rights_for(mandate: Mandate, today: date | None = None) -> Rights:
    """The élu's rights seen from ``mandate``: they follow the person across the mandates of the term
    (:func:`term_mandate_ids`); the first-year training is that of this mandate's term."""
    today = today or paris_today()
    pooled = term_mandate_ids(mandate.id)
    registrations = list(
        db.session.scalars(
            select(Registration)
            .join(TrainingSession)
            .options(joinedload(Registration.session))
            .where(Registration.mandate_id.in_(pooled))
            .order_by(TrainingSession.starts_at.desc(), Registration.id.desc())
        )
    )
    # DIFE is credited per élu, from the start of his mandates held without a break.
    spans = db.session.execute(
        select(Mandate.start_date, Mandate.end_date).where(Mandate.person_id == mandate.person_id)
    ).all()
    summary = rules.rights_summary(
        has_delegation=mandate.has_delegation,
        mandate_start=mandate.start_date,
        spans=[tuple(span) for span in spans],
        registrations=[_facts(r) for r in registrations],
        today=today,
    )
    return Rights(
        mandate=mandate,
        registrations=registrations,
        hours_trained=summary.hours_trained,
        first_year=summary.first_year,
        first_year_deadline=summary.first_year_deadline,
        leave_days_taken=summary.leave_days_taken,
        leave_days_booked=summary.leave_days_booked,
        leave_days_left=summary.leave_days_left,
        leave_days_ceiling=summary.leave_days_ceiling,
        dife_acquired=summary.dife_acquired,
        dife_used=summary.dife_used,
        dife_estimate=summary.dife_estimate,
    )


def rights_of_many(mandates: list[Mandate], today: date | None = None) -> dict[int, rules.RightsSummary]:
    """The rights of many élus at once (a council), mandate id -> summary, computed as :func:`rights_for` does
    (:func:`rules.rights_summary`) in two queries whatever their number: their persons' mandates, then the
    registrations of those mandates."""
    today = today or paris_today()
    if not mandates:
        return {}
    spans_by_person: dict[int, list[tuple[int, date, date | None]]] = {}
    for row in db.session.execute(
        select(Mandate.id, Mandate.person_id, Mandate.start_date, Mandate.end_date).where(
            Mandate.person_id.in_({m.person_id for m in mandates})
        )
    ):
        spans_by_person.setdefault(row.person_id, []).append((row.id, row.start_date, row.end_date))
    facts: dict[int, list[rules.RegistrationFacts]] = {}
    mandate_ids = [mid for spans in spans_by_person.values() for mid, _start, _end in spans]
    for row in db.session.execute(
        select(
            Registration.mandate_id,
            Registration.status,
            Registration.leave_days,
            Registration.dife_amount,
            TrainingSession.starts_at,
            Training.duration_hours,
        )
        .join(TrainingSession, Registration.session_id == TrainingSession.id)
        .join(Training, TrainingSession.training_id == Training.id)
        .where(Registration.mandate_id.in_(mandate_ids), Registration.status != Status.CANCELLED)
    ):
        facts.setdefault(row.mandate_id, []).append(
            rules.RegistrationFacts(
                status=row.status,
                leave_days=row.leave_days or Decimal(0),
                dife_amount=row.dife_amount or Decimal(0),
                session_day=row.starts_at.astimezone(PARIS).date(),
                hours=row.duration_hours,
            )
        )
    result = {}
    for mandate in mandates:
        spans = spans_by_person.get(mandate.person_id, [])
        pooled = [
            fact
            for mid, start, end in spans
            if rules.same_term(mandate.start_date, mandate.end_date, start, end)
            for fact in facts.get(mid, [])
        ]
        result[mandate.id] = rules.rights_summary(
            has_delegation=mandate.has_delegation,
            mandate_start=mandate.start_date,
            spans=[(start, end) for _mid, start, end in spans],
            registrations=pooled,
            today=today,
        )
    return result


@dataclass
class CommuneYear:
    body: Collectivite
    year: int
    registrations: list[Registration]
    budget: TrainingBudget | None
    spent: Decimal
    committed: Decimal
    bounds: tuple[Decimal, Decimal] | None
    elus: list[tuple[Mandate, Decimal]]

    @property
    def remaining(self) -> Decimal | None:
        return None if self.budget is None else self.budget.amount - self.spent - self.committed


def year_bounds(year: int) -> tuple[datetime, datetime]:
    start = datetime(year, 1, 1, tzinfo=PARIS)
    return start, datetime(year + 1, 1, 1, tzinfo=PARIS)


def year_registrations(body_id: int, year: int) -> list[Registration]:
    start, end = year_bounds(year)
    return list(
        db.session.scalars(
            select(Registration)
            .join(TrainingSession)
            .options(joinedload(Registration.session), joinedload(Registration.mandate).joinedload(Mandate.user))
            .where(
                Registration.collectivite_id == body_id,
                Registration.status.in_([Status.PRESENT, Status.ABSENT, Status.REGISTERED, Status.OFFERED]),
                TrainingSession.starts_at >= start,
                TrainingSession.starts_at < end,
            )
            .order_by(TrainingSession.starts_at, Registration.id)
        )
    )


def commune_year(body: Collectivite, year: int) -> CommuneYear:
    registrations = year_registrations(body.id, year)

    def share(r: Registration) -> Decimal:
        return rules.commune_share(
            funding=r.funding, tuition=r.tuition_cost, travel=r.travel_cost, dife_amount=r.dife_amount
        )

    # Absent élus: the training body usually invoices the seat, so it stays in the spending.
    spent = sum((share(r) for r in registrations if r.status in (Status.PRESENT, Status.ABSENT)), Decimal(0))
    committed = sum((share(r) for r in registrations if r.status in (Status.REGISTERED, Status.OFFERED)), Decimal(0))
    budget = db.session.scalar(
        select(TrainingBudget).where(TrainingBudget.collectivite_id == body.id, TrainingBudget.year == year)
    )
    # Hours per person: an élu whose function changed during the year keeps the hours of his former row.
    hours: dict[int, Decimal] = {}
    for r in registrations:
        if r.status == Status.PRESENT:
            hours[r.mandate.person_id] = hours.get(r.mandate.person_id, Decimal(0)) + r.session.hours
    # Mandates held during the year, one per person (his latest function).
    latest: dict[int, Mandate] = {}
    for m in db.session.scalars(
        select(Mandate)
        .join(Mandate.person)
        .options(contains_eager(Mandate.person))
        .where(Mandate.collectivite_id == body.id, or_(Mandate.end_date.is_(None), Mandate.end_date > date(year, 1, 1)))
        .order_by(Person.family_name, Person.given_name, Mandate.id)
    ):
        latest[m.person_id] = m
    mandates = list(latest.values())
    return CommuneYear(
        body=body,
        year=year,
        registrations=registrations,
        budget=budget,
        spent=spent,
        committed=committed,
        bounds=rules.budget_bounds(budget.max_indemnities) if budget and budget.max_indemnities else None,
        elus=[(m, hours.get(m.person_id, Decimal(0))) for m in mandates],
    )


def save_budget(
    body: Collectivite, year: int, amount: Decimal, max_indemnities: Decimal | None, deliberation_ref: str | None, actor
) -> TrainingBudget:
    problem = year_problem(year)
    if problem:
        raise DomainError(problem, "year")
    if amount is None or amount < 0:
        raise DomainError("Le montant des crédits de formation doit être positif ou nul.", "amount")
    if max_indemnities is not None and max_indemnities < 0:
        raise DomainError("Le montant des indemnités maximales doit être positif ou nul.", "max_indemnities")
    budget = db.session.scalar(
        select(TrainingBudget).where(TrainingBudget.collectivite_id == body.id, TrainingBudget.year == year)
    ) or TrainingBudget(collectivite_id=body.id, year=year)
    budget.amount, budget.max_indemnities = amount, max_indemnities
    budget.deliberation_ref = (deliberation_ref or "").strip() or None
    db.session.add(budget)
    db.session.flush()
    audit.record(
        "training.budget", f"Crédits de formation {year} de {body.name} : {money_fr(amount)}", actor=actor, obj=body
    )
    return budget


def untrained_communes(departements: list[str]) -> Select:
    """Communes of the CDG whose élus (with a mandate in the portal or not) were never marked present."""
    trained = exists().where(
        and_(Registration.collectivite_id == Collectivite.id, Registration.status == Status.PRESENT)
    )
    return (
        select(Collectivite)
        .where(Collectivite.kind == Kind.COMMUNE, Collectivite.departement_code.in_(departements), ~trained)
        .order_by(Collectivite.name, Collectivite.id)
    )


# Messages ---------------------------------------------------------------------------------------


def _local(value: datetime) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y à %H h %M")


def _when(session: TrainingSession) -> str:
    """ "1er décembre 2026, 9 h – 17 h" in Paris time (:func:`period_fr`)."""
    return period_fr(session.starts_at.astimezone(PARIS), session.ends_at.astimezone(PARIS))


def _location(session: TrainingSession) -> str:
    if session.place and session.remote_url:
        return f"{session.place} (ou à distance : {session.remote_url})"
    return session.place or f"à distance : {session.remote_url}"


def _hours(value: Decimal) -> str:
    return f"{decimal_fr(value)}\u00a0h"


describe_when, describe_hours = _when, _hours


def _who(registration: Registration) -> str:
    return f"{registration.mandate.person.full_name}, session n° {registration.session_id}"


def _link(registration: Registration) -> str:
    # A plain path: messages are also built by workers, outside any request.
    return f"/formations/sessions/{registration.session_id}"


def _notify(registration: Registration, title: str, body: str, attachments=()) -> None:
    """Tell the élu, with or without an account: his account, else the contact address his secretary entered,
    else the secretaries of his collectivité (``notifications.notify_person``)."""
    mandate = registration.mandate
    person = mandate.person
    notify_person(
        person,
        collectivite_id=registration.collectivite_id,
        category=CATEGORY,
        title=f"{title} — {registration.session.training.title}",
        body=body,
        link=_link(registration),
        salutation=salutation(mandate.function, person.sex, person.full_name),
        description=f"{person.full_name}, {mandate.function_label} ({mandate.collectivite.name})",
        attachments=list(attachments),
    )


def invitation_for(registration: Registration) -> calendar.Invitation:
    session, person = registration.session, registration.mandate.person
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])[1]
    training = session.training
    return calendar.Invitation(
        uid=f"{registration.uid}@{current_app.config['MAIL_MESSAGE_ID_DOMAIN']}",
        sequence=registration.ics_sequence,
        summary=f"Formation des élus : {training.title}",
        description=(
            f"{training.title} ({_hours(training.duration_hours)}), par {training.body.name} "
            f"(agrément n° {training.body.agrement_number}).\n{training.objectives}".strip()
        ),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        location=_location(session),
        organizer_name=current_app.config["TRAINING_ORGANISER_NAME"],
        organizer_email=sender,
        attendee_name=person.full_name,
        # His own address, else the one his messages go to (his secretary's), else the organiser's.
        attendee_email=person_recipients(person, registration.collectivite_id).email or sender,
        url=current_app.config["PORTAL_BASE_URL"].rstrip("/") + _link(registration),
    )


def _send_invitation(
    registration: Registration,
    method: str,
    now: datetime,
    *,
    updated: bool = False,
    title: str | None = None,
    body: str | None = None,
) -> None:
    session = registration.session
    data = calendar.build(invitation_for(registration), method=method, dtstamp=now)
    filename = "annulation.ics" if method == "CANCEL" else "invitation.ics"
    if method == "REQUEST":
        registration.invitation_sent = True
        title = title or ("Session modifiée" if updated else "Inscription confirmée")
        body = body or (
            f"{'La session a changé : ' if updated else 'Votre inscription est confirmée : '}"
            f"« {session.training.title} », le {_when(session)}, {_location(session)}. "
            "L'invitation jointe s'ajoute à votre agenda."
        )
    _notify(registration, title, body, attachments=[(filename, calendar.content_type(method), data)])
