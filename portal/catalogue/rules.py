"""Pure rules of the catalogue and of the yearly statements: eligibility, tariffs, caps, pro rata,
payment calendar, UAI keys. No Flask, no SQLAlchemy; amounts are Decimal, rounded to the cent.

Sources: loi n° 84-53, art. 22 (now CGFP) and loi n° 85-1221, art. 20 for the cotisation
(rate capped at 0.8 % of payroll, advance of one third before 1 February, balance before
1 June; mid-year affiliation: one quarter within 2 months, balance within 6 months);
CGFP L452-39 for the socle commun (all-or-nothing, capped at 0.2 %); missions facultatives
under a convention, at the tariff voted by the board (délibération referenced).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from portal.common.formatting import date_fr, percent_fr
from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels

COTISATION_CAP = Decimal("0.8")  # percent of payroll
SOCLE_CAP = Decimal("0.2")  # percent of payroll
CENT = Decimal("0.01")


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Group(StrEnum):
    OBLIGATOIRE = "obligatoire"  # included in the cotisation, shown for information
    SOCLE = "socle"  # socle commun de compétences, non-affiliated bodies, all-or-nothing
    FACULTATIVE = "facultative"  # under a convention, at its own tariff


GROUP_LABELS = Labels(
    {
        Group.OBLIGATOIRE: N_("Missions obligatoires (comprises dans la cotisation)"),
        Group.SOCLE: N_("Socle commun de compétences (collectivités non affiliées)"),
        Group.FACULTATIVE: N_("Missions facultatives (sur convention)"),
    }
)


class Eligibility(StrEnum):
    AFFILIATED = "affiliated"  # affiliated bodies only
    ANY = "any"  # any body
    SOCLE = "socle"  # non-affiliated bodies, through the socle commun


ELIGIBILITY_LABELS = Labels(
    {
        Eligibility.AFFILIATED: N_("Collectivités affiliées"),
        Eligibility.ANY: N_("Toutes les collectivités"),
        Eligibility.SOCLE: N_("Collectivités non affiliées (socle commun)"),
    }
)


class TariffModel(StrEnum):
    PAYROLL_RATE = "payroll_rate"
    PER_AGENT = "per_agent"
    PER_PUPIL = "per_pupil"
    PER_SCHOOL = "per_school"
    PER_HOUR = "per_hour"
    PER_DAY = "per_day"
    FLAT = "flat"
    INCLUDED = "included"  # paid by the cotisation


TARIFF_LABELS = Labels(
    {
        TariffModel.PAYROLL_RATE: N_("Taux de la masse salariale (%)"),
        TariffModel.PER_AGENT: N_("Par agent et par an"),
        TariffModel.PER_PUPIL: N_("Par élève et par an"),
        TariffModel.PER_SCHOOL: N_("Par école et par an"),
        TariffModel.PER_HOUR: N_("Coût horaire"),
        TariffModel.PER_DAY: N_("Coût journalier"),
        TariffModel.FLAT: N_("Forfait annuel"),
        TariffModel.INCLUDED: N_("Compris dans la cotisation"),
    }
)

# The quantity each model multiplies.
QUANTITY_OF = {
    TariffModel.PAYROLL_RATE: "payroll",
    TariffModel.PER_AGENT: "agents",
    TariffModel.PER_PUPIL: "pupils",
    TariffModel.PER_SCHOOL: "schools",
    TariffModel.PER_HOUR: "hours",
    TariffModel.PER_DAY: "days",
}

# What an estimate lacks while a quantity is unknown: "Estimation impossible sans le nombre de jours".
MISSING_QUANTITY_LABELS = Labels(
    {
        "payroll": N_("la masse salariale déclarée"),
        "agents": N_("le nombre d’agents"),
        "pupils": N_("le nombre d’élèves"),
        "schools": N_("le nombre d’écoles"),
        "hours": N_("le nombre d’heures"),
        "days": N_("le nombre de jours"),
    }
)

# What each quantity of a request is called on pages and in the convention d'adhésion.
QUANTITY_LABELS = Labels(
    {
        "payroll": N_("Masse salariale déclarée"),
        "agents": N_("Nombre d'agents"),
        "pupils": N_("Nombre d'élèves"),
        "schools": N_("Nombre d'écoles"),
        "hours": N_("Nombre d'heures"),
        "days": N_("Nombre de jours"),
    }
)

AFFILIATED_STATUSES = frozenset({"obligatoire", "volontaire"})


@dataclass(frozen=True)
class EligibilityResult:
    eligible: bool
    reason: str


def eligibility(rule: str, affiliation_status: str | None) -> EligibilityResult:
    """Whether a body with ``affiliation_status`` may subscribe to a service, and why, in French."""
    affiliated = affiliation_status in AFFILIATED_STATUSES
    if rule == Eligibility.ANY:
        return EligibilityResult(True, _("Service ouvert à toutes les collectivités, affiliées ou non."))
    if rule == Eligibility.AFFILIATED:
        if affiliated:
            return EligibilityResult(True, _("Service réservé aux collectivités affiliées : votre collectivité l'est."))
        return EligibilityResult(
            False,
            _(
                "Service réservé aux collectivités affiliées au centre de gestion ; votre collectivité ne l'est pas "
                "(statut à déterminer : déclarez vos effectifs)."
            )
            if not affiliation_status
            else _(
                "Service réservé aux collectivités affiliées au centre de gestion ; votre collectivité ne l'est pas."
            ),
        )
    if rule == Eligibility.SOCLE:
        if affiliation_status == "non_affiliee":
            return EligibilityResult(
                True,
                _(
                    "Les collectivités non affiliées peuvent adhérer au socle commun de compétences, en bloc "
                    "(CGFP L452-39)."
                ),
            )
        if affiliated:
            return EligibilityResult(
                False, _("Compris dans l'affiliation : le socle commun concerne les collectivités non affiliées.")
            )
        return EligibilityResult(False, _("Statut d'affiliation à déterminer : déclarez d'abord vos effectifs."))
    raise ValueError(f"unknown eligibility rule {rule!r}")


def yearly_amount(model: str, unit_amount: Decimal, quantities: dict[str, Decimal | int | None]) -> Decimal | None:
    """The yearly cost of a tariff for a body's quantities; None when a quantity is not known yet.

    ``unit_amount`` is a percentage for PAYROLL_RATE, an amount in euros otherwise.
    """
    if unit_amount < 0:
        raise ValueError("a tariff cannot be negative")
    if model == TariffModel.INCLUDED:
        return money(0)
    if model == TariffModel.FLAT:
        return money(unit_amount)
    key = QUANTITY_OF[TariffModel(model)]
    quantity = quantities.get(key)
    if quantity is None:
        return None
    quantity = Decimal(quantity)
    if quantity < 0:
        raise ValueError(f"{key} cannot be negative")
    if model == TariffModel.PAYROLL_RATE:
        return money(quantity * unit_amount / 100)
    return money(quantity * unit_amount)


class RateTooHigh(ValueError):
    """A cotisation rate above its legal cap."""


def check_rate(kind: str, rate_percent: Decimal) -> None:
    """The obligatory cotisation is capped at 0.8 % of payroll, the socle contribution at 0.2 %."""
    if rate_percent < 0:
        raise RateTooHigh(_("Le taux ne peut pas être négatif."))
    cap = COTISATION_CAP if kind == "cotisation" else SOCLE_CAP
    if rate_percent > cap:
        what = _("de la cotisation obligatoire") if kind == "cotisation" else _("de la contribution au socle commun")
        raise RateTooHigh(
            _(
                "Le taux %(what)s ne peut pas dépasser %(cap)s de la masse salariale (taux saisi : %(rate_percent)s).",
                what=what,
                cap=percent_fr(cap),
                rate_percent=percent_fr(rate_percent),
            )
        )


def rate_vote_deadline(year: int) -> date:
    """The last day the board can vote the cotisation rate of ``year``: 30 November of the year before."""
    return date(year - 1, 11, 30)


def first_year_for_vote(voted_on: date) -> int:
    """The first year a rate voted on ``voted_on`` can apply to: next year if voted by 30 November, else the one
    after."""
    return voted_on.year + 1 if voted_on <= date(voted_on.year, 11, 30) else voted_on.year + 2


def rate_deliberation_problem(kind: str, year: int, voted_on: date | None, today: date) -> str | None:
    """Why the board's deliberation dated ``voted_on`` cannot set the ``kind`` rate of ``year``, in French; None
    when it can.

    The obligatory cotisation rate is voted by the CDG's board no later than 30 November of the year before
    (``shared/domain.md`` §2, the cotisation of loi n° 84-53 art. 22 and loi n° 85-1221 art. 20): a rate voted
    later cannot apply from 1 January of ``year``. The socle commun contribution has no such date in the sources
    read: its deliberation is recorded with its date, unchecked. A deliberation cannot be dated after today."""
    if voted_on is None:
        return _("Indiquez la date de la délibération du conseil d'administration.")
    if voted_on > today:
        return _("La délibération ne peut pas être datée après aujourd'hui (%(today)s).", today=date_fr(today))
    deadline = rate_vote_deadline(year)
    if kind == "cotisation" and voted_on > deadline:
        return _(
            "Une délibération du %(voted_on)s ne peut pas fixer le taux de cotisation de %(year)s "
            ": il doit être voté au plus tard le %(deadline)s. Ce taux peut s'appliquer au plus "
            "tôt en %(first_year)s.",
            voted_on=date_fr(voted_on),
            year=year,
            deadline=date_fr(deadline),
            first_year=first_year_for_vote(voted_on),
        )
    return None


def rate_deliberation_label(reference: str, voted_on: date | None) -> str:
    """The deliberation as a statement names it: "Délibération n° 2025-90 du 25 novembre 2025"."""
    return f"{reference} du {date_fr(voted_on)}" if voted_on is not None else reference


def days_in_year(year: int) -> int:
    return 366 if calendar.isleap(year) else 365


def pro_rata(yearly: Decimal, year: int, start: date | None, end: date | None = None) -> Decimal:
    """The part of a yearly amount due for the days of ``year`` between start and end (both included)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    begin = max(first, start) if start else first
    finish = min(last, end) if end else last
    if finish < begin:
        return money(0)
    days = (finish - begin).days + 1
    return money(Decimal(yearly) * days / days_in_year(year))


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, or the month's last day when it does not exist (31 → 30, 29 February → 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Instalment:
    due: date
    amount: Decimal
    label: str


def cotisation_calendar(
    year: int, total: Decimal, previous_year_total: Decimal | None, affiliation_start: date | None = None
) -> list[Instalment]:
    """When the cotisation of ``year`` is paid (loi n° 85-1221, art. 20).

    A body affiliated for the whole year pays an advance of one third of last year's cotisation
    before 1 February and the balance before 1 June. A body whose affiliation takes effect during
    the year pays one quarter within 2 months and the balance within 6 months of that date.
    """
    total = money(total)
    if affiliation_start is not None and affiliation_start.year == year and affiliation_start > date(year, 1, 1):
        quarter = money(total / 4)
        return [
            Instalment(
                add_months(affiliation_start, 2), quarter, _("Premier quart (dans les deux mois de l'affiliation)")
            ),
            Instalment(
                add_months(affiliation_start, 6), total - quarter, _("Solde (dans les six mois de l'affiliation)")
            ),
        ]
    advance = money(min(total, (previous_year_total or Decimal(0)) / 3))
    instalments = []
    if advance > 0:
        instalments.append(
            Instalment(date(year, 1, 31), advance, _("Acompte d'un tiers de la cotisation de l'an passé"))
        )
    instalments.append(Instalment(date(year, 5, 31), total - advance, _("Solde")))
    return instalments


UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # 23 letters: no I, O, Q


def uai_key(seven_digits: str) -> str:
    """The check letter of a UAI (ex-RNE) code: the 7-digit number modulo 23, in a 23-letter alphabet."""
    if len(seven_digits) != 7 or not seven_digits.isdigit():
        raise ValueError("a UAI starts with 7 digits")
    return UAI_LETTERS[int(seven_digits) % 23]


def uai_problem(code: str) -> str | None:
    """Why a UAI code is not valid, in French; None when it is."""
    code = (code or "").strip().upper()
    if len(code) != 8 or not code[:7].isdigit() or not code[7].isalpha():
        return _("Un code UAI comporte 7 chiffres suivis d'une lettre, par exemple 0470001W.")
    expected = uai_key(code[:7])
    if code[7] != expected:
        return _(
            "La lettre de contrôle du code UAI %(code)s est incorrecte (attendue : %(expected)s).",
            code=code,
            expected=expected,
        )
    return None
