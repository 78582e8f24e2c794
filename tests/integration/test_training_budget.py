"""A commune's training budget on the real database: credits voted per year, spending from its registrations,
unused credits carried over within the council and lost after its renewal (CGCT L2123-14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from portal.extensions import db
from portal.training import attendance, budget, registrations, rights
from portal.training.rights_rules import Funding
from tests import factories

D = timedelta(days=1)


@pytest.fixture
def world(app):
    staff = factories.user("staff", email="formation@cdg47.fr")
    commune, other = factories.collectivite("Sauvagnas"), factories.collectivite("Layrac")
    training = factories.training("Budget communal", cost="200.00", actor=staff)
    db.session.commit()
    return {"staff": staff, "a": commune, "b": other, "training": training}


def attended(world, commune, day: date, *, present: bool = True, **data) -> None:
    """An élu of ``commune`` registered to a session of ``day`` (200 € of tuition), marked present or absent."""
    start = datetime(day.year, day.month, day.day, 8, 0, tzinfo=UTC)
    session = factories.training_session(world["training"], starts_at=start, actor=world["staff"], now=start - 40 * D)
    person = factories.elu(commune)
    db.session.commit()
    registration = registrations.register(
        session, person.mandate, person, data=registrations.RegistrationInput(**data), now=start - 30 * D
    )
    attendance.mark_attendance(session, {registration.id} if present else set(), world["staff"], now=start + D)
    db.session.commit()


def vote(world, year: int, amount: str, base: str | None = "30000") -> None:
    rights.save_budget(
        world["a"], year, Decimal(amount), Decimal(base) if base else None, f"DCM {year}-04", world["staff"]
    )
    db.session.commit()


def test_spending_and_carry_over_within_the_council(world):
    vote(world, 2020, "5000")  # the previous council's: lost at the 2020 renewal
    vote(world, 2024, "300")
    vote(world, 2025, "1000")
    attended(world, world["a"], date(2025, 10, 6), travel_cost=Decimal("25.00"))  # 225 €
    attended(world, world["a"], date(2025, 11, 3), present=False)  # absent: the seat is invoiced, 200 €
    # DIFE pays part of it: the commune's share is 200 - 150 = 50 €.
    attended(world, world["a"], date(2025, 11, 17), funding=Funding.BOTH, dife_amount=Decimal("150.00"))
    attended(world, world["b"], date(2025, 10, 6))  # another commune's spending
    vote(world, 2026, "500")
    attended(world, world["a"], date(2026, 11, 16))

    last_year = budget.commune_budget(world["a"].id, 2025)
    assert last_year.carried_over == Decimal("300") and last_year.spent == Decimal("475.00")
    assert last_year.remaining == Decimal("825.00") and last_year.carried_to_next == Decimal("825.00")
    assert last_year.floor == Decimal("600.00") and last_year.floor_met is True
    assert last_year.ceiling == Decimal("6000.00") and not last_year.ceiling_exceeded

    renewal = budget.commune_budget(world["a"].id, 2026)
    assert renewal.voted == Decimal("500.00") and renewal.carried_over == Decimal("825.00")
    assert renewal.available == Decimal("1325.00") and renewal.spent == Decimal("200.00")
    assert renewal.floor_met is False  # 500 € voted < 2 % of 30 000 €, whatever was carried over
    assert renewal.carried_to_next == 0  # 2026: the councils are renewed

    assert budget.commune_budget(world["a"].id, 2027).carried_over == 0
    assert budget.commune_budget(world["b"].id, 2025).spent == Decimal("200.00")


def test_ceiling_against_actual_spending_and_coming_registrations(world):
    vote(world, 2026, "2000", base="1000")  # ceiling 200 €
    attended(world, world["a"], date(2026, 10, 5))
    checked = budget.commune_budget(world["a"].id, 2026)
    assert checked.spent == Decimal("200.00") and not checked.ceiling_exceeded
    attended(world, world["a"], date(2026, 10, 12), travel_cost=Decimal("0.01"))
    checked = budget.commune_budget(world["a"].id, 2026)
    assert checked.ceiling_exceeded
    assert any("dépassent le plafond légal de 20 %" in warning for warning in checked.warnings)
