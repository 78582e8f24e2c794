"""The work queue's sources: for each kind of item, the rows that wait for a CDG agent in its area.

A SQL source is a select of the waiting rows from the area's own table (its filters say what waits; its first two
columns are the item's id and the moment it has waited since), what describes a row for people (joins to the names
of the body, the service…), and a function that turns one described row into a :class:`WorkItem`. The queue page
reads only (kind, id, since) of every item — no join — sorted and paged by the database, then the described rows of
the page's items: its cost does not grow with the number of items. The conventions' deadlines are computed by the
conventions' rules in Python (tens of conventions, not thousands), and so are the sessions of the coming week below
their minimum: those sources give their items directly.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Date, Select, String, and_, bindparam, cast, func, literal, or_, select

from portal.access.models import AccessRequest, RequestState
from portal.accounts.import_models import AccountImport, AccountImportResult, ImportStatus
from portal.accounts.import_rules import Outcome
from portal.accounts.models import Mandate, Person
from portal.affiliation.models import AffiliationDecision
from portal.catalogue.models import Service
from portal.common.clock import paris_today
from portal.common.database import UTCDateTime, plain_rows
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.conventions import rules as convention_rules
from portal.conventions import services as conventions
from portal.conventions.models import Convention
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.registry.models import Collectivite
from portal.subscriptions.models import Subscription
from portal.subscriptions.rules import State as SubscriptionState
from portal.training.models import Registration, Training, TrainingSession
from portal.training.rules import SEAT_HOLDING
from portal.training.rules import Status as RegistrationStatus
from portal.workqueue.models import WorkClaim
from portal.workqueue.rules import Kind, WorkItem

OFFER_WINDOW = timedelta(hours=24)
# A session below its minimum enters the queue this long before it starts: time to maintain, move or cancel it.
MINIMUM_WINDOW = timedelta(days=7)

# The queue's statements are built once per process (building a select and its cache key costs more CPU than the
# database takes to run most of them): the clock is a bound parameter, valued by :func:`clock` at each execution.
NOW = bindparam("now", type_=UTCDateTime)
OFFER_HORIZON = bindparam("offer_horizon", type_=UTCDateTime)
MINIMUM_HORIZON = bindparam("minimum_horizon", type_=UTCDateTime)
TODAY = bindparam("today", type_=Date)
# The ids of the items of a page, for the statement that describes them.
PAGE_IDS = bindparam("page_ids", expanding=True)


def clock(now: datetime) -> dict:
    """The values of the statements' clock parameters at ``now`` (a statement ignores those it does not hold)."""
    return {"now": now, "offer_horizon": now + OFFER_WINDOW, "minimum_horizon": now + MINIMUM_WINDOW}


def _as_is(statement: Select) -> Select:
    return statement


@dataclass(frozen=True)
class SqlSource:
    """``waiting()``: the waiting rows of the area's table, first the item's id then the moment it waits since
    (the clock as :data:`NOW` and the other parameters of :func:`clock`); ``described(statement)``: that select
    with the names people read, added by inner joins along non-null foreign keys only (so that it neither drops nor
    repeats a row: the keys need no join); ``build(row, now)``: the item of one described row; ``id_column``: the
    column the ids of a page are selected by. Its statements are built on first use and kept."""

    kind: Kind
    waiting: Callable[[], Select]
    build: Callable[[tuple, datetime], WorkItem]
    id_column: object
    described: Callable[[Select], Select] = _as_is

    @functools.cached_property
    def query(self) -> Select:
        """The described rows of every waiting item."""
        return self.described(self.waiting())

    @functools.cached_property
    def page_query(self) -> Select:
        """The described rows of the waiting items whose ids are :data:`PAGE_IDS`."""
        return self.query.where(self.id_column.in_(PAGE_IDS))

    @functools.cached_property
    def keys(self) -> Select:
        """(kind, object id, since) of every waiting item, from the area's table alone."""
        statement = self.waiting()
        id_, since = list(statement.selected_columns)[:2]
        return statement.with_only_columns(
            cast(literal(self.kind.value), String(40)).label("kind"),
            id_.label("object_id"),
            since.label("since"),
            maintain_column_froms=True,
        )

    def items(self, now: datetime, ids: list[int] | None = None) -> list[WorkItem]:
        """The waiting items at ``now`` (those of ``ids`` only, if given)."""
        params = clock(now)
        statement = self.query
        if ids is not None:
            statement, params["page_ids"] = self.page_query, ids
        return [self.build(row, now) for row in plain_rows(statement, params)]


def registrations_described(*columns) -> Select:
    """A select of registrations with ``columns`` and what names them for people: the élu's names, the
    training's title, the collectivité's name (in that order, after ``columns``)."""
    return with_registration_names(select(*columns).select_from(Registration))


def with_registration_names(statement: Select) -> Select:
    """``statement`` (a select from registrations) with the élu's names, the training's title and the
    collectivité's name added after its columns (joins along non-null foreign keys: no row dropped)."""
    return (
        statement.add_columns(Person.given_name, Person.family_name, Training.title, Collectivite.name)
        .join(Mandate, Mandate.id == Registration.mandate_id)
        .join(Person, Person.id == Mandate.person_id)
        .join(TrainingSession, TrainingSession.id == Registration.session_id)
        .join(Training, Training.id == TrainingSession.training_id)
        .join(Collectivite, Collectivite.id == Registration.collectivite_id)
    )


def _subscription_requests() -> Select:
    return select(Subscription.id, Subscription.requested_at).where(Subscription.state == SubscriptionState.REQUESTED)


def _subscription_names(statement: Select) -> Select:
    return (
        statement.add_columns(Service.name, Collectivite.name)
        .join(Service, Service.id == Subscription.service_id)
        .join(Collectivite, Collectivite.id == Subscription.collectivite_id)
    )


def _subscription_request(row, now: datetime) -> WorkItem:
    id_, since, service, body = row
    return WorkItem(
        Kind.SUBSCRIPTION_REQUEST,
        id_,
        _("Demande d'adhésion : %(service)s", service=service),
        since,
        "subscriptions.show",
        {"subscription_id": id_},
        body,
    )


def _affiliation_decisions() -> Select:
    return select(AffiliationDecision.id, AffiliationDecision.opened_at, AffiliationDecision.year).where(
        AffiliationDecision.state == "open"
    )


def _affiliation_names(statement: Select) -> Select:
    return statement.add_columns(Collectivite.name).join(
        Collectivite, Collectivite.id == AffiliationDecision.collectivite_id
    )


def _affiliation_decision(row, now: datetime) -> WorkItem:
    id_, since, year, body = row
    return WorkItem(
        Kind.AFFILIATION_DECISION,
        id_,
        _("Affiliation à décider (%(year)s)", year=year) if year else _("Affiliation à décider"),
        since,
        "affiliation.decision",
        {"decision_id": id_},
        body,
    )


def _access_requests() -> Select:
    return select(
        AccessRequest.id, AccessRequest.created_at, AccessRequest.full_name, AccessRequest.collectivites_text
    ).where(AccessRequest.state == RequestState.PENDING)


def _access_request(row, now: datetime) -> WorkItem:
    id_, since, name, typed = row
    return WorkItem(
        Kind.ACCESS_REQUEST,
        id_,
        _("Demande d'accès de %(name)s", name=name),
        since,
        "access.show",
        {"request_id": id_},
        " ".join(typed.split())[:80],
    )


def _failed_emails() -> Select:
    return select(OutboxEmail.id, OutboxEmail.created_at, OutboxEmail.to_address).where(
        OutboxEmail.state == OutboxState.FAILED
    )


def _failed_email(row, now: datetime) -> WorkItem:
    id_, since, address = row
    return WorkItem(
        Kind.FAILED_EMAIL,
        id_,
        _("Courriel non remis à %(address)s", address=address),
        since,
        "notifications.jobs",
        {"etat": "failed"},
    )


def _expiring_offers() -> Select:
    return select(
        Registration.id,
        func.coalesce(Registration.offered_at, Registration.offer_expires_at, type_=UTCDateTime),
        Registration.offer_expires_at,
        Registration.session_id,
    ).where(
        Registration.status == RegistrationStatus.OFFERED,
        Registration.offer_expires_at > NOW,
        Registration.offer_expires_at <= OFFER_HORIZON,
    )


def _expiring_offer(row, now: datetime) -> WorkItem:
    id_, since, expires, session_id, given, family, title, body = row
    return WorkItem(
        Kind.EXPIRING_OFFER,
        id_,
        _("Place proposée à %(given)s %(family)s : %(title)s", given=given, family=family, title=title),
        since,
        "training.session",
        {"session_id": session_id},
        body,
        due=expires,
    )


def _attendance_to_record() -> Select:
    return select(TrainingSession.id, TrainingSession.ends_at).where(
        TrainingSession.ends_at <= NOW,
        TrainingSession.cancelled_at.is_(None),
        TrainingSession.attendance_closed_at.is_(None),
        TrainingSession.published.is_(True),
    )


def _training_title(statement: Select) -> Select:
    return statement.add_columns(Training.title).join(Training, Training.id == TrainingSession.training_id)


def _attendance(row, now: datetime) -> WorkItem:
    id_, ended, title = row
    return WorkItem(
        Kind.ATTENDANCE_TO_RECORD,
        id_,
        _("Émargement à saisir : %(title)s", title=title),
        ended,
        "training.attendance",
        {"session_id": id_},
    )


@functools.cache
def _sessions_below_minimum() -> Select:
    seats = (
        select(Registration.session_id, func.count().label("taken"))
        .where(Registration.status.in_(SEAT_HOLDING))
        .group_by(Registration.session_id)
        .subquery()
    )
    taken = func.coalesce(seats.c.taken, 0)
    return (
        select(
            TrainingSession.id,
            TrainingSession.starts_at,
            Training.title,
            taken,
            TrainingSession.minimum_participants,
        )
        .join(Training, Training.id == TrainingSession.training_id)
        .outerjoin(seats, seats.c.session_id == TrainingSession.id)
        .where(
            TrainingSession.minimum_participants.is_not(None),
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.published.is_(True),
            TrainingSession.starts_at > NOW,
            TrainingSession.starts_at <= MINIMUM_HORIZON,
            taken < TrainingSession.minimum_participants,
        )
    )


def sessions_below_minimum(now: datetime) -> list[WorkItem]:
    """Sessions of the coming week with fewer participants than their minimum. Computed whole: the item waits from
    the day its session entered the window (a date the databases do not compute alike), and a week holds few
    sessions."""
    return [_session_below_minimum(row, now) for row in plain_rows(_sessions_below_minimum(), clock(now))]


def _session_below_minimum(row, now: datetime) -> WorkItem:
    id_, starts, title, taken, minimum = row
    return WorkItem(
        Kind.SESSION_BELOW_MINIMUM,
        id_,
        ngettext(
            "%(title)s : %(num)s inscrit pour %(minimum)s au minimum",
            "%(title)s : %(num)s inscrits pour %(minimum)s au minimum",
            taken,
            title=title,
            minimum=minimum,
        ),
        # Waits from the day the session entered the window (its start, a week before).
        min(starts - MINIMUM_WINDOW, now),
        "training.session",
        {"session_id": id_},
        due=starts,
    )


def _imports_with_rejected_lines() -> Select:
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
    return (
        select(
            AccountImport.id,
            func.coalesce(AccountImport.finished_at, AccountImport.created_at, type_=UTCDateTime),
            AccountImport.filename,
            AccountImport.status,
            func.coalesce(refused.c.refused, 0),
        )
        .outerjoin(refused, refused.c.import_id == AccountImport.id)
        .where(
            or_(
                AccountImport.status == ImportStatus.FAILED,
                and_(AccountImport.status == ImportStatus.DONE, refused.c.refused > 0),
            ),
            AccountImport.id.not_in(dealt_with),
        )
    )


def _import_rejected(row, now: datetime) -> WorkItem:
    id_, since, filename, status, count = row
    title = (
        _("Import interrompu : %(filename)s", filename=filename)
        if status == ImportStatus.FAILED
        else ngettext(
            "%(num)s ligne refusée : %(filename)s", "%(num)s lignes refusées : %(filename)s", count, filename=filename
        )
    )
    return WorkItem(Kind.IMPORT_REJECTED, id_, title, since, "account_import.job", {"import_id": id_})


@functools.cache
def _running_conventions() -> Select:
    """The signed conventions with an end date, neither terminated nor ended on :data:`TODAY` (unless renewed
    tacitly)."""
    return select(Convention).where(
        Convention.signed_on.is_not(None),
        Convention.end_date.is_not(None),
        or_(Convention.terminated_on.is_(None), Convention.terminated_on > TODAY),
        or_(Convention.end_date >= TODAY, Convention.tacit_renewal.is_(True)),
    )


def convention_deadlines(now: datetime) -> list[WorkItem]:
    """Notice and end dates within the alert window, by the conventions' own rules (tacit renewals included)."""
    today = paris_today()
    delay = conventions.alert_days()
    candidates = db.session.scalars(_running_conventions(), {"today": today})
    items = []
    for convention in candidates:
        for deadline in convention_rules.alerts_due(convention.terms, today, delay):
            label = _("Préavis") if deadline.kind == convention_rules.DeadlineKind.NOTICE else _("Fin")
            due = datetime.combine(deadline.due, datetime.min.time(), tzinfo=now.tzinfo)
            # The item waits from the day it entered the alert window.
            since = due - timedelta(days=delay)
            items.append(
                WorkItem(
                    Kind.CONVENTION_DEADLINE,
                    convention.id,
                    _("%(label)s : %(title)s", label=label, title=convention.title),
                    min(since, now),
                    "conventions.show",
                    {"convention_id": convention.id},
                    due=due,
                )
            )
    return items


SQL_SOURCES = {
    source.kind: source
    for source in (
        SqlSource(
            Kind.SUBSCRIPTION_REQUEST,
            _subscription_requests,
            _subscription_request,
            Subscription.id,
            _subscription_names,
        ),
        SqlSource(
            Kind.AFFILIATION_DECISION,
            _affiliation_decisions,
            _affiliation_decision,
            AffiliationDecision.id,
            _affiliation_names,
        ),
        SqlSource(Kind.ACCESS_REQUEST, _access_requests, _access_request, AccessRequest.id),
        SqlSource(Kind.FAILED_EMAIL, _failed_emails, _failed_email, OutboxEmail.id),
        SqlSource(Kind.EXPIRING_OFFER, _expiring_offers, _expiring_offer, Registration.id, with_registration_names),
        SqlSource(Kind.ATTENDANCE_TO_RECORD, _attendance_to_record, _attendance, TrainingSession.id, _training_title),
        SqlSource(Kind.IMPORT_REJECTED, _imports_with_rejected_lines, _import_rejected, AccountImport.id),
    )
}
# Sources computed in Python, whole (few items by nature).
COMPUTED_SOURCES: dict[Kind, Callable[[datetime], list[WorkItem]]] = {
    Kind.CONVENTION_DEADLINE: convention_deadlines,
    Kind.SESSION_BELOW_MINIMUM: sessions_below_minimum,
}
