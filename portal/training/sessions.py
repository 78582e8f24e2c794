"""The training offer, kept by the CDG's staff: training bodies and their agrément, trainings, and sessions
(created, changed, cancelled). Changes to a session take the roster lock (:mod:`portal.training.roster`); the
participants are told of a change or a cancellation by the notice job, after the commit
(:func:`portal.training.registrations.send_notice`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.audit import services as audit
from portal.common.clock import PARIS, utcnow
from portal.common.errors import ConflictError, DomainError
from portal.common.formatting import date_fr
from portal.common.i18n import gettext as _
from portal.common.jobs import enqueue_after_commit
from portal.extensions import db
from portal.training import rules
from portal.training.models import Registration, Training, TrainingBody, TrainingSession
from portal.training.notices import describe_when
from portal.training.registrations import TOLD_OF_CHANGES, CancelNotice, cancel_and_tell
from portal.training.roster import NOTICE_TASK, fill_freed_seats, lock_roster, registrations_on, roster
from portal.training.rules import Status


@dataclass
class BodyInput:
    name: str
    agrement_number: str
    agrement_from: date
    agrement_until: date
    contact_email: str | None = None


def save_body(data: BodyInput, actor, body: TrainingBody | None = None) -> TrainingBody:
    if data.agrement_until < data.agrement_from:
        raise DomainError(_("La fin de validité de l'agrément précède son début."), "agrement_until")
    duplicate = db.session.scalar(
        select(TrainingBody.id).where(func.lower(TrainingBody.name) == data.name.strip().lower())
    )
    if duplicate is not None and (body is None or duplicate != body.id):
        raise ConflictError(_("Un organisme de formation porte déjà ce nom."), "name")
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
        raise DomainError(_("Choisissez un organisme de formation."), "body_id")
    if data.duration_hours is None or data.duration_hours <= 0:
        raise DomainError(_("La durée doit être d'au moins une heure."), "duration_hours")
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
    minimum_participants: int | None = None
    published: bool = False
    prioritise_untrained: bool = False


def _check_session(data: SessionInput, training: Training | None, now: datetime) -> None:
    if training is None:
        raise DomainError(_("Choisissez une formation."), "training_id")
    if data.ends_at <= data.starts_at:
        raise DomainError(_("La fin de la session doit suivre son début."), "ends_at")
    if data.registration_deadline > data.starts_at:
        raise DomainError(
            _("La date limite d'inscription doit précéder le début de la session."), "registration_deadline"
        )
    if not (data.place or "").strip() and not (data.remote_url or "").strip():
        raise DomainError(_("Indiquez un lieu ou un lien de connexion à distance."), "place")
    if data.quota_per_collectivite is not None and data.quota_per_collectivite < 1:
        raise DomainError(_("Le quota par collectivité doit être d'au moins une place."), "quota_per_collectivite")
    if data.quota_per_collectivite is not None and data.quota_per_collectivite > data.capacity:
        raise DomainError(_("Le quota par collectivité ne peut pas dépasser la capacité."), "quota_per_collectivite")
    if data.minimum_participants is not None and not 1 <= data.minimum_participants <= data.capacity:
        raise DomainError(
            _(
                "Le nombre minimal de participants doit être compris entre 1 et la capacité (%(capacity)s).",
                capacity=data.capacity,
            ),
            "minimum_participants",
        )
    body = training.body
    session_day = data.starts_at.astimezone(PARIS).date()
    today = now.astimezone(PARIS).date()
    if data.published and not (body.agrement_valid_on(today) and body.agrement_valid_on(session_day)):
        raise DomainError(
            _(
                "L'agrément de l'organisme « %(name)s » (n° %(agrement_number)s) n'est pas valide du "
                "%(today)s au %(session_day)s (valide du %(agrement_from)s au %(agrement_until)s) : la "
                "session ne peut pas être ouverte.",
                name=body.name,
                agrement_number=body.agrement_number,
                today=date_fr(today),
                session_day=date_fr(session_day),
                agrement_from=date_fr(body.agrement_from),
                agrement_until=date_fr(body.agrement_until),
            ),
            "published",
        )


def create_session(data: SessionInput, actor, now: datetime | None = None) -> TrainingSession:
    now = now or utcnow()
    training = db.session.get(Training, data.training_id)
    _check_session(data, training, now)
    if data.capacity < 1:
        raise DomainError(_("La capacité doit être d'au moins une place."), "capacity")
    if data.starts_at <= now:
        raise DomainError(_("Une nouvelle session doit commencer dans le futur."), "starts_at")
    session = TrainingSession(
        training_id=training.id,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        registration_deadline=data.registration_deadline,
        capacity=data.capacity,
        place=(data.place or "").strip() or None,
        remote_url=(data.remote_url or "").strip() or None,
        quota_per_collectivite=data.quota_per_collectivite,
        minimum_participants=data.minimum_participants,
        published=data.published,
        prioritise_untrained=data.prioritise_untrained,
    )
    db.session.add(session)
    db.session.flush()
    audit.record(
        "training.session_created",
        f"Session de « {training.title} » du {describe_when(session)}",
        actor=actor,
        obj=session,
    )
    return session


def update_session(session: TrainingSession, data: SessionInput, actor, now: datetime | None = None) -> TrainingSession:
    """Change a session: a lower capacity never drops a seat already given; a new date or place raises the
    session's sequence, and the participants are told after the commit (the invitations re-sent with a higher
    SEQUENCE); new seats go to the waiting list."""
    now = now or utcnow()
    if session.cancelled_at is not None:
        raise DomainError(_("Cette session est annulée : elle ne peut plus être modifiée."))
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
    session.minimum_participants = data.minimum_participants
    session.published, session.prioritise_untrained = data.published, data.prioritise_untrained
    if moved:
        # Every participant's told_sequence is now below the session's: the change is due to each of them.
        session.sequence += 1
    db.session.flush()
    audit.record(
        "training.session_updated",
        f"Session de « {training.title} » du {describe_when(session)} modifiée" + (" (date ou lieu)" if moved else ""),
        actor=actor,
        obj=session,
    )
    if moved:
        for registration in registrations_on(session.id, [Status.OFFERED]):
            if registration.offer_expires_at:
                # An offer never outlives the new start.
                registration.offer_expires_at = min(
                    registration.offer_expires_at, max(now, session.starts_at - timedelta(hours=1))
                )
        told = select(Registration.id).where(
            Registration.session_id == session.id, Registration.status.in_(TOLD_OF_CHANGES)
        )
        for registration_id in db.session.scalars(told):
            enqueue_after_commit(NOTICE_TASK, registration_id)  # the change, told after the commit
    fill_freed_seats(session, now)
    return session


def cancel_session(session: TrainingSession, actor, reason: str, now: datetime | None = None) -> int:
    """Cancel a whole session: every live registration is cancelled, and told so after the commit (with
    METHOD:CANCEL for an invitation sent)."""
    now = now or utcnow()
    if session.cancelled_at is not None:
        raise ConflictError(_("Cette session est déjà annulée."))
    if session.starts_at <= now:
        raise DomainError(_("Une session commencée ou passée ne peut pas être annulée."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Indiquez le motif de l'annulation : il est envoyé aux participants."), "reason")
    lock_roster(session.id)
    session.cancelled_at, session.published, session.cancel_reason = now, False, reason
    shown_reason = _("Session annulée par le CDG : %(reason)s", reason=reason).strip(" :")
    count = 0
    for registration in registrations_on(session.id, [Status.REGISTERED, Status.WAITING, Status.OFFERED]):
        cancel_and_tell(registration, now, shown_reason, CancelNotice.SESSION)
        count += 1
    db.session.flush()
    audit.record(
        "training.session_cancelled",
        f"Session du {describe_when(session)} annulée ({count} inscriptions)",
        actor=actor,
        obj=session,
        details={"reason": reason},
    )
    return count


def trainings(active_only: bool = False) -> list[Training]:
    statement = select(Training).order_by(Training.title)
    if active_only:
        statement = statement.where(Training.active.is_(True))
    return list(db.session.scalars(statement))


def bodies() -> list[TrainingBody]:
    return list(db.session.scalars(select(TrainingBody).order_by(TrainingBody.name)))
