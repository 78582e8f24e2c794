"""Catalogue and statement rules: eligibility, tariffs, caps, pro rata, payment calendar, UAI keys."""

from datetime import date
from decimal import Decimal

import pytest

from portal.catalogue import rules
from portal.catalogue.rules import Eligibility, TariffModel


@pytest.mark.parametrize(
    ("rule", "status", "eligible"),
    [
        (Eligibility.ANY, None, True),
        (Eligibility.ANY, "non_affiliee", True),
        (Eligibility.AFFILIATED, "obligatoire", True),
        (Eligibility.AFFILIATED, "volontaire", True),
        (Eligibility.AFFILIATED, "non_affiliee", False),
        (Eligibility.AFFILIATED, None, False),
        (Eligibility.SOCLE, "non_affiliee", True),
        (Eligibility.SOCLE, "obligatoire", False),
        (Eligibility.SOCLE, None, False),
    ],
)
def test_eligibility(rule, status, eligible):
    result = rules.eligibility(rule, status)
    assert result.eligible is eligible
    assert result.reason  # always explained, in French


def test_eligibility_reasons_say_why():
    assert "réservé aux collectivités affiliées" in rules.eligibility(Eligibility.AFFILIATED, "non_affiliee").reason
    assert "déclarez vos effectifs" in rules.eligibility(Eligibility.AFFILIATED, None).reason
    assert "L452-39" in rules.eligibility(Eligibility.SOCLE, "non_affiliee").reason
    with pytest.raises(ValueError):
        rules.eligibility("nimporte", "obligatoire")


@pytest.mark.parametrize(
    ("model", "unit", "quantities", "expected"),
    [
        (TariffModel.PAYROLL_RATE, Decimal("0.35"), {"payroll": 1_000_000}, Decimal("3500.00")),
        (TariffModel.PER_AGENT, Decimal("42.50"), {"agents": 12}, Decimal("510.00")),
        (TariffModel.PER_PUPIL, Decimal("3.20"), {"pupils": 157}, Decimal("502.40")),
        (TariffModel.PER_SCHOOL, Decimal("150"), {"schools": 2}, Decimal("300.00")),
        (TariffModel.PER_HOUR, Decimal("55"), {"hours": 7}, Decimal("385.00")),
        (TariffModel.PER_DAY, Decimal("380"), {"days": 3}, Decimal("1140.00")),
        (TariffModel.FLAT, Decimal("250"), {}, Decimal("250.00")),
        (TariffModel.INCLUDED, Decimal("0"), {}, Decimal("0.00")),
        (TariffModel.PAYROLL_RATE, Decimal("0.333"), {"payroll": 1001}, Decimal("3.33")),
    ],
)
def test_yearly_amounts(model, unit, quantities, expected):
    assert rules.yearly_amount(model, unit, quantities) == expected


def test_unknown_quantity_gives_no_estimate_and_negative_values_are_refused():
    assert rules.yearly_amount(TariffModel.PER_PUPIL, Decimal("3"), {}) is None
    with pytest.raises(ValueError):
        rules.yearly_amount(TariffModel.PER_AGENT, Decimal("3"), {"agents": -1})
    with pytest.raises(ValueError):
        rules.yearly_amount(TariffModel.FLAT, Decimal("-3"), {})


@pytest.mark.parametrize(
    ("kind", "rate", "ok"),
    [
        ("cotisation", Decimal("0.8"), True),
        ("cotisation", Decimal("0.80"), True),
        ("cotisation", Decimal("0.81"), False),
        ("socle", Decimal("0.2"), True),
        ("socle", Decimal("0.21"), False),
        ("cotisation", Decimal("-0.1"), False),
    ],
)
def test_rate_caps(kind, rate, ok):
    if ok:
        rules.check_rate(kind, rate)
    else:
        with pytest.raises(rules.RateTooHigh):
            rules.check_rate(kind, rate)


def test_rate_cap_message_is_french():
    expected = "ne peut pas dépasser 0,8\u202f% de la masse salariale \\(taux saisi : 0,9\u202f%\\)"
    with pytest.raises(rules.RateTooHigh, match=expected):
        rules.check_rate("cotisation", Decimal("0.9"))


def test_pro_rata():
    assert rules.pro_rata(Decimal("365"), 2025, date(2025, 7, 1)) == Decimal("184.00")
    assert rules.pro_rata(Decimal("366"), 2024, date(2024, 7, 1)) == Decimal("184.00")  # leap year
    assert rules.pro_rata(Decimal("1000"), 2025, None) == Decimal("1000.00")
    assert rules.pro_rata(Decimal("1000"), 2025, date(2024, 3, 1)) == Decimal("1000.00")
    assert rules.pro_rata(Decimal("1000"), 2025, date(2026, 1, 1)) == Decimal("0.00")
    assert rules.pro_rata(Decimal("365"), 2025, date(2025, 1, 1), date(2025, 1, 31)) == Decimal("31.00")


def test_add_months_across_month_ends_and_leap_years():
    assert rules.add_months(date(2025, 12, 31), 2) == date(2026, 2, 28)
    assert rules.add_months(date(2024, 12, 31), 2) == date(2025, 2, 28)
    assert rules.add_months(date(2023, 12, 31), 2) == date(2024, 2, 29)
    assert rules.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert rules.add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)


def test_calendar_of_a_whole_year_member():
    instalments = rules.cotisation_calendar(2026, Decimal("9000"), Decimal("8400"))
    assert [(i.due, i.amount) for i in instalments] == [
        (date(2026, 1, 31), Decimal("2800.00")),
        (date(2026, 5, 31), Decimal("6200.00")),
    ]
    assert sum(i.amount for i in instalments) == Decimal("9000.00")


def test_calendar_without_previous_year_is_a_single_balance():
    instalments = rules.cotisation_calendar(2026, Decimal("1200"), None)
    assert [(i.due, i.amount) for i in instalments] == [(date(2026, 5, 31), Decimal("1200.00"))]


def test_calendar_of_a_mid_year_affiliation():
    instalments = rules.cotisation_calendar(2026, Decimal("1000"), None, affiliation_start=date(2026, 8, 31))
    assert [(i.due, i.amount) for i in instalments] == [
        (date(2026, 10, 31), Decimal("250.00")),
        (date(2027, 2, 28), Decimal("750.00")),
    ]


def test_uai_keys():
    assert rules.uai_key("0470001") == "W"
    assert rules.uai_problem("0470001W") is None
    assert rules.uai_problem(" 0470001w ") is None
    assert "attendue : W" in rules.uai_problem("0470001A")
    assert "7 chiffres" in rules.uai_problem("047001W")
    assert "7 chiffres" in rules.uai_problem("04700X1W")
    # The alphabet has no I, O or Q.
    assert set(rules.UAI_LETTERS).isdisjoint("IOQ") and len(rules.UAI_LETTERS) == 23


# The deliberation that sets a cotisation rate: no later than 30 November of the year before (domain.md §2) -----


@pytest.mark.parametrize(
    ("voted_on", "accepted"),
    [(date(2026, 11, 29), True), (date(2026, 11, 30), True), (date(2026, 12, 1), False), (date(2025, 6, 1), True)],
)
def test_a_cotisation_rate_is_voted_by_30_november_of_the_year_before(voted_on, accepted):
    problem = rules.rate_deliberation_problem("cotisation", 2027, voted_on, today=date(2026, 12, 2))
    assert (problem is None) is accepted


def test_a_late_deliberation_is_refused_in_french_with_the_first_year_it_can_apply_to():
    problem = rules.rate_deliberation_problem("cotisation", 2027, date(2026, 12, 1), today=date(2026, 12, 2))
    assert problem == (
        "Une délibération du 1er décembre 2026 ne peut pas fixer le taux de cotisation de 2027 : il doit être voté au "
        "plus tard le 30 novembre 2026. Ce taux peut s'appliquer au plus tôt en 2028."
    )
    # A vote of the year itself is late too.
    assert "au plus tôt en 2027" in rules.rate_deliberation_problem(
        "cotisation", 2026, date(2026, 3, 12), today=date(2026, 12, 2)
    )
    assert rules.first_year_for_vote(date(2026, 11, 30)) == 2027
    assert rules.first_year_for_vote(date(2026, 12, 31)) == 2028


def test_the_deliberation_date_is_required_and_not_in_the_future():
    today = date(2026, 11, 15)
    assert rules.rate_deliberation_problem("cotisation", 2027, None, today) == (
        "Indiquez la date de la délibération du conseil d'administration."
    )
    assert rules.rate_deliberation_problem("cotisation", 2027, date(2026, 11, 16), today) == (
        "La délibération ne peut pas être datée après aujourd'hui (15 novembre 2026)."
    )
    # The socle's deliberation is recorded with its date, with no deadline found in the sources.
    assert rules.rate_deliberation_problem("socle", 2026, date(2026, 3, 1), today) is None


def test_deliberation_label():
    assert rules.rate_deliberation_label("Délibération n° 2025-90", date(2025, 11, 1)) == (
        "Délibération n° 2025-90 du 1er novembre 2025"
    )
    assert rules.rate_deliberation_label("Délibération n° 12", None) == "Délibération n° 12"


def test_every_quantity_an_estimate_lacks_is_named():
    """ "Estimation impossible sans …": one written fragment per quantity, never "le nombre d’jours"."""
    assert set(rules.QUANTITY_OF.values()) == set(rules.MISSING_QUANTITY_LABELS)
    assert rules.MISSING_QUANTITY_LABELS["days"] == "le nombre de jours"
    assert rules.MISSING_QUANTITY_LABELS["pupils"] == "le nombre d’élèves"
    assert rules.MISSING_QUANTITY_LABELS["payroll"] == "la masse salariale déclarée"
