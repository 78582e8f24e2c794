"""Demonstration trainings: a fictitious approved body, the Élu Numérique Rural course, sessions with
registrations, a waiting list and a past session with its attendance (so rights and budgets show figures)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.common.clock import PARIS, paris_today
from portal.common.workdays import working_days_from
from portal.extensions import db
from portal.training.models import Registration, TrainingSession
from portal.training.registrations import register
from portal.training.rights import save_budget
from portal.training.rules import Status
from portal.training.sessions import BodyInput, SessionInput, TrainingInput, create_session, save_body, save_training

EXTRA_ELUS = (
    ("adjointe@mairie-laroque-timbaut.example", "Martine Lafon", "47138", "adjoint", "Affaires scolaires", "F"),
    ("maire@mairie-saint-sixte.example", "Pierre Dubos", "47279", "maire", None, "M"),
)


HOURS_PER_DAY = 7  # 9 h – 17 h with an hour for lunch


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS).astimezone(UTC)


def _days(training, around: date) -> list[date]:
    """The working days a session of ``training`` takes, from ``around`` on: as many as its hours need (7 a day),
    never on a weekend or a public holiday."""
    return working_days_from(around, max(1, -(-int(training.duration_hours) // HOURS_PER_DAY)))


def load_training(by_code: dict, users: dict, password: str, today: date | None = None, log=print) -> None:
    today = today or paris_today()
    staff = users["agent@cdg47.example"]
    for email, name, code, function, subject, sex in EXTRA_ELUS:
        users[email] = accounts.create_user(
            email=email,
            role=Role.ELU,
            password=password,
            full_name=name,
            collectivites=[by_code[code]],
            mandate=accounts.MandateInput(
                function=function,
                has_delegation=bool(subject),
                delegation_subject=subject,
                start_date=date(2026, 3, 22),
                sex=sex,
            ),
        )
    body = save_body(
        BodyInput(
            name="Institut de formation des élus (démonstration)",
            agrement_number="DEMO-AGR-2025-047",
            agrement_from=date(2025, 1, 1),
            agrement_until=date(2028, 12, 31),
            contact_email="formation@institut-elus.example",
        ),
        staff,
    )
    numerique = save_training(
        TrainingInput(
            title="Élu Numérique Rural : les outils numériques de la mairie",
            body_id=body.id,
            duration_hours=Decimal("7"),
            cost_per_participant=Decimal("180.00"),
            objectives="Utiliser la messagerie, l'agenda partagé et les démarches en ligne de la commune ; "
            "protéger les données des administrés.",
            programme="Matin : messagerie et agenda partagé.\nAprès-midi : démarches en ligne, RGPD, sécurité.",
        ),
        staff,
    )
    fondamentaux = save_training(
        TrainingInput(
            title="Les fondamentaux de l'élu local : rôle, responsabilités, budget",
            body_id=body.id,
            duration_hours=Decimal("14"),
            cost_per_participant=Decimal("320.00"),
            objectives="Formation de première année pour les élus ayant reçu une délégation.",
        ),
        staff,
    )

    def session(training, days: int, capacity: int, place: str) -> TrainingSession:
        held = _days(training, today + timedelta(days=days))
        return create_session(
            SessionInput(
                training_id=training.id,
                starts_at=_at(held[0], 9),
                ends_at=_at(held[-1], 17),
                registration_deadline=_at(held[0] - timedelta(days=7), 18),
                capacity=capacity,
                place=place,
                published=True,
                prioritise_untrained=True,
            ),
            staff,
        )

    soon = session(numerique, 21, 12, "Centre de gestion, 14 rue Paul Bert, Agen")
    full = session(fondamentaux, 45, 2, "Salle des fêtes, Laroque-Timbaut")
    session(numerique, 75, 15, "Mairie de Villeneuve-sur-Lot")
    elus = {email: users[email].mandate for email in users if users[email].mandate is not None}
    register(soon, elus["maire@mairie-sauvagnas.example"], users["maire@mairie-sauvagnas.example"])
    secretary = users["secretariat@mairies-pays-de-serres.example"]
    for email in ("adjointe@mairie-laroque-timbaut.example", "maire@mairie-saint-sixte.example"):
        register(full, elus[email], secretary)
    register(full, elus["conseillere@mairie-laroque-timbaut.example"], secretary)  # waiting list

    # A session held last month, with its attendance: built directly, services refuse dates in the past.
    past_day = _days(numerique, today - timedelta(days=30))[0]
    past = TrainingSession(
        training_id=numerique.id,
        starts_at=_at(past_day, 9),
        ends_at=_at(past_day, 17),
        registration_deadline=_at(past_day - timedelta(days=7), 18),
        capacity=10,
        place="Centre de gestion, Agen",
        published=True,
    )
    db.session.add(past)
    db.session.flush()
    db.session.add(
        Registration(
            session_id=past.id,
            mandate_id=elus["adjointe@mairie-laroque-timbaut.example"].id,
            collectivite_id=by_code["47138"].id,
            status=Status.PRESENT,
            registered_at=past.registration_deadline - timedelta(days=10),
            registered_by_id=secretary.id,
            delegation_held=True,
            first_year=True,
            tuition_cost=numerique.cost_per_participant,
            leave_days=Decimal("1"),
            invitation_sent=True,
            attendance_marked_at=past.ends_at,
            attestation_sent_at=past.ends_at,
        )
    )
    db.session.flush()
    # Laroque-Timbaut's training credits, last year's partly unused (carried over), with the base of the bounds.
    for year, amount, deliberation in ((today.year - 1, "1300.00", "DCM n° 12"), (today.year, "1500.00", "DCM n° 9")):
        save_budget(
            by_code["47138"], year, Decimal(amount), Decimal("62400.00"), f"{deliberation} du conseil municipal", staff
        )
    log("Formations de démonstration : 1 organisme agréé, 2 formations, 4 sessions, 5 inscriptions.")
