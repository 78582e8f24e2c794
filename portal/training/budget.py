"""A commune's training budget read from the database and checked by :mod:`portal.training.budget_rules`: the
credits voted each year, the base of the bounds, and what the commune's registrations cost it year by year."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from portal.common.clock import PARIS
from portal.extensions import db
from portal.training import budget_rules, rights_rules
from portal.training.models import Registration, TrainingBudget, TrainingSession
from portal.training.rules import Status

# Attended or missed (the training body invoices the seat): spent. Booked for a coming session: committed.
SPENT = (Status.PRESENT, Status.ABSENT)
COMMITTED = (Status.REGISTERED, Status.OFFERED)


def costs_by_year(collectivite_id: int, first_year: int, last_year: int) -> dict[int, tuple[Decimal, Decimal]]:
    """{year: (spent, committed)}: what the commune's budget pays for its élus' registrations to sessions of
    ``first_year`` to ``last_year`` (the commune's share, DIFE excluded: :func:`rights_rules.commune_share`)."""
    rows = db.session.execute(
        select(
            Registration.status,
            Registration.funding,
            Registration.tuition_cost,
            Registration.travel_cost,
            Registration.dife_amount,
            TrainingSession.starts_at,
        )
        .join(TrainingSession, Registration.session_id == TrainingSession.id)
        .where(
            Registration.collectivite_id == collectivite_id,
            Registration.status.in_([*SPENT, *COMMITTED]),
            TrainingSession.starts_at >= datetime(first_year, 1, 1, tzinfo=PARIS),
            TrainingSession.starts_at < datetime(last_year + 1, 1, 1, tzinfo=PARIS),
        )
    )
    totals: dict[int, tuple[Decimal, Decimal]] = {}
    for row in rows:
        year = row.starts_at.astimezone(PARIS).year
        share = rights_rules.commune_share(
            funding=row.funding, tuition=row.tuition_cost, travel=row.travel_cost, dife_amount=row.dife_amount
        )
        spent, committed = totals.get(year, (Decimal(0), Decimal(0)))
        totals[year] = (spent + share, committed) if row.status in SPENT else (spent, committed + share)
    return totals


def commune_budget(collectivite_id: int, year: int) -> budget_rules.BudgetCheck:
    """The commune's training budget of ``year``, with the unused credits of the previous years of the same
    council (two queries whatever the number of years)."""
    start = budget_rules.carry_start(year)
    votes = {
        row.year: row
        for row in db.session.execute(
            select(TrainingBudget.year, TrainingBudget.amount, TrainingBudget.max_indemnities).where(
                TrainingBudget.collectivite_id == collectivite_id,
                TrainingBudget.year >= start,
                TrainingBudget.year <= year,
            )
        )
    }
    costs = costs_by_year(collectivite_id, start, year)
    # A past year's booked seats that were never marked count as spent: the money is gone.
    history = [
        budget_rules.PastYear(
            year=each,
            voted=votes[each].amount if each in votes else None,
            spent=sum(costs.get(each, (Decimal(0), Decimal(0))), Decimal(0)),
        )
        for each in range(start, year)
    ]
    this_year = votes.get(year)
    spent, committed = costs.get(year, (Decimal(0), Decimal(0)))
    return budget_rules.check(
        year=year,
        voted=this_year.amount if this_year is not None else None,
        max_indemnities=this_year.max_indemnities if this_year is not None else None,
        spent=spent,
        committed=committed,
        history=history,
    )
