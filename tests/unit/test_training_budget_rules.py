"""The bounds of a commune's training budget and the carry-over of unused credits (CGCT L2123-14)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from portal.training import budget_rules as br
from portal.training.budget_rules import PastYear

D = Decimal


@pytest.mark.parametrize(
    ("year", "renewed"),
    [(1995, True), (1996, False), (2001, True), (2008, True), (2014, True), (2019, False), (2020, True)]
    + [(2021, False), (2025, False)]
    + [(2026, True), (2027, False), (2031, False), (2032, True), (2038, True), (2035, False)],
)
def test_municipal_renewal_years(year, renewed):
    assert br.is_renewal_year(year) is renewed


@pytest.mark.parametrize("year", [1900, 1946, 1947, 1950, 1995, 2000, 2001, 2019, 2020, 2026, 2027, 2077, 2099])
def test_renewals_around_any_year_of_the_portal(year):
    """Every year of the portal's range (1950 to today + 50) has its last renewal and the next, at once."""
    last, following = br.last_renewal_before(year), br.next_renewal_from(year)
    assert last < year <= following
    assert br.is_renewal_year(following)
    assert br.is_renewal_year(last) or year <= br.PAST_RENEWALS[0]
    assert not any(br.is_renewal_year(y) for y in range(last + 1, year))
    assert not any(br.is_renewal_year(y) for y in range(year, following))


def test_last_and_next_renewal():
    assert br.last_renewal_before(2026) == 2020
    assert br.last_renewal_before(2027) == 2026
    assert br.last_renewal_before(2021) == 2020
    assert br.next_renewal_from(2026) == 2026
    assert br.next_renewal_from(2027) == 2032
    assert br.carry_start(2026) == 2021
    assert br.carry_start(2027) == 2027
    assert br.carry_start(2032) == 2027


def test_floor_and_ceiling_to_the_cent():
    assert br.floor(D("100000")) == D("2000.00") and br.ceiling(D("100000")) == D("20000.00")
    assert br.floor(D("12345.67")) == D("246.91") and br.ceiling(D("12345.67")) == D("2469.13")
    assert br.floor(D("0.25")) == D("0.01") and br.ceiling(D("0.25")) == D("0.05")  # half up
    assert br.floor(D("0")) == D("0.00") and br.ceiling(D("0")) == D("0.00")


def test_unused_credits_pass_from_year_to_year_within_the_council():
    history = [
        PastYear(2027, voted=D("1000"), spent=D("600")),  # 400 unused
        PastYear(2028, voted=D("1000"), spent=D("1200")),  # 1 400 available, 200 unused
        PastYear(2029, voted=None, spent=D("50")),  # nothing voted: the carry pays, 150 unused
    ]
    assert br.carried_over(2028, history) == D("400")
    assert br.carried_over(2029, history) == D("200")
    assert br.carried_over(2030, history) == D("150")
    # Year 2031 without any row: the 150 stay until the renewal year 2032, which receives them.
    assert br.carried_over(2032, history) == D("150")


def test_spending_above_the_credits_carries_nothing_not_a_debt():
    history = [PastYear(2027, voted=D("500"), spent=D("900")), PastYear(2028, voted=D("300"), spent=D("0"))]
    assert br.carried_over(2028, history) == 0
    assert br.carried_over(2029, history) == D("300")


def test_credits_are_not_carried_beyond_the_renewal_year():
    history = [PastYear(2025, voted=D("800"), spent=D("300")), PastYear(2026, voted=D("1000"), spent=D("100"))]
    # 2025's 500 reach 2026, the year the council is renewed …
    assert br.carried_over(2026, history) == D("500")
    # … but what 2026 leaves (1 400) is lost with the council: 2027 starts from nothing.
    assert br.carried_over(2027, history) == 0
    # The previous council's years never count for the next one.
    assert br.carried_over(2027, [PastYear(2020, voted=D("5000"), spent=D("0"))]) == 0


def budget(**values) -> br.BudgetCheck:
    defaults = dict(year=2027, voted=D("1000"), max_indemnities=D("40000"), spent=D("0"), committed=D("0"))
    return br.check(**{**defaults, **values})


def test_floor_is_checked_against_the_credits_voted():
    assert budget(voted=D("800")).floor_met is True  # 2 % of 40 000 = 800, reached exactly
    assert budget(voted=D("799.99")).floor_met is False
    # Carried-over credits do not make up for a forecast below 2 %.
    history = [PastYear(2028, voted=D("5000"), spent=D("0"))]
    short = budget(year=2029, voted=D("100"), history=history)
    assert short.available == D("5100") and short.floor_met is False
    assert budget(voted=None).floor_met is None and budget(max_indemnities=None).floor_met is None


def test_ceiling_is_checked_against_actual_spending():
    assert budget(spent=D("8000")).ceiling_exceeded is False  # 20 % of 40 000, reached exactly
    assert budget(spent=D("8000.01")).ceiling_exceeded is True
    # Credits voted above 20 % are not spending: the ceiling holds until the money is spent.
    assert budget(voted=D("12000")).ceiling_exceeded is False
    at_risk = budget(spent=D("7000"), committed=D("1500"))
    assert at_risk.ceiling_at_risk is True and at_risk.ceiling_exceeded is False
    assert budget(spent=D("9000"), committed=D("1500")).ceiling_at_risk is False  # already exceeded
    assert budget(max_indemnities=None, spent=D("99999")).ceiling_exceeded is False


def test_remaining_and_what_passes_to_next_year():
    history = [PastYear(2027, voted=D("1000"), spent=D("700"))]
    year = budget(year=2028, voted=D("1000"), spent=D("400"), committed=D("100"), history=history)
    assert year.carried_over == D("300") and year.available == D("1300") and year.remaining == D("800")
    assert year.carried_to_next == D("800") and year.carry_limit_year == 2032
    renewal = budget(year=2032, voted=D("1000"), spent=D("100"))
    assert renewal.remaining == D("900") and renewal.carried_to_next == 0


def test_warnings_in_french_with_the_figures():
    assert budget().warnings == []
    (low,) = budget(voted=D("500")).warnings
    assert low == (
        "Les crédits votés (500\u202f€) sont inférieurs au minimum légal de 2 % du montant maximal des indemnités "
        "de fonction (800\u202f€, CGCT, art. L2123-14)."
    )
    over = budget(voted=D("9000"), spent=D("8500.50")).warnings
    assert over == [
        "Les dépenses réalisées (8\u202f500,50\u202f€) dépassent le plafond légal de 20 % du montant maximal des "
        "indemnités de fonction (8\u202f000\u202f€, CGCT, art. L2123-14)."
    ]
    (risk,) = budget(voted=D("9000"), spent=D("7000"), committed=D("1500")).warnings
    assert risk.startswith("Avec les inscriptions à venir, les dépenses (8\u202f500\u202f€) dépasseraient")
    (overspent,) = budget(voted=D("1000"), spent=D("1200")).warnings
    assert overspent == "Les dépenses réalisées et engagées dépassent de 200\u202f€ les crédits disponibles."
    (no_base,) = budget(max_indemnities=None).warnings
    assert no_base.startswith("Renseignez le montant maximal des indemnités de fonction")


def test_carry_note():
    assert br.carry_note(budget(year=2027)) == (
        "Les crédits non consommés à la fin de 2027 seront reportés sur 2028, au plus tard jusqu'à l'année du "
        "renouvellement du conseil (2032)."
    )
    assert br.carry_note(budget(year=2026)).startswith(
        "2026 est l'année du renouvellement des conseils municipaux : les crédits non consommés"
    )
