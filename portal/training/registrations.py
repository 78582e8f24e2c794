"""Registrations of élus to sessions: a seat or the waiting list, accepting an offered seat, cancelling,
offers that expire. Each change takes the roster lock first (:mod:`portal.training.roster`); services
only flush, the caller commits.

Only the seat decision is taken under the lock. The notice that follows a registration, an accepted offer, a
freed seat, a cancellation or a change of the session (the invitation of a confirmed seat, with its iCalendar
file, the position on the waiting list, the seat offered, the cancellation with its iCalendar CANCEL, the
session's new date or place with the updated invitation) is built by a job published after the commit
(``NOTICE_TASK``, :func:`send_notice`): the other requests of the session do not wait for it. The registration
row says whether its notice is still due, so a lost publication is caught up by the sweep (:func:`notices_due`)
and a job run twice sends nothing twice.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import and_, bindparam, case, or_, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import Mandate, Person, Role
from portal.audit import services as audit
from portal.common.claims import claim_row
from portal.common.clock import PARIS, paris_today, utcnow
from portal.common.errors import ConflictError, DomainError
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.jobs import enqueue_after_commit
from portal.common.titles import agree
from portal.extensions import db
from portal.training import rights_rules, rules
from portal.training.models import Registration, TrainingSession
from portal.training.notices import describe_place, describe_when, local_time, notify, send_invitation
from portal.training.rights import leave_days_booked, rights_for
from portal.training.rights_rules import Funding
from portal.training.roster import (
    NOTICE_TASK,
    fill_freed_seats,
    lock_and_reload,
    lock_roster,
    registrations_on,
    roster,
    waiting_positions,
)
from portal.training.rules import Status
from portal.training.visibility import can_act_for

LIVE_STATUSES = [s.value for s in rules.ACTIVE]
# The registrations told of a change of their session (a seat, offered or not, or a place on the waiting list).
TOLD_OF_CHANGES = [Status.REGISTERED.value, Status.WAITING.value, Status.OFFERED.value]
# What :func:`send_notice` returns when it told the change of the session alone.
MOVED = "moved"


class CancelNotice(StrEnum):
    """Which cancellation the élu is told of, recorded with it (``Registration.cancel_notice``): the message's title."""

    CANCELLED = "cancelled"  # by the élu, his secretary or the CDG
    DECLINED = "declined"  # the seat offered to him, declined
    EXPIRED = "expired"  # the seat offered to him, not confirmed in time
    SESSION = "session"  # the whole session, cancelled by the CDG


def cancel_notice_title(notice: str | None) -> str:
    if notice == CancelNotice.DECLINED:
        return _("Place déclinée")
    if notice == CancelNotice.EXPIRED:
        return _("Offre expirée")
    if notice == CancelNotice.SESSION:
        return _("Session annulée")
    return _("Inscription annulée")


@dataclass
class RegistrationInput:
    funding: str = Funding.COMMUNE
    travel_cost: Decimal = Decimal("0.00")
    dife_amount: Decimal = Decimal("0.00")
    leave_days: Decimal = Decimal("0.0")


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
    problem = rights_rules.leave_days_problem(
        used=leave_days_booked(mandate.id),
        requested=data.leave_days or Decimal(0),
        ceiling=rights_rules.leave_days_ceiling(paris_today()),
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
        raise DomainError(_("Vous ne pouvez inscrire que les élus de votre commune."))
    _check_open(session, now)
    tuition = session.training.cost_per_participant
    dife = data.dife_amount or Decimal(0)
    if data.funding == Funding.DIFE:
        dife = rights_rules.registration_cost(tuition=tuition, travel=data.travel_cost or Decimal(0))
    problem = rights_rules.funding_problem(
        funding=data.funding, tuition=tuition, travel=data.travel_cost or Decimal(0), dife_amount=dife
    )
    if problem:
        raise DomainError(problem, "funding")
    if dife:
        problem = rights_rules.dife_problem(requested=dife, balance=rights_for(mandate).dife_estimate)
        if problem:
            raise DomainError(problem, "dife_amount" if data.funding == Funding.BOTH else "funding")
    takes_leave = (data.leave_days or 0) > 0  # no leave asked: nothing to count (the usual case, kept cheap)
    if takes_leave:
        _check_leave_days(mandate, data)

    # The session row read before the lock may be stale (capacity or quota changed since): read it under the lock.
    lock_and_reload(session)
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
    # Its status only: the row itself, with the joined mandate, person and collectivité, is not needed.
    already = db.session.scalar(_live_status_statement(), {"session_id": session.id, "mandate_id": mandate.id})
    if already is not None:
        raise ConflictError(
            _(
                "%(full_name)s est déjà %(registered)s à cette session (%(status)s).",
                full_name=mandate.person.full_name,
                registered=agree("inscrit", mandate.person.sex),
                status=rules.status_label(already, mandate.person.sex).lower(),
            )
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
                raise ConflictError(
                    ngettext(
                        "Le quota de %(num)s place par collectivité est atteint pour %(name)s sur cette session.",
                        "Le quota de %(num)s places par collectivité est atteint pour %(name)s sur cette session.",
                        session.quota_per_collectivite,
                        name=mandate.collectivite.name,
                    )
                )
        raise ConflictError(_("La session est complète."))
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
        first_year=rights_rules.is_first_year_training(
            has_delegation=mandate.has_delegation, mandate_start=mandate.start_date, session_day=session_day
        ),
        funding=data.funding,
        tuition_cost=tuition,
        travel_cost=data.travel_cost or Decimal(0),
        dife_amount=dife,
        leave_days=data.leave_days or Decimal(0),
        ics_sequence=session.sequence,
        told_sequence=session.sequence,  # he registers to the session as it is now
    )
    try:
        with db.session.begin_nested():
            db.session.add(registration)
            db.session.flush()
    except IntegrityError as exc:  # the unique index: a duplicate that slipped past the check
        raise ConflictError(
            _(
                "%(full_name)s est déjà %(registered)s à cette session.",
                full_name=mandate.person.full_name,
                registered=agree("inscrit", mandate.person.sex),
            )
        ) from exc
    registration.session = session
    on_behalf = "" if mandate.person_id == actor.person_id else f" par {actor.full_name}"
    audit.write(  # at once: no unit of work to flush at commit
        "training.registered" if status == Status.REGISTERED else "training.waiting_listed",
        f"{mandate.person.full_name} ({mandate.collectivite.name}) {registration.status_label.lower()} à "
        f"« {session.training.title} » du {describe_when(session)}{on_behalf}",
        actor=actor,
        obj=registration,
    )
    enqueue_after_commit(NOTICE_TASK, registration.id)  # the invitation or the waiting position, after the commit
    return registration


@functools.cache
def _live_status_statement():
    """The status of the élu's live registration to the session, if any. Built once per process."""
    return select(Registration.status).where(
        Registration.session_id == bindparam("session_id"),
        Registration.mandate_id == bindparam("mandate_id"),
        Registration.status.in_(LIVE_STATUSES),
    )


def accept_offer(registration: Registration, actor, now: datetime | None = None) -> Registration:
    now = now or utcnow()
    if not can_act_for(actor, registration.mandate):
        raise DomainError(_("Vous ne pouvez pas répondre pour cet élu."))
    lock_roster(registration.session_id)
    db.session.refresh(registration)
    if registration.status != Status.OFFERED:
        raise ConflictError(_("Aucune place n'est proposée pour cette inscription."))
    if rules.offer_expired(registration.offer_expires_at, now):
        raise ConflictError(
            _("Le délai pour confirmer cette place est dépassé : elle a été proposée à quelqu'un d'autre.")
        )
    registration.status, registration.registered_at = Status.REGISTERED, now
    registration.offer_expires_at = None
    audit.record(
        "training.offer_accepted",
        f"Place confirmée par {actor.full_name} ({_who(registration)})",
        actor=actor,
        obj=registration,
    )
    enqueue_after_commit(NOTICE_TASK, registration.id)  # the invitation, built after the commit
    return registration


def cancel(registration: Registration, actor, reason: str = "", now: datetime | None = None) -> Registration:
    """Cancel a registration (or decline an offered seat); a freed seat goes to the waiting list."""
    now = now or utcnow()
    session = registration.session
    if not can_act_for(actor, registration.mandate):
        raise DomainError(_("Vous ne pouvez pas annuler l'inscription de cet élu."))
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
                _("La date limite d'inscription est passée : pour annuler, contactez le CDG.")
                if not by_staff
                else _("La session a commencé : marquez plutôt l'élu absent sur la feuille d'émargement.")
            )

    check_window()
    lock_roster(session.id)
    db.session.refresh(registration)
    db.session.refresh(session)
    check_window()  # the offer may have been accepted meanwhile: a registered seat follows the deadline
    if registration.status not in (Status.REGISTERED, Status.WAITING, Status.OFFERED):
        raise ConflictError(
            _(
                "Cette inscription ne peut plus être annulée (%(status_label)s).",
                status_label=registration.status_label.lower(),
            )
        )
    held = registration.holds_seat
    declined = registration.status == Status.OFFERED
    who = "" if registration.mandate.person_id == actor.person_id else f" par {actor.full_name}"
    if declined:
        default_reason = _("Place proposée déclinée")
    elif who:
        default_reason = _("Annulée par %(name)s", name=actor.full_name)
    else:
        default_reason = _("Annulée")
    cancel_and_tell(
        registration, now, reason or default_reason, CancelNotice.DECLINED if declined else CancelNotice.CANCELLED
    )
    audit.record(
        "training.cancelled", f"Inscription annulée{who} ({_who(registration)})", actor=actor, obj=registration
    )
    if held:
        fill_freed_seats(session, now)
    return registration


def cancel_and_tell(registration: Registration, now: datetime, reason: str, notice: CancelNotice) -> None:
    """Cancel ``registration`` (the caller holds the roster lock) and have the élu told after the commit.

    Only the state changes here, with what the message needs that is not read again later: which cancellation it
    is (the title) and its reason. The notice job tells it (:func:`send_notice`); an invitation already sent then,
    or being sent now, is withdrawn from the élu's calendar with METHOD:CANCEL and a higher SEQUENCE.
    """
    registration.status, registration.cancelled_at, registration.cancel_reason = Status.CANCELLED, now, reason
    registration.offer_expires_at = None
    registration.cancel_notice = notice
    enqueue_after_commit(NOTICE_TASK, registration.id)


def _claim_change(registration_id: int, sequence: int) -> bool:
    """Take the notice of the session's change up to ``sequence`` (a guarded UPDATE of ``told_sequence``).

    An invitation already sent is updated: its SEQUENCE rises above the last one sent and to the session's at least,
    in the same UPDATE, so that calendars apply it (a CANCEL claimed after it goes higher still).
    """
    raised = case((Registration.ics_sequence + 1 > sequence, Registration.ics_sequence + 1), else_=sequence)
    return claim_row(
        Registration,
        Registration.id == registration_id,
        Registration.status.in_(TOLD_OF_CHANGES),
        Registration.told_sequence < sequence,
        told_sequence=sequence,
        ics_sequence=case(
            (and_(Registration.status == Status.REGISTERED, Registration.invitation_sent), raised),
            else_=Registration.ics_sequence,
        ),
    )


def _claim_notice(registration_id: int, now: datetime) -> str | None:
    """Take the notice due for the registration's state (a guarded UPDATE of its flag): the state, or None.

    A cancellation withdraws the invitation if one was sent: its CANCEL takes the next SEQUENCE in the same UPDATE.
    Nothing changes an invitation once its registration is cancelled, so this is the last SEQUENCE of its UID.
    """
    withdrawn = case((Registration.invitation_sent, Registration.ics_sequence + 1), else_=Registration.ics_sequence)
    claims = (
        (Status.REGISTERED, Registration.invitation_sent.is_(False), {"invitation_sent": True}),
        (Status.WAITING, Registration.waiting_notice_sent_at.is_(None), {"waiting_notice_sent_at": now}),
        (Status.OFFERED, Registration.offer_notice_sent_at.is_(None), {"offer_notice_sent_at": now}),
        (
            Status.CANCELLED,
            Registration.cancel_notice_sent_at.is_(None),
            {"cancel_notice_sent_at": now, "ics_sequence": withdrawn},
        ),
    )
    for status, not_sent, sent in claims:
        if claim_row(Registration, Registration.id == registration_id, Registration.status == status, not_sent, **sent):
            return status
    return None


def send_notice(registration_id: int, now: datetime | None = None) -> str | None:
    """Tell the élu what is due for his registration, once: the change of its session's date or place not yet told
    (``told_sequence``: the updated invitation if he had one, else a message), then what its current state calls
    for: the invitation of a confirmed seat (``invitation_sent``), his position on the waiting list
    (``waiting_notice_sent_at``), the seat offered to him (``offer_notice_sent_at``), its cancellation
    (``cancel_notice_sent_at``). Returns the state told, else ``MOVED`` when only the change was, else None.

    Each notice is claimed by a guarded UPDATE and committed by the caller with its outbox email: a second run, at
    the same time or later (a retry, the sweep), finds it claimed and sends nothing.
    """
    now = now or utcnow()
    # The session as it is now, read before the claim: the change claimed is never beyond the one the message
    # describes. A change committed after this read raises the session's sequence again: told by the next job.
    session = db.session.scalar(
        select(TrainingSession)
        .join(Registration, Registration.session_id == TrainingSession.id)
        .where(Registration.id == registration_id)
        .execution_options(populate_existing=True)
    )
    if session is None:
        return None
    moved = _claim_change(registration_id, session.sequence)
    # Whether the change updates an invitation is what the claim saw (the row is ours until the commit), before
    # the invitation that may be claimed next: that one is built with the session as it is now.
    invited = moved and db.session.scalar(
        select(Registration.invitation_sent).where(Registration.id == registration_id)
    )
    status = _claim_notice(registration_id, now)
    if not moved and status is None:
        return None
    registration = db.session.get(Registration, registration_id, populate_existing=True)
    if moved:
        _tell_change(registration, session, now, invited=bool(invited))
    if status == Status.REGISTERED:
        send_invitation(registration, "REQUEST", now)
    elif status == Status.WAITING:
        position = waiting_positions(session).get(registration.id)
        notify(
            registration,
            _("Inscription en liste d'attente"),
            _(
                "La session de « %(title)s » du %(when)s est complète. Vous êtes en position %(position)s sur la "
                "liste d'attente : si une place se libère, elle vous sera proposée par courriel.",
                title=session.training.title,
                when=describe_when(session),
                position=position,
            ),
        )
    elif status == Status.OFFERED:
        notify(
            registration,
            _("Une place vous est proposée"),
            _(
                "Une place s'est libérée pour « %(title)s » du %(when)s. Confirmez-la avant le %(deadline)s ; sans "
                "réponse, elle sera proposée à la personne suivante.",
                title=session.training.title,
                when=describe_when(session),
                deadline=local_time(registration.offer_expires_at),
            ),
        )
    elif status == Status.CANCELLED:
        _tell_cancellation(registration, session, now)
    return status or MOVED


def _tell_change(registration: Registration, session: TrainingSession, now: datetime, *, invited: bool) -> None:
    """The session's new date or place: the updated invitation (its SEQUENCE raised by the claim) to a registered
    élu who had his invitation, else a message."""
    if invited and registration.status == Status.REGISTERED:
        send_invitation(registration, "REQUEST", now, updated=True)
        return
    notify(
        registration,
        _("Session modifiée"),
        _(
            "La session a changé : « %(title)s », le %(when)s, %(place)s. Votre inscription reste %(status)s.",
            title=session.training.title,
            when=describe_when(session),
            place=describe_place(session),
            status=registration.status_label.lower(),
        ),
    )


def _tell_cancellation(registration: Registration, session: TrainingSession, now: datetime) -> None:
    """The cancellation, with the title and reason recorded with it; with METHOD:CANCEL if he was invited."""
    title = cancel_notice_title(registration.cancel_notice)
    body = _(
        "Votre inscription à « %(title)s » du %(when)s est annulée. Motif : %(reason)s.",
        title=session.training.title,
        when=describe_when(session),
        reason=registration.cancel_reason,
    )
    if registration.invitation_sent:
        send_invitation(registration, "CANCEL", now, title=title, body=body)
    else:
        notify(registration, title, body)


def notices_due(now: datetime | None = None, grace: timedelta = timedelta(0)) -> list[int]:
    """The registrations whose notice is still due (its job lost: broker down at commit time), for sessions not
    begun: registered, put on the waiting list, offered a seat or cancelled at least ``grace`` ago, or not yet told
    of a change of their session (not cancelled) made at least ``grace`` ago."""
    now = now or utcnow()
    since = now - grace
    # The flags the partial index holds: a handful of rows at any time.
    flagged = (
        select(Registration.id)
        .join(TrainingSession, TrainingSession.id == Registration.session_id)
        .where(
            or_(
                and_(
                    Registration.status == Status.REGISTERED,
                    ~Registration.invitation_sent,  # as the partial index says it
                    Registration.registered_at <= since,
                    TrainingSession.cancelled_at.is_(None),
                ),
                and_(
                    Registration.status == Status.WAITING,
                    Registration.waiting_notice_sent_at.is_(None),
                    Registration.waiting_since <= since,
                    TrainingSession.cancelled_at.is_(None),
                ),
                and_(
                    Registration.status == Status.OFFERED,
                    Registration.offer_notice_sent_at.is_(None),
                    Registration.offered_at <= since,
                    TrainingSession.cancelled_at.is_(None),
                ),
                and_(
                    Registration.status == Status.CANCELLED,
                    Registration.cancel_notice_sent_at.is_(None),
                    Registration.cancelled_at <= since,
                ),
            ),
            TrainingSession.starts_at > now,
        )
    )
    # The changes not yet told, from the sessions to come whose sequence has moved (few), through their roster. The
    # session's last change of any kind stands for the time of the move.
    changed = (
        select(Registration.id)
        .join(TrainingSession, TrainingSession.id == Registration.session_id)
        .where(
            TrainingSession.starts_at > now,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.sequence > 0,
            TrainingSession.updated_at <= since,
            Registration.status.in_(TOLD_OF_CHANGES),
            Registration.told_sequence < TrainingSession.sequence,
        )
    )
    return sorted({*db.session.scalars(flagged), *db.session.scalars(changed)})


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
        for registration in registrations_on(session_id, [Status.OFFERED]):
            if not rules.offer_expired(registration.offer_expires_at, now):
                continue
            cancel_and_tell(registration, now, _("place proposée non confirmée dans le délai"), CancelNotice.EXPIRED)
            audit.record("training.offer_expired", f"Offre expirée ({_who(registration)})", obj=registration)
            expired += 1
        fill_freed_seats(session, now)
        db.session.commit()  # one session at a time: the lock is held as briefly as possible
    return expired


def _who(registration: Registration) -> str:
    return f"{registration.mandate.person.full_name}, session n° {registration.session_id}"
