"""The bounds of a commune's training budget for its élus, and the carry-over of unused credits, as pure functions.

Source: CGCT art. L2123-14 (``shared/domain.md`` §4):

    « Le montant prévisionnel des dépenses de formation ne peut être inférieur à 2 % du montant total des
    indemnités de fonction qui peuvent être allouées aux membres du conseil municipal […]. Le montant réel des
    dépenses de formation ne peut excéder 20 % du même montant […]. Les crédits relatifs aux dépenses de formation
    qui n'ont pas été consommés à la clôture de l'exercice au titre duquel ils ont été inscrits sont affectés en
    totalité au budget de l'exercice suivant. Ils ne peuvent être reportés au-delà de l'année au cours de laquelle
    intervient le renouvellement de l'assemblée délibérante. »

So the 2 % **floor** is checked against the forecast (the credits the council voted for the year), the 20 %
**ceiling** against the actual spending (what the commune's registrations of the year cost it), and unused
credits pass to the next year, year after year, until the year the council is renewed: what is left at the end of
a renewal year is lost. The base (the maximum indemnités de fonction the council could vote) is an input entered
each year: loi n° 2025-1249 raised mayors' maxima in communes under 20,000 inhabitants.

No Flask, no SQLAlchemy: plain values in, plain values out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from portal.common.formatting import money_fr
from portal.common.i18n import gettext as _

FLOOR_SHARE = Decimal("0.02")
CEILING_SHARE = Decimal("0.20")
LEGAL_BASIS = "CGCT, art. L2123-14"

# General renewals of the municipal councils (years of the elections): every six years from 1947 to 1995, then
# 2001, 2008, 2014, 2020 (the second round postponed to June by the epidemic), 2026 (15 and 22 March), then every
# six years (code électoral L227). Before the first one known here, no carry-over is computed.
PAST_RENEWALS = (1947, 1953, 1959, 1965, 1971, 1977, 1983, 1989, 1995, 2001, 2008, 2014, 2020)
RENEWAL_CYCLE_FROM = 2020
RENEWAL_CYCLE_YEARS = 6

_CENTS = Decimal("0.01")


def is_renewal_year(year: int) -> bool:
    """Whether the municipal councils are renewed in ``year``: 2001, 2008, 2014, 2020, 2026, 2032, 2038…"""
    if year < RENEWAL_CYCLE_FROM:
        return year in PAST_RENEWALS
    return (year - RENEWAL_CYCLE_FROM) % RENEWAL_CYCLE_YEARS == 0


def last_renewal_before(year: int) -> int:
    """The latest renewal year strictly before ``year`` (2020 for 2026, 2026 for 2027); ``year - 1`` before the
    first renewal known (so nothing is carried over)."""
    if year <= PAST_RENEWALS[0]:
        return year - 1
    if year > RENEWAL_CYCLE_FROM:
        return year - 1 - (year - 1 - RENEWAL_CYCLE_FROM) % RENEWAL_CYCLE_YEARS
    return max(renewal for renewal in PAST_RENEWALS if renewal < year)


def next_renewal_from(year: int) -> int:
    """The first renewal year from ``year`` on (``year`` itself when the council is renewed that year)."""
    if year > RENEWAL_CYCLE_FROM:
        return year + (RENEWAL_CYCLE_FROM - year) % RENEWAL_CYCLE_YEARS
    return min(renewal for renewal in PAST_RENEWALS if renewal >= year) if year > PAST_RENEWALS[0] else PAST_RENEWALS[0]


def carry_start(year: int) -> int:
    """The first year whose unused credits can still reach ``year``: the year after the last renewal before it.

    For 2026 (a renewal year) credits come from 2021 to 2025; for 2027, from none (2026's are lost)."""
    return last_renewal_before(year) + 1


def floor(max_indemnities: Decimal) -> Decimal:
    """The minimum the council must vote for training: 2 % of the maximum indemnités, rounded to the cent."""
    return (max_indemnities * FLOOR_SHARE).quantize(_CENTS, ROUND_HALF_UP)


def ceiling(max_indemnities: Decimal) -> Decimal:
    """The most the commune may actually spend on training: 20 % of the maximum indemnités, to the cent."""
    return (max_indemnities * CEILING_SHARE).quantize(_CENTS, ROUND_HALF_UP)


@dataclass(frozen=True)
class PastYear:
    """What a past year of the same council left: credits voted (None when not entered) and what was spent."""

    year: int
    voted: Decimal | None
    spent: Decimal


def carried_over(year: int, history: Iterable[PastYear]) -> Decimal:
    """Unused credits brought into ``year``: replayed from :func:`carry_start`, each year's credits (voted plus
    those it received) less its spending pass to the next year, never below zero; years before the start (the
    previous council's, lost at its renewal) and after ``year`` are ignored. A year without a vote counts none."""
    by_year = {past.year: past for past in history}
    carry = Decimal(0)
    for each in range(carry_start(year), year):
        past = by_year.get(each)
        voted = past.voted if past is not None and past.voted is not None else Decimal(0)
        spent = past.spent if past is not None else Decimal(0)
        carry = max(voted + carry - spent, Decimal(0))
    return carry


@dataclass(frozen=True)
class BudgetCheck:
    """A commune's training budget for one year, checked against the law."""

    year: int
    voted: Decimal | None  # the forecast: credits voted for the year (None: not entered)
    carried_over: Decimal  # unused credits of the previous years of the same council
    spent: Decimal  # actual spending: registrations of the year attended (or missed: the seat is invoiced)
    committed: Decimal  # registrations of the year still to come
    max_indemnities: Decimal | None  # the base of both bounds (None: not entered)

    @property
    def available(self) -> Decimal:
        return (self.voted or Decimal(0)) + self.carried_over

    @property
    def remaining(self) -> Decimal:
        return self.available - self.spent - self.committed

    @property
    def floor(self) -> Decimal | None:
        return None if self.max_indemnities is None else floor(self.max_indemnities)

    @property
    def ceiling(self) -> Decimal | None:
        return None if self.max_indemnities is None else ceiling(self.max_indemnities)

    @property
    def floor_met(self) -> bool | None:
        """Whether the forecast reaches 2 %; None when the vote or the base is not entered."""
        if self.voted is None or self.floor is None:
            return None
        return self.voted >= self.floor

    @property
    def ceiling_exceeded(self) -> bool:
        return self.ceiling is not None and self.spent > self.ceiling

    @property
    def ceiling_at_risk(self) -> bool:
        """Spending within the ceiling so far, above it once the coming registrations are paid."""
        return self.ceiling is not None and not self.ceiling_exceeded and self.spent + self.committed > self.ceiling

    @property
    def renewal_year(self) -> bool:
        return is_renewal_year(self.year)

    @property
    def carried_to_next(self) -> Decimal:
        """What would pass to next year if nothing else were spent: nothing after the council's renewal year."""
        if self.renewal_year:
            return Decimal(0)
        return max(self.remaining, Decimal(0))

    @property
    def carry_limit_year(self) -> int:
        """The last year this year's unused credits can reach: the next renewal year (this year if it is one)."""
        return next_renewal_from(self.year)

    @property
    def warnings(self) -> list[str]:
        return warnings(self)

    @property
    def carry_note(self) -> str:
        return carry_note(self)


def check(
    *,
    year: int,
    voted: Decimal | None,
    max_indemnities: Decimal | None,
    spent: Decimal,
    committed: Decimal,
    history: Iterable[PastYear] = (),
) -> BudgetCheck:
    """The year's budget with the credits carried over from ``history`` (:func:`carried_over`)."""
    return BudgetCheck(
        year=year,
        voted=voted,
        carried_over=carried_over(year, history),
        spent=spent,
        committed=committed,
        max_indemnities=max_indemnities,
    )


def warnings(budget: BudgetCheck) -> list[str]:
    """What the commune must know about its budget, in French: each bound missed, the base missing, an
    overspent budget."""
    found = []
    if budget.max_indemnities is None:
        found.append(
            _(
                "Renseignez le montant maximal des indemnités de fonction de l'année : il sert de base "
                "aux bornes légales (%(legal_basis)s).",
                legal_basis=LEGAL_BASIS,
            )
        )
    if budget.floor_met is False:
        found.append(
            _(
                "Les crédits votés (%(voted)s) sont inférieurs au minimum légal de 2 %% du montant "
                "maximal des indemnités de fonction (%(floor)s, %(legal_basis)s).",
                voted=money_fr(budget.voted),
                floor=money_fr(budget.floor),
                legal_basis=LEGAL_BASIS,
            )
        )
    if budget.ceiling_exceeded:
        found.append(
            _(
                "Les dépenses réalisées (%(spent)s) dépassent le plafond légal de 20 %% du montant "
                "maximal des indemnités de fonction (%(ceiling)s, %(legal_basis)s).",
                spent=money_fr(budget.spent),
                ceiling=money_fr(budget.ceiling),
                legal_basis=LEGAL_BASIS,
            )
        )
    elif budget.ceiling_at_risk:
        found.append(
            _(
                "Avec les inscriptions à venir, les dépenses (%(expenses)s) dépasseraient le plafond légal de "
                "20 %% (%(ceiling)s, %(legal_basis)s).",
                expenses=money_fr(budget.spent + budget.committed),
                ceiling=money_fr(budget.ceiling),
                legal_basis=LEGAL_BASIS,
            )
        )
    if budget.voted is not None and budget.remaining < 0:
        found.append(
            _(
                "Les dépenses réalisées et engagées dépassent de %(excess)s les crédits disponibles.",
                excess=money_fr(-budget.remaining),
            )
        )
    return found


def carry_note(budget: BudgetCheck) -> str:
    """Where this year's unused credits go, in French."""
    if budget.renewal_year:
        return _(
            "%(year)s est l'année du renouvellement des conseils municipaux : les crédits non consommés à la fin de "
            "l'année ne seront pas reportés (%(legal_basis)s).",
            year=budget.year,
            legal_basis=LEGAL_BASIS,
        )
    return _(
        "Les crédits non consommés à la fin de %(year)s seront reportés sur %(next_year)s, au plus tard jusqu'à "
        "l'année du renouvellement du conseil (%(limit_year)s).",
        year=budget.year,
        next_year=budget.year + 1,
        limit_year=budget.carry_limit_year,
    )
