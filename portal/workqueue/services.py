"""The work queue's sources: one query per kind of item, whatever the number of items.

Each source reads the rows that wait for a CDG agent in its area and returns :class:`WorkItem`s. Nothing is
stored: the queue is what the areas hold right now, so an item leaves it the moment someone acts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select

from portal.access.models import AccessRequest, RequestState
from portal.accounts.import_models import AccountImport, AccountImportResult, ImportStatus
from portal.accounts.import_rules import Outcome
from portal.accounts.models import Mandate, Person, User
from portal.affiliation.models import AffiliationDecision
from portal.catalogue.models import Service
from portal.common.auth import Role
from portal.common.clock import paris_today, utcnow
from portal.common.errors import DomainError
from portal.common.formatting import plural_fr
from portal.conventions import rules as convention_rules
from portal.conventions import services as conventions
from portal.conventions.models import Convention
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.registry.models import Collectivite
from portal.subscriptions.models import Subscription
from portal.subscriptions.rules import State as SubscriptionState
from portal.training.models import Registration, Training, TrainingSession
from portal.training.rules import Status as RegistrationStatus
from portal.workqueue.models import WorkClaim
from portal.workqueue.rules import RESOLVABLE_KINDS, Kind, WorkItem

OFFER_WINDOW = timedelta(hours=24)


def _subscription_requests(now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        select(Subscription.id, Subscription.requested_at, Service.name, Collectivite.name)
        .join(Service, Service.id == Subscription.service_id)
        .join(Collectivite, Collectivite.id == Subscription.collectivite_id)
        .where(Subscription.state == SubscriptionState.REQUESTED)
    )
    return [
        WorkItem(
            Kind.SUBSCRIPTION_REQUEST,
            id_,
            f"Demande d'adhésion : {service}",
            since,
            "subscriptions.show",
            {"subscription_id": id_},
            body,
        )
        for id_, since, service, body in rows
    ]


def _affiliation_decisions(now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        select(AffiliationDecision.id, AffiliationDecision.opened_at, AffiliationDecision.year, Collectivite.name)
        .join(Collectivite, Collectivite.id == AffiliationDecision.collectivite_id)
        .where(AffiliationDecision.state == "open")
    )
    return [
        WorkItem(
            Kind.AFFILIATION_DECISION,
            id_,
            f"Affiliation à décider ({year})" if year else "Affiliation à décider",
            since,
            "affiliation.decision",
            {"decision_id": id_},
            body,
        )
        for id_, since, year, body in rows
    ]


def _access_requests(now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        select(
            AccessRequest.id, AccessRequest.created_at, AccessRequest.full_name, AccessRequest.collectivites_text
        ).where(AccessRequest.state == RequestState.PENDING)
    )
    return [
        WorkItem(
            Kind.ACCESS_REQUEST,
            id_,
            f"Demande d'accès de {name}",
            since,
            "access.show",
            {"request_id": id_},
            " ".join(typed.split())[:80],
        )
        for id_, since, name, typed in rows
    ]


def _failed_emails(now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        select(OutboxEmail.id, OutboxEmail.created_at, OutboxEmail.to_address).where(
            OutboxEmail.state == OutboxState.FAILED
        )
    )
    return [
        WorkItem(
            Kind.FAILED_EMAIL, id_, f"Courriel non remis à {address}", since, "notifications.jobs", {"etat": "failed"}
        )
        for id_, since, address in rows
    ]


def registrations_described(*columns) -> Select:
    """A select of registrations with ``columns`` and what names them for people: the élu's names, the
    training's title, the collectivité's name (in that order, after ``columns``)."""
    return (
        select(*columns, Person.given_name, Person.family_name, Training.title, Collectivite.name)
        .select_from(Registration)
        .join(Mandate, Mandate.id == Registration.mandate_id)
        .join(Person, Person.id == Mandate.person_id)
        .join(TrainingSession, TrainingSession.id == Registration.session_id)
        .join(Training, Training.id == TrainingSession.training_id)
        .join(Collectivite, Collectivite.id == Registration.collectivite_id)
    )


def _expiring_offers(now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        registrations_described(
            Registration.id, Registration.offered_at, Registration.offer_expires_at, Registration.session_id
        ).where(
            Registration.status == RegistrationStatus.OFFERED,
            Registration.offer_expires_at > now,
            Registration.offer_expires_at <= now + OFFER_WINDOW,
        )
    )
    return [
        WorkItem(
            Kind.EXPIRING_OFFER,
            id_,
            f"Place proposée à {given} {family} : {title}",
            since or expires,
            "training.session",
            {"session_id": session_id},
            body,
            due=expires,
        )
        for id_, since, expires, session_id, given, family, title, body in rows
    ]


def _attendance_to_record(now: datetime) -> list[WorkItem]:
    rows = db.session.execute(
        select(TrainingSession.id, TrainingSession.ends_at, Training.title)
        .join(Training, Training.id == TrainingSession.training_id)
        .where(
            TrainingSession.ends_at <= now,
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.attendance_closed_at.is_(None),
            TrainingSession.published.is_(True),
        )
    )
    return [
        WorkItem(
            Kind.ATTENDANCE_TO_RECORD,
            id_,
            f"Émargement à saisir : {title}",
            ended,
            "training.attendance",
            {"session_id": id_},
        )
        for id_, ended, title in rows
    ]


def _convention_deadlines(now: datetime) -> list[WorkItem]:
    today = paris_today()
    delay = conventions.alert_days()
    candidates = db.session.scalars(
        select(Convention).where(
            Convention.signed_on.is_not(None),
            Convention.end_date.is_not(None),
            or_(Convention.terminated_on.is_(None), Convention.terminated_on > today),
            or_(Convention.end_date >= today, Convention.tacit_renewal.is_(True)),
        )
    )
    items = []
    for convention in candidates:
        for deadline in convention_rules.alerts_due(convention.terms, today, delay):
            label = "Préavis" if deadline.kind == convention_rules.DeadlineKind.NOTICE else "Fin"
            due = datetime.combine(deadline.due, datetime.min.time(), tzinfo=now.tzinfo)
            # The item waits from the day it entered the alert window.
            since = due - timedelta(days=delay)
            items.append(
                WorkItem(
                    Kind.CONVENTION_DEADLINE,
                    convention.id,
                    f"{label} : {convention.title}",
                    min(since, now),
                    "conventions.show",
                    {"convention_id": convention.id},
                    due=due,
                )
            )
    return items


def _imports_with_rejected_lines(now: datetime) -> list[WorkItem]:
    """Imports of secretaries that ended with refused lines (or stopped on an error), until an agent marks them
    dealt with."""
    refused = (
        select(AccountImportResult.import_id, func.count().label("refused"))
        .where(AccountImportResult.outcome == Outcome.ERROR)
        .group_by(AccountImportResult.import_id)
        .subquery()
    )
    dealt_with = select(WorkClaim.object_id).where(
        WorkClaim.kind == Kind.IMPORT_REJECTED, WorkClaim.resolved_at.is_not(None)
    )
    rows = db.session.execute(
        select(AccountImport.id, AccountImport.finished_at, AccountImport.created_at, AccountImport.filename)
        .add_columns(AccountImport.status, func.coalesce(refused.c.refused, 0))
        .outerjoin(refused, refused.c.import_id == AccountImport.id)
        .where(
            or_(
                AccountImport.status == ImportStatus.FAILED,
                and_(AccountImport.status == ImportStatus.DONE, refused.c.refused > 0),
            ),
            AccountImport.id.not_in(dealt_with),
        )
    )
    return [
        WorkItem(
            Kind.IMPORT_REJECTED,
            id_,
            f"Import interrompu : {filename}"
            if status == ImportStatus.FAILED
            else f"{plural_fr(count, 'ligne refusée', 'lignes refusées')} : {filename}",
            finished or created,
            "account_import.job",
            {"import_id": id_},
        )
        for id_, finished, created, filename, status, count in rows
    ]


SOURCES = {
    Kind.SUBSCRIPTION_REQUEST: _subscription_requests,
    Kind.AFFILIATION_DECISION: _affiliation_decisions,
    Kind.ACCESS_REQUEST: _access_requests,
    Kind.FAILED_EMAIL: _failed_emails,
    Kind.EXPIRING_OFFER: _expiring_offers,
    Kind.ATTENDANCE_TO_RECORD: _attendance_to_record,
    Kind.CONVENTION_DEADLINE: _convention_deadlines,
    Kind.IMPORT_REJECTED: _imports_with_rejected_lines,
}


def collect(now: datetime | None = None) -> list[WorkItem]:
    """Every item waiting for staff, one query per kind."""
    now = now or utcnow()
    items: list[WorkItem] = []
    for source in SOURCES.values():
        items.extend(source(now))
    return items


def claims() -> dict[tuple[str, int], int]:
    """(kind, object id) → id of the agent handling it, for the items not dealt with. Claims of items that left
    the queue are kept (cheap) and simply match nothing."""
    return {
        (kind, object_id): agent_id
        for kind, object_id, agent_id in db.session.execute(
            select(WorkClaim.kind, WorkClaim.object_id, WorkClaim.agent_id).where(WorkClaim.resolved_at.is_(None))
        )
    }


def agents() -> dict[int, str]:
    """The CDG's active agents, by id, with the name people know them by: the filter's choices and the
    "handled by" column."""
    return dict(
        db.session.execute(
            select(User.id, User.full_name)
            .where(User.role == Role.STAFF, User.active.is_(True), User.is_service_account.is_(False))
            .order_by(User.full_name, User.id)
        ).all()
    )


def _claim_of(kind: Kind, object_id: int) -> WorkClaim | None:
    return db.session.scalar(select(WorkClaim).where(WorkClaim.kind == kind, WorkClaim.object_id == object_id))


def _check_in_queue(kind: Kind, object_id: int, now: datetime) -> None:
    if not any(item.object_id == object_id for item in SOURCES[kind](now)):
        raise DomainError("Cet élément n'est plus dans la liste à traiter : quelqu'un s'en est peut-être occupé.")


def claim(kind: Kind, object_id: int, agent, now: datetime | None = None) -> User | None:
    """``agent`` takes the item in hand; returns the agent who had it before (None if nobody)."""
    now = now or utcnow()
    _check_in_queue(kind, object_id, now)
    existing = _claim_of(kind, object_id)
    previous = existing.agent if existing is not None and existing.resolved_at is None else None
    if existing is None:
        existing = WorkClaim(kind=kind.value, object_id=object_id, agent_id=agent.id, claimed_at=now)
        db.session.add(existing)
    else:
        existing.agent_id, existing.claimed_at, existing.resolved_at = agent.id, now, None
    db.session.flush()
    return None if previous is None or previous.id == agent.id else previous


def release(kind: Kind, object_id: int, agent) -> None:
    existing = _claim_of(kind, object_id)
    if existing is None or existing.resolved_at is not None:
        raise DomainError("Personne ne s'occupe de cet élément.")
    db.session.delete(existing)
    db.session.flush()


def resolve(kind: Kind, object_id: int, agent, now: datetime | None = None) -> None:
    """Mark an item that no action of the portal ends as dealt with (it leaves the queue), by ``agent``."""
    now = now or utcnow()
    if kind not in RESOLVABLE_KINDS:
        raise DomainError("Cet élément quitte la liste de lui-même une fois traité dans sa page.")
    _check_in_queue(kind, object_id, now)
    existing = _claim_of(kind, object_id)
    if existing is None:
        existing = WorkClaim(kind=kind.value, object_id=object_id, agent_id=agent.id, claimed_at=now)
        db.session.add(existing)
    existing.agent_id, existing.resolved_at = agent.id, now
    db.session.flush()
