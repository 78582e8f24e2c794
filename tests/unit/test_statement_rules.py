"""Yearly statements: cotisation with its calendar, socle, services pro rata, warnings."""

from datetime import date
from decimal import Decimal

from portal.statements.rules import ServiceInput, StatementInput, affiliation_period, compute_statement

RATE, SOCLE = Decimal("0.80"), Decimal("0.20")


def base(**overrides):
    values = dict(
        year=2026,
        payroll=Decimal("500000"),
        affiliated_from=date(2026, 1, 1),
        affiliated_to=None,
        cotisation_rate=RATE,
        socle_rate=SOCLE,
        previous_year_cotisation=Decimal("3900"),
    )
    values.update(overrides)
    return StatementInput(**values)


def test_whole_year_member_pays_its_cotisation_in_two_instalments():
    statement = compute_statement(base())
    assert [(line.kind, line.amount) for line in statement.lines] == [("cotisation", Decimal("4000.00"))]
    assert statement.lines[0].basis == "500\u202f000,00\u202f€ × 0,8\u202f% (année entière)"
    assert [(i.due, i.amount) for i in statement.instalments] == [
        (date(2026, 1, 31), Decimal("1300.00")),
        (date(2026, 5, 31), Decimal("2700.00")),
    ]


def test_mid_year_affiliation_is_pro_rata_with_the_quarter_calendar():
    statement = compute_statement(base(affiliated_from=date(2026, 7, 1), previous_year_cotisation=None))
    line = statement.lines[0]
    assert line.amount == Decimal("2016.44")  # 4000 × 184 / 365
    assert "du 1er juillet au 31 décembre 2026" in line.basis
    assert [(i.due, i.amount) for i in statement.instalments] == [
        (date(2026, 9, 1), Decimal("504.11")),
        (date(2027, 1, 1), Decimal("1512.33")),
    ]


def test_non_affiliated_body_with_the_socle():
    socle = ServiceInput("Socle commun", "payroll_rate", SOCLE, None, {}, date(2026, 1, 1), None)
    statement = compute_statement(base(affiliated_from=None, socle=socle))
    assert [(line.kind, line.amount) for line in statement.lines] == [("socle", Decimal("1000.00"))]
    assert statement.instalments == []


def test_services_are_due_pro_rata_at_the_tariff_of_the_year():
    services = (
        ServiceInput(
            "Gestion des personnels",
            "per_agent",
            Decimal("85"),
            "Délib. 2025-12",
            {"agents": 10},
            date(2026, 1, 1),
            None,
        ),
        ServiceInput("ENT", "per_pupil", Decimal("3.50"), None, {"pupils": 100}, date(2026, 9, 1), None),
        ServiceInput("Concours", "included", Decimal("0"), None, {}, None, None),
        ServiceInput("Archivage", "per_day", None, None, {"days": 3}, None, None),
    )
    statement = compute_statement(base(services=services))
    amounts = {line.label: line.amount for line in statement.lines}
    assert amounts["Gestion des personnels"] == Decimal("850.00")
    assert amounts["ENT"] == Decimal("116.99")  # 350 × 122 / 365
    assert "Concours" not in amounts and amounts["Archivage"] is None
    assert statement.total == Decimal("4966.99")
    assert statement.total_of("service") == Decimal("966.99")
    assert any("Aucun tarif" in w for w in statement.warnings)


def test_missing_payroll_or_rate_is_said_not_guessed():
    no_payroll = compute_statement(base(payroll=None))
    assert no_payroll.lines[0].amount is None and "non déclarée" in no_payroll.warnings[0]
    no_rate = compute_statement(base(cotisation_rate=None))
    assert no_rate.lines[0].amount is None and "non voté" in no_rate.warnings[0]


def test_affiliation_period_from_the_history():
    history = [(date(2015, 1, 1), "volontaire")]
    assert affiliation_period(history, 2026) == (date(2026, 1, 1), None)
    joined = [(date(2020, 1, 1), "non_affiliee"), (date(2026, 7, 1), "obligatoire")]
    assert affiliation_period(joined, 2026) == (date(2026, 7, 1), None)
    left = [(date(2010, 1, 1), "volontaire"), (date(2026, 4, 1), "non_affiliee")]
    assert affiliation_period(left, 2026) == (date(2026, 1, 1), date(2026, 3, 31))
    assert affiliation_period(left, 2027) == (None, None)
    assert affiliation_period([], 2026) == (None, None)
    assert affiliation_period([(date(2027, 1, 1), "obligatoire")], 2026) == (None, None)


def test_the_statement_names_the_deliberation_that_set_the_rate():
    statement = compute_statement(base(cotisation_deliberation="Délibération n° 2025-90 du 25 novembre 2025"))
    assert statement.lines[0].basis == (
        "500\u202f000,00\u202f€ × 0,8\u202f% (année entière) — Délibération n° 2025-90 du 25 novembre 2025"
    )
