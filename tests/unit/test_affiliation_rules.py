"""The 350-agent rule, the aggregation of a commune with its CCAS and caisse des écoles,
the opposition majorities and the 6-year lock: pure functions, no app, no database."""

from datetime import date

import pytest

from portal.affiliation import rules
from portal.affiliation.rules import Headcount, Status


@pytest.mark.parametrize(
    ("counted", "voluntary", "expected"),
    [
        (0, False, Status.OBLIGATOIRE),
        (349, False, Status.OBLIGATOIRE),
        (349, True, Status.OBLIGATOIRE),  # below 350 the law decides, whatever was chosen before
        (350, False, Status.NON_AFFILIEE),
        (350, True, Status.VOLONTAIRE),
        (351, False, Status.NON_AFFILIEE),
        (351, True, Status.VOLONTAIRE),
    ],
)
def test_threshold_boundaries(counted, voluntary, expected):
    result = rules.affiliation_status("commune", counted, voluntary)
    assert result.status == expected
    assert result.counted == counted


def test_explanation_cites_the_figures_and_the_law():
    result = rules.affiliation_status("commune", 349, False, year=2026)
    assert "349" in result.explanation and "moins de 350" in result.explanation and "2026" in result.explanation
    assert "L452-13" in result.legal_basis
    above = rules.affiliation_status("commune", 350, False)
    assert "350 ou plus" in above.explanation and "socle commun" in above.explanation


def test_only_full_time_fonctionnaires_count():
    own = Headcount(titulaires_temps_complet=10, titulaires_temps_non_complet=400, contractuels=900)
    assert rules.counted_headcount(own) == 10


def test_commune_counts_with_its_ccas_and_caisse_des_ecoles():
    commune = Headcount(300, 20, 50)
    ccas = Headcount(40, 5, 10)
    caisse = Headcount(10, 0, 3)
    counted = rules.counted_headcount(commune, [ccas, caisse])
    assert counted == 350
    result = rules.affiliation_status("ccas", counted, False, aggregated_with=("Commune", "CCAS", "Caisse"))
    assert result.status == Status.NON_AFFILIEE  # the aggregate applies to the CCAS too
    assert "09035" in result.explanation


def test_bodies_with_only_part_time_or_contractuels_are_mandatory_and_say_why():
    part_time = rules.affiliation_status("commune", 0, False, own=Headcount(0, 3, 1))
    assert part_time.status == Status.OBLIGATOIRE and "temps non complet" in part_time.explanation
    contract_only = rules.affiliation_status("commune", 0, False, own=Headcount(0, 0, 4))
    assert contract_only.status == Status.OBLIGATOIRE and "contractuels" in contract_only.explanation


VOLUNTARY_ONLY = ["departement", "region", "ep_departemental", "syndicat_mixte"]


@pytest.mark.parametrize("kind", VOLUNTARY_ONLY)
@pytest.mark.parametrize("counted", [0, 12, 349, 350, 351, 1431, None])
def test_voluntary_only_kinds_are_never_affiliated_by_law_whatever_their_headcount(kind, counted):
    """Décret n° 85-643, art. 2, 2°: département, région, EPA départementaux or interdépartementaux (a SDIS),
    syndicats mixtes made only of collectivités."""
    assert rules.voluntary_only(kind)
    alone = rules.affiliation_status(kind, counted, False, year=2026)
    assert alone.status == Status.NON_AFFILIEE and alone.legal_basis == "décret n° 85-643, art. 2, 2°"
    assert "jamais affilié" in alone.explanation and "quel que soit son effectif" in alone.explanation
    assert rules.affiliation_status(kind, counted, True).status == Status.VOLONTAIRE


@pytest.mark.parametrize("kind", ["commune", "ccas", "caisse_ecoles", "cc", "syndicat", "etablissement_public"])
def test_other_kinds_follow_the_350_threshold(kind):
    assert not rules.voluntary_only(kind)
    assert rules.affiliation_status(kind, 349, False).status == Status.OBLIGATOIRE
    assert rules.affiliation_status(kind, 350, False).status == Status.NON_AFFILIEE


def test_voluntary_only_explanations_read_in_french_and_agree():
    sdis = rules.affiliation_status("ep_departemental", 279, False, year=2026)
    assert sdis.explanation == (
        "Un établissement public départemental ou interdépartemental (un SDIS, par exemple) n'est jamais affilié "
        "d'office, quel que soit son effectif (279 fonctionnaires titulaires et stagiaires à temps complet en 2026) : "
        "son affiliation ne peut être que volontaire ; elle peut être demandée et n'est pas en vigueur."
    )
    region = rules.affiliation_status("region", 1431, True, year=2026)
    assert region.explanation.startswith(
        "La région n'est jamais affiliée d'office, quel que soit son effectif (1\u202f431 fonctionnaires"
    )
    assert region.explanation.endswith("une affiliation volontaire est en vigueur.")
    one = rules.affiliation_status("syndicat_mixte", 1, False).explanation
    assert "(1 fonctionnaire titulaire ou stagiaire à temps complet)" in one
    assert "(un SDIS" not in rules.affiliation_status("departement", None, False).explanation


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (0, "0 fonctionnaire titulaire et stagiaire à temps complet, soit moins de 350"),
        (1, "1 fonctionnaire titulaire et stagiaire à temps complet, soit moins de 350"),
        (2, "2 fonctionnaires titulaires et stagiaires à temps complet, soit moins de 350"),
    ],
)
def test_explanations_agree_with_the_headcount_from_zero(count, words):
    """French keeps the singular for 0 and 1 (ngettext and the French catalogue, outside any application)."""
    assert rules.affiliation_status("commune", count, False).explanation.startswith(words)
    voluntary_only = rules.affiliation_status("syndicat_mixte", count, False).explanation
    assert (
        f"({count} fonctionnaire titulaire ou stagiaire à temps complet)" in voluntary_only
        if count < 2
        else f"({count} fonctionnaires titulaires et stagiaires à temps complet)" in voluntary_only
    )


def test_no_declaration_gives_an_undetermined_status():
    result = rules.affiliation_status("commune", None, False, year=2026)
    assert result.status == Status.INDETERMINE and "Aucune déclaration" in result.explanation


def test_headcount_refuses_negative_or_non_integer_values():
    with pytest.raises(ValueError):
        Headcount(-1)
    with pytest.raises(ValueError):
        Headcount(3, 1.5)
    with pytest.raises(ValueError):
        Headcount(True)


class TestCrossings:
    def test_mandatory_member_rising_to_350_opens_a_crossing(self):
        computed = rules.affiliation_status("commune", 350, False)
        crossing = rules.detect_crossing("obligatoire", computed, 349, 2026)
        assert crossing is not None
        assert crossing.status_before == Status.OBLIGATOIRE and crossing.proposed_status == Status.NON_AFFILIEE
        assert crossing.previous_count == 349 and crossing.new_count == 350
        assert "décision" in crossing.description

    def test_voluntary_member_falling_below_350_opens_a_crossing(self):
        computed = rules.affiliation_status("commune", 349, True)
        crossing = rules.detect_crossing("volontaire", computed, 351, 2026)
        assert crossing.proposed_status == Status.OBLIGATOIRE
        assert "sous le seuil" in crossing.description

    def test_non_affiliated_falling_below_350_opens_a_crossing(self):
        computed = rules.affiliation_status("commune", 200, False)
        assert rules.detect_crossing("non_affiliee", computed, 400, 2026).proposed_status == Status.OBLIGATOIRE

    @pytest.mark.parametrize(
        ("recorded", "counted", "voluntary"),
        [
            ("obligatoire", 349, False),
            ("volontaire", 350, True),
            ("non_affiliee", 351, False),
            ("volontaire", 900, True),
        ],
    )
    def test_no_crossing_when_status_is_unchanged(self, recorded, counted, voluntary):
        computed = rules.affiliation_status("commune", counted, voluntary)
        assert rules.detect_crossing(recorded, computed, counted, 2026) is None

    def test_first_declaration_and_undetermined_never_cross(self):
        assert rules.detect_crossing(None, rules.affiliation_status("commune", 500, False), None, 2026) is None
        assert (
            rules.detect_crossing("obligatoire", rules.affiliation_status("commune", None, False), None, 2026) is None
        )


class TestOpposition:
    def test_two_thirds_of_bodies_with_three_quarters_of_agents_blocks(self):
        result = rules.opposition_blocks(300, 200, 4000, 3000)
        assert result.blocked and result.rule_met == "2/3-3/4"

    def test_three_quarters_of_bodies_with_two_thirds_of_agents_blocks(self):
        result = rules.opposition_blocks(300, 225, 3000, 2000)
        assert result.blocked and result.rule_met == "3/4-2/3"

    def test_just_below_each_majority_does_not_block(self):
        # 199/300 bodies is below two thirds; 2999/4000 agents below three quarters.
        assert not rules.opposition_blocks(300, 199, 4000, 3999).blocked
        assert not rules.opposition_blocks(300, 200, 4000, 2999).blocked
        assert not rules.opposition_blocks(300, 224, 3000, 2000).blocked
        assert not rules.opposition_blocks(300, 225, 3000, 1999).blocked

    def test_exact_fractions_are_reached_without_rounding(self):
        assert rules.opposition_blocks(3, 2, 4, 3).blocked  # 2/3 and 3/4 exactly
        assert rules.opposition_blocks(4, 3, 3, 2).blocked  # 3/4 and 2/3 exactly
        assert not rules.opposition_blocks(3, 1, 4, 4).blocked  # all agents but only one third of the bodies

    def test_many_bodies_but_few_agents_do_not_block(self):
        result = rules.opposition_blocks(300, 290, 10000, 1000)
        assert not result.blocked and "Aucune des deux majorités" in result.explanation

    def test_bad_figures_are_refused(self):
        with pytest.raises(ValueError):
            rules.opposition_blocks(10, 11, 100, 5)
        with pytest.raises(ValueError):
            rules.opposition_blocks(10, -1, 100, 5)

    def test_no_affiliated_body_means_no_opposition(self):
        assert not rules.opposition_blocks(0, 0, 0, 0).blocked


class TestWithdrawalLock:
    def test_withdrawal_only_after_six_years(self):
        since = date(2020, 1, 1)
        assert not rules.withdrawal_allowed(since, date(2025, 12, 31))
        assert rules.withdrawal_allowed(since, date(2026, 1, 1))
        assert rules.withdrawal_allowed(since, date(2030, 6, 1))

    def test_leap_day_start(self):
        assert rules.withdrawal_allowed_from(date(2024, 2, 29)) == date(2030, 2, 28)


def test_status_labels_are_french():
    assert rules.status_label("obligatoire") == "Affiliation obligatoire"
    assert rules.status_label(None).startswith("À déterminer")
