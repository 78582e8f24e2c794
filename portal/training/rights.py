"""The élus' rights (training hours, first-year training, training leave, DIFE) and the communes' training
budgets and yearly spending (CGCT L2123-12 to L2123-16). The rules themselves are in
:mod:`portal.training.rights_rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import Mandate, Person
from portal.audit import services as audit
from portal.common.clock import PARIS, paris_today
from portal.common.errors import DomainError
from portal.common.formatting import date_fr, money_fr
from portal.common.i18n import gettext as _
from portal.common.inputs import year_problem
from portal.extensions import db
from portal.registry.kinds import Kind
from portal.registry.models import Collectivite
from portal.training import rights_rules
from portal.training.models import Registration, Training, TrainingBudget, TrainingSession
from portal.training.rules import Status


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


@dataclass
class Rights:
    mandate: Mandate
    registrations: list[Registration]
    hours_trained: Decimal
    first_year: rights_rules.FirstYear
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
        return rights_rules.FIRST_YEAR_LABELS[self.first_year].format(deadline=date_fr(self.first_year_deadline))


def _facts(registration: Registration) -> rights_rules.RegistrationFacts:
    session = registration.session
    return rights_rules.RegistrationFacts(
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
    summary = rights_rules.rights_summary(
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


def rights_of_many(mandates: list[Mandate], today: date | None = None) -> dict[int, rights_rules.RightsSummary]:
    """The rights of many élus at once (a council), mandate id -> summary, computed as :func:`rights_for` does
    (:func:`rights_rules.rights_summary`) in two queries whatever their number: their persons' mandates, then the
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
    facts: dict[int, list[rights_rules.RegistrationFacts]] = {}
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
            rights_rules.RegistrationFacts(
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
            if rights_rules.same_term(mandate.start_date, mandate.end_date, start, end)
            for fact in facts.get(mid, [])
        ]
        result[mandate.id] = rights_rules.rights_summary(
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
        return rights_rules.commune_share(
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
        elus=[(m, hours.get(m.person_id, Decimal(0))) for m in mandates],
    )


def save_budget(
    body: Collectivite, year: int, amount: Decimal, max_indemnities: Decimal | None, deliberation_ref: str | None, actor
) -> TrainingBudget:
    problem = year_problem(year)
    if problem:
        raise DomainError(problem, "year")
    if amount is None or amount < 0:
        raise DomainError(_("Le montant des crédits de formation doit être positif ou nul."), "amount")
    if max_indemnities is not None and max_indemnities < 0:
        raise DomainError(_("Le montant des indemnités maximales doit être positif ou nul."), "max_indemnities")
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
