"""Registrations as rows for the CSV and XLSX exports: a session's participants, and every registration for the
staff (filtered by the year the session starts, the status and the collectivité), read in batches.

Amounts and days are Decimals with their number of places: numbers in XLSX and French decimals (``150,00``) in
CSV, as French Excel reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import Mandate
from portal.common.labels import N_
from portal.extensions import db
from portal.training import rights, rights_rules, roster
from portal.training.models import Registration, TrainingSession
from portal.training.rights_rules import FUNDING_LABELS

BATCH = 500

PARTICIPANTS_HEADER = (
    N_("Élu"),
    N_("Courriel"),
    N_("Fonction"),
    N_("Collectivité"),
    N_("Code INSEE"),
    N_("Statut"),
    N_("Position en liste d'attente"),
    N_("Inscrit le"),
    N_("Financement"),
    N_("Coût pédagogique (€)"),
    N_("Frais (€)"),
    N_("Part DIFE (€)"),
    N_("Jours de congé"),
    N_("Première année"),
)

REGISTRATIONS_HEADER = (
    N_("N° inscription"),
    N_("N° session"),
    N_("Formation"),
    N_("Organisme"),
    N_("Agrément"),
    N_("Début"),
    N_("Fin"),
    N_("Heures"),
    N_("Élu"),
    N_("Courriel"),
    N_("Fonction"),
    N_("Collectivité"),
    N_("Code INSEE"),
    N_("Statut"),
    N_("Demandée le"),
    N_("Place obtenue le"),
    N_("Financement"),
    N_("Coût pédagogique (€)"),
    N_("Frais (€)"),
    N_("Part DIFE (€)"),
    N_("Part commune (€)"),
    N_("Jours de congé"),
    N_("Délégation"),
    N_("Première année"),
)


def _number(value: Decimal | None, places: int = 2) -> Decimal | None:
    """The value with ``places`` decimals: a number in XLSX, ``150,00`` in CSV (the shared exporter writes it)."""
    if value is None:
        return None
    return Decimal(value).quantize(Decimal(1).scaleb(-places))


def participants(session: TrainingSession) -> Iterator[tuple]:
    """Every registration of the session (cancelled ones included), in waiting-list order."""
    positions = roster.waiting_positions(session)
    statement = (
        select(Registration)
        .where(Registration.session_id == session.id)
        .options(joinedload(Registration.collectivite), joinedload(Registration.mandate).joinedload(Mandate.user))
        .order_by(Registration.waiting_since, Registration.id)
        .execution_options(yield_per=BATCH)
    )
    for r in db.session.scalars(statement):
        yield (
            r.mandate.person.full_name,
            r.mandate.user.email if r.mandate.user else (r.mandate.person.contact_email or ""),
            r.mandate.function_label,
            r.collectivite.name,
            r.collectivite.insee_code or "",
            r.status_label,
            positions.get(r.id),
            r.created_at,
            FUNDING_LABELS.get(r.funding, r.funding),
            _number(r.tuition_cost),
            _number(r.travel_cost),
            _number(r.dife_amount),
            _number(r.leave_days, 1),
            r.first_year,
        )


@dataclass(frozen=True)
class Filters:
    year: int | None = None
    status: str | None = None
    collectivite_id: int | None = None


def registrations_statement(filters: Filters):
    """Every registration (staff), by session start, session and registration, with the filters."""
    statement = (
        select(Registration)
        .join(Registration.session)
        .options(
            contains_eager(Registration.session),
            joinedload(Registration.collectivite),
            joinedload(Registration.mandate).joinedload(Mandate.user),
        )
        .order_by(TrainingSession.starts_at, TrainingSession.id, Registration.id)
    )
    if filters.year is not None:
        start, end = rights.year_bounds(filters.year)
        statement = statement.where(TrainingSession.starts_at >= start, TrainingSession.starts_at < end)
    if filters.status is not None:
        statement = statement.where(Registration.status == filters.status)
    if filters.collectivite_id is not None:
        statement = statement.where(Registration.collectivite_id == filters.collectivite_id)
    return statement


def registrations(filters: Filters) -> Iterator[tuple]:
    statement = registrations_statement(filters).execution_options(yield_per=BATCH)
    for r in db.session.scalars(statement):
        session = r.session
        training = session.training
        share = rights_rules.commune_share(
            funding=r.funding, tuition=r.tuition_cost, travel=r.travel_cost, dife_amount=r.dife_amount
        )
        yield (
            r.id,
            session.id,
            training.title,
            training.body.name,
            training.body.agrement_number,
            session.starts_at,
            session.ends_at,
            _number(training.duration_hours, 1),
            r.mandate.person.full_name,
            r.mandate.user.email if r.mandate.user else (r.mandate.person.contact_email or ""),
            r.mandate.function_label,
            r.collectivite.name,
            r.collectivite.insee_code or "",
            r.status_label,
            r.created_at,
            r.registered_at,
            FUNDING_LABELS.get(r.funding, r.funding),
            _number(r.tuition_cost),
            _number(r.travel_cost),
            _number(r.dife_amount),
            _number(share),
            _number(r.leave_days, 1),
            r.delegation_held,
            r.first_year,
        )


COMMUNE_HEADER = (
    N_("Élu"),
    N_("Fonction"),
    N_("Délégation"),
    N_("Formation de première année"),
    N_("Formation"),
    N_("Organisme"),
    N_("Agrément"),
    N_("Début"),
    N_("Fin"),
    N_("Heures"),
    N_("Coût pédagogique (€)"),
    N_("Frais de déplacement et séjour (€)"),
    N_("Financement"),
    N_("Part DIFE (€)"),
    N_("Part commune (€)"),
    N_("Jours de congé de formation"),
    N_("Statut"),
)


def commune_year(body_id: int, year: int) -> Iterator[tuple]:
    """The year's trainings of a commune's élus: the table annexed to the compte administratif."""
    for r in rights.year_registrations(body_id, year):
        session, training = r.session, r.session.training
        share = rights_rules.commune_share(
            funding=r.funding, tuition=r.tuition_cost, travel=r.travel_cost, dife_amount=r.dife_amount
        )
        yield (
            r.mandate.person.full_name,
            r.mandate.function_label,
            r.delegation_held,
            r.first_year,
            training.title,
            training.body.name,
            training.body.agrement_number,
            session.starts_at,
            session.ends_at,
            _number(training.duration_hours, 1),
            _number(r.tuition_cost),
            _number(r.travel_cost),
            FUNDING_LABELS.get(r.funding, r.funding),
            _number(r.dife_amount),
            _number(share),
            _number(r.leave_days, 1),
            r.status_label,
        )
