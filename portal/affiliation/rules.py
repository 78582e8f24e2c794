"""The 350-agent rule and the opposition majorities, as pure functions.

No Flask, no SQLAlchemy: these functions take plain values and return plain values,
so that they can be read against the law and tested at the boundaries.

Sources:
- Code général de la fonction publique (CGFP), livre IV, titre V « Affiliation »,
  art. L452-13 et suivants (anciennement loi n° 84-53 du 26 janvier 1984, art. 15);
  the exact article numbers of the CGFP are not quoted where they were not checked;
- décret n° 85-643 du 26 juin 1985, art. 2 (affiliation volontaire du département,
  de la région, des établissements publics départementaux, des syndicats mixtes);
- réponse ministérielle n° 09035 du 26 septembre 2019 (décompte commune + CCAS +
  caisse des écoles, appliqué aux trois).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from portal.common.formatting import decimal_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.labels import N_, Labels

THRESHOLD = 350
WITHDRAWAL_LOCK_YEARS = 6

LEGAL_BASIS_MANDATORY = "CGFP art. L452-13 et suivants (anciennement loi n° 84-53, art. 15) ; décret n° 85-643, art. 2"
LEGAL_BASIS_VOLUNTARY = LEGAL_BASIS_MANDATORY
LEGAL_BASIS_AGGREGATION = "réponse ministérielle n° 09035 du 26/09/2019"


class Status(StrEnum):
    OBLIGATOIRE = "obligatoire"
    VOLONTAIRE = "volontaire"
    NON_AFFILIEE = "non_affiliee"
    INDETERMINE = "indetermine"  # no declaration yet


STATUS_LABELS = Labels(
    {
        Status.OBLIGATOIRE: N_("Affiliation obligatoire"),
        Status.VOLONTAIRE: N_("Affiliation volontaire"),
        Status.NON_AFFILIEE: N_("Non affiliée"),
        Status.INDETERMINE: N_("À déterminer (aucune déclaration d'effectifs)"),
    }
)

AFFILIATED = frozenset({Status.OBLIGATOIRE, Status.VOLONTAIRE})

# Kinds that can only join voluntarily, whatever their headcount (décret n° 85-643, art. 2, 2°): the département,
# the région, the établissements publics départementaux or interdépartementaux (a SDIS, for instance) and the
# syndicats mixtes made only of collectivités. Each with how the explanation names it, agreeing with it.
VOLUNTARY_ONLY_SUBJECTS = Labels(
    {
        "departement": N_("Le département n'est jamais affilié d'office"),
        "region": N_("La région n'est jamais affiliée d'office"),
        "ep_departemental": N_(
            "Un établissement public départemental ou interdépartemental (un SDIS, par exemple) n'est "
            "jamais affilié d'office"
        ),
        "syndicat_mixte": N_("Un syndicat mixte composé uniquement de collectivités n'est jamais affilié d'office"),
    }
)
VOLUNTARY_ONLY_KINDS = frozenset(VOLUNTARY_ONLY_SUBJECTS)
LEGAL_BASIS_VOLUNTARY_ONLY = "décret n° 85-643, art. 2, 2°"


def voluntary_only(kind: str) -> bool:
    """Whether a body of this kind can only join the CDG voluntarily, whatever its headcount (décret n° 85-643,
    art. 2, 2°): the département, the région, an établissement public départemental or interdépartemental, a
    syndicat mixte made only of collectivités. Never computed as *obligatoire*."""
    return kind in VOLUNTARY_ONLY_KINDS


def status_label(status: str | None) -> str:
    if not status:
        return STATUS_LABELS[Status.INDETERMINE]
    return STATUS_LABELS.get(status, status)  # a StrEnum member is found by its value


@dataclass(frozen=True)
class Headcount:
    """Agents declared by one body for one year."""

    titulaires_temps_complet: int
    titulaires_temps_non_complet: int = 0
    contractuels: int = 0

    def __post_init__(self):
        for name in ("titulaires_temps_complet", "titulaires_temps_non_complet", "contractuels"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")


def counted_headcount(own: Headcount, attached: Iterable[Headcount] = ()) -> int:
    """The headcount that counts toward the 350 threshold.

    Only *fonctionnaires titulaires et stagiaires à temps complet* count; part-time
    fonctionnaires and contractuels do not. A commune's figure includes its CCAS and
    its caisse des écoles, and the result applies to all three bodies
    (réponse ministérielle n° 09035 du 26/09/2019).
    """
    return own.titulaires_temps_complet + sum(h.titulaires_temps_complet for h in attached)


@dataclass(frozen=True)
class StatusResult:
    status: Status
    counted: int | None
    explanation: str
    legal_basis: str


def affiliation_status(
    kind: str,
    counted: int | None,
    voluntary_affiliation_in_force: bool,
    own: Headcount | None = None,
    aggregated_with: tuple[str, ...] = (),
    year: int | None = None,
) -> StatusResult:
    """The affiliation status that the law gives a body for a year, with its explanation in French.

    - below 350 fonctionnaires titulaires et stagiaires à temps complet: *obligatoire*
      (CGFP L452-13 et s.), including bodies with only part-time fonctionnaires or only contractuels;
    - 350 or more: *volontaire* if a voluntary affiliation is in force, else *non affiliée*
      (CGFP L452-13 et s.);
    - département, région, établissements publics départementaux or interdépartementaux, syndicats mixtes made only
      of collectivités: only ever *volontaire* or *non affiliée*, whatever their headcount (décret n° 85-643,
      art. 2, 2°; :func:`voluntary_only`).

    ``counted`` is None when no declaration is in force: the status cannot be determined.
    """
    year_text = " " + _("en %(year)s", year=year) if year else ""  # the fragments are joined with a space
    aggregation = ""
    if aggregated_with:
        aggregation = " " + _(
            "Ce décompte additionne %(bodies)s et s'applique à chacun (%(basis)s).",
            bodies=", ".join(aggregated_with),
            basis=LEGAL_BASIS_AGGREGATION,
        )

    if voluntary_only(kind):
        subject = VOLUNTARY_ONLY_SUBJECTS[kind]
        whatever = _(", quel que soit son effectif")
        if counted is not None:
            headcount = " " + ngettext(
                "(%(count)s fonctionnaire titulaire ou stagiaire à temps complet%(in_year)s)",
                "(%(count)s fonctionnaires titulaires et stagiaires à temps complet%(in_year)s)",
                counted,
                count=decimal_fr(counted),
                in_year=year_text,
            )
            whatever += headcount
        if voluntary_affiliation_in_force:
            return StatusResult(
                Status.VOLONTAIRE,
                counted,
                _(
                    "%(subject)s%(whatever)s : son affiliation ne peut être que volontaire ; une affiliation "
                    "volontaire est en vigueur.",
                    subject=subject,
                    whatever=whatever,
                ),
                LEGAL_BASIS_VOLUNTARY_ONLY,
            )
        return StatusResult(
            Status.NON_AFFILIEE,
            counted,
            _(
                "%(subject)s%(whatever)s : son affiliation ne peut être que volontaire ; elle peut être demandée et "
                "n'est pas en vigueur.",
                subject=subject,
                whatever=whatever,
            ),
            LEGAL_BASIS_VOLUNTARY_ONLY,
        )

    if counted is None:
        return StatusResult(
            Status.INDETERMINE,
            None,
            _(
                "Aucune déclaration d'effectifs n'est en vigueur%(in_year)s : le statut ne peut pas être calculé.",
                in_year=year_text,
            ),
            LEGAL_BASIS_MANDATORY,
        )

    if counted < THRESHOLD:
        detail = ""
        if own is not None and counted == 0:
            if own.titulaires_temps_non_complet and not own.titulaires_temps_complet:
                detail = " " + _(
                    "Tous ses fonctionnaires sont à temps non complet, ce qui relève aussi de "
                    "l'affiliation obligatoire."
                )
            elif own.contractuels and not own.titulaires_temps_non_complet:
                detail = " " + _(
                    "Elle n'emploie que des contractuels, ce qui relève aussi de l'affiliation obligatoire."
                )
        explanation = ngettext(
            "%(count)s fonctionnaire titulaire et stagiaire à temps complet%(in_year)s, soit moins de %(threshold)s : "
            "l'affiliation au centre de gestion est obligatoire.%(detail)s%(aggregation)s",
            "%(count)s fonctionnaires titulaires et stagiaires à temps complet%(in_year)s, soit moins de "
            "%(threshold)s : l'affiliation au centre de gestion est obligatoire.%(detail)s%(aggregation)s",
            counted,
            count=counted,
            in_year=year_text,
            threshold=THRESHOLD,
            detail=detail,
            aggregation=aggregation,
        )
        return StatusResult(
            Status.OBLIGATOIRE,
            counted,
            explanation,
            LEGAL_BASIS_MANDATORY,
        )

    if voluntary_affiliation_in_force:
        return StatusResult(
            Status.VOLONTAIRE,
            counted,
            _(
                "%(count)s fonctionnaires titulaires et stagiaires à temps complet%(in_year)s, soit %(threshold)s "
                "ou plus : l'affiliation n'est pas obligatoire ; une affiliation volontaire est en "
                "vigueur.%(aggregation)s",
                count=counted,
                in_year=year_text,
                threshold=THRESHOLD,
                aggregation=aggregation,
            ),
            LEGAL_BASIS_VOLUNTARY,
        )
    return StatusResult(
        Status.NON_AFFILIEE,
        counted,
        _(
            "%(count)s fonctionnaires titulaires et stagiaires à temps complet%(in_year)s, soit %(threshold)s ou "
            "plus : l'affiliation n'est pas obligatoire et aucune affiliation volontaire n'est en vigueur. "
            "La collectivité peut recourir au socle commun de compétences (CGFP L452-39).%(aggregation)s",
            count=counted,
            in_year=year_text,
            threshold=THRESHOLD,
            aggregation=aggregation,
        ),
        LEGAL_BASIS_VOLUNTARY,
    )


@dataclass(frozen=True)
class Crossing:
    """A change of the computed status that staff must decide on."""

    year: int
    previous_count: int | None
    new_count: int
    status_before: Status
    proposed_status: Status
    description: str


def detect_crossing(
    recorded_status: str | None, computed: StatusResult, previous_count: int | None, year: int
) -> Crossing | None:
    """Compare the status in force with the status the year's declaration gives.

    The law sets no effective date for a crossing of the threshold, so the portal
    never changes a status silently: a difference opens a decision for CDG staff.
    No status recorded yet (first declaration) is not a crossing: the initial status is recorded.
    An *indéterminé* computation never proposes anything.
    """
    if recorded_status is None or computed.status == Status.INDETERMINE:
        return None
    before = Status(recorded_status)
    if before == computed.status:
        return None
    assert computed.counted is not None
    if computed.counted >= THRESHOLD and before == Status.OBLIGATOIRE:
        description = _(
            "L'effectif décompté passe à %(count)s en %(year)s (seuil : %(threshold)s). "
            "L'affiliation cesse d'être obligatoire : la collectivité peut rester affiliée volontairement "
            "ou se retirer. Une décision du CDG est nécessaire, avec sa date d'effet.",
            count=computed.counted,
            year=year,
            threshold=THRESHOLD,
        )
    elif computed.counted < THRESHOLD and before in (Status.VOLONTAIRE, Status.NON_AFFILIEE):
        description = _(
            "L'effectif décompté passe à %(count)s en %(year)s, sous le seuil de %(threshold)s. "
            "L'affiliation devient obligatoire. Une décision du CDG est nécessaire, avec sa date d'effet.",
            count=computed.counted,
            year=year,
            threshold=THRESHOLD,
        )
    else:
        description = _(
            "Le statut calculé pour %(year)s (%(computed)s) diffère du statut en vigueur (%(before)s). "
            "Une décision du CDG est nécessaire.",
            year=year,
            computed=status_label(computed.status),
            before=status_label(before),
        )
    return Crossing(year, previous_count, computed.counted, before, computed.status, description)


@dataclass(frozen=True)
class OppositionResult:
    blocked: bool
    rule_met: str | None
    explanation: str


def opposition_blocks(
    affiliated_bodies: int, opposing_bodies: int, affiliated_fonctionnaires: int, opposing_fonctionnaires: int
) -> OppositionResult:
    """Whether the already-affiliated bodies block a voluntary affiliation or a withdrawal.

    The opposition succeeds with two thirds of the affiliated bodies representing at
    least three quarters of the fonctionnaires concerned, or three quarters of the
    bodies representing at least two thirds of the fonctionnaires (CGFP L452-13 et s.,
    anciennement loi n° 84-53, art. 15). Integer arithmetic: no rounding at the boundary.
    """
    for name, value in (
        ("affiliated_bodies", affiliated_bodies),
        ("opposing_bodies", opposing_bodies),
        ("affiliated_fonctionnaires", affiliated_fonctionnaires),
        ("opposing_fonctionnaires", opposing_fonctionnaires),
    ):
        if value < 0:
            raise ValueError(f"{name} must not be negative")
    if opposing_bodies > affiliated_bodies or opposing_fonctionnaires > affiliated_fonctionnaires:
        raise ValueError("the opposing part cannot exceed the whole")
    if affiliated_bodies == 0 or affiliated_fonctionnaires == 0:
        return OppositionResult(False, None, _("Aucune collectivité affiliée : pas d'opposition possible."))

    two_thirds_bodies = 3 * opposing_bodies >= 2 * affiliated_bodies
    three_quarters_bodies = 4 * opposing_bodies >= 3 * affiliated_bodies
    three_quarters_agents = 4 * opposing_fonctionnaires >= 3 * affiliated_fonctionnaires
    two_thirds_agents = 3 * opposing_fonctionnaires >= 2 * affiliated_fonctionnaires

    share = _(
        "%(opposing_bodies)s collectivités sur %(affiliated_bodies)s, représentant %(opposing_agents)s "
        "fonctionnaires sur %(affiliated_agents)s",
        opposing_bodies=opposing_bodies,
        affiliated_bodies=affiliated_bodies,
        opposing_agents=opposing_fonctionnaires,
        affiliated_agents=affiliated_fonctionnaires,
    )
    if two_thirds_bodies and three_quarters_agents:
        return OppositionResult(
            True,
            "2/3-3/4",
            _(
                "Opposition acquise : %(share)s (deux tiers des collectivités, trois quarts des fonctionnaires).",
                share=share,
            ),
        )
    if three_quarters_bodies and two_thirds_agents:
        return OppositionResult(
            True,
            "3/4-2/3",
            _(
                "Opposition acquise : %(share)s (trois quarts des collectivités, deux tiers des fonctionnaires).",
                share=share,
            ),
        )
    return OppositionResult(
        False, None, _("Opposition non acquise : %(share)s. Aucune des deux majorités n'est atteinte.", share=share)
    )


def withdrawal_allowed_from(voluntary_since: date) -> date:
    """The first date on which a voluntary affiliation can be withdrawn: 6 years after it took effect."""
    try:
        return voluntary_since.replace(year=voluntary_since.year + WITHDRAWAL_LOCK_YEARS)
    except ValueError:  # 29 February
        return voluntary_since.replace(year=voluntary_since.year + WITHDRAWAL_LOCK_YEARS, day=28)


def withdrawal_allowed(voluntary_since: date, on: date) -> bool:
    """A voluntary affiliation can be withdrawn only after 6 years (loi n° 84-53, art. 15; CGFP L452-13 et s.)."""
    return on >= withdrawal_allowed_from(voluntary_since)
