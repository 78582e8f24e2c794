"""Pure rules about persons: names, titles that agree with the person, and reading the RNE file."""

from datetime import date

import pytest

from portal.common.text import departement_code, split_full_name
from portal.common.titles import function_title
from portal.people import rules
from portal.people.rules import Change, CurrentMandate, Rejection, RneFileError

HEADER = [
    "Code du département",
    "Libellé du département",
    "Code de la collectivité à statut particulier",
    "Libellé de la collectivité à statut particulier",
    "Code de la commune",
    "Libellé de la commune",
    "Nom de l'élu",
    "Prénom de l'élu",
    "Code sexe",
    "Date de naissance",
    "Code de la catégorie socio-professionnelle",
    "Libellé de la catégorie socio-professionnelle",
    "Date de début du mandat",
    "Libellé de la fonction",
    "Date de début de la fonction",
    "Code nationalité",
]
TODAY = date(2026, 9, 15)


def row(**changes) -> list[str]:
    values = {
        "Code du département": "47",
        "Code de la commune": "47138",
        "Libellé de la commune": "Laroque-Timbaut",
        "Nom de l'élu": "ROBIN",
        "Prénom de l'élu": "Monique",
        "Code sexe": "F",
        "Date de naissance": "22/12/1995",
        "Date de début du mandat": "15/03/2026",
        "Libellé de la fonction": "1re adjointe au maire",
        "Date de début de la fonction": "22/03/2026",
    }
    values.update(changes)
    return [values.get(name, "") for name in HEADER]


def parse(values, known=("47138",)):
    return rules.parse_row(7, values, rules.map_columns(HEADER), today=TODAY, known_communes=set(known))


@pytest.mark.parametrize(
    ("full_name", "expected"),
    [
        ("Sophie Vidal", ("Sophie", "Vidal")),
        ("  Marie-Claire   de La Tour ", ("Marie-Claire", "de La Tour")),
        ("Castaing", ("", "Castaing")),
        ("", ("", "")),
    ],
)
def test_split_full_name(full_name, expected):
    assert split_full_name(full_name) == expected


@pytest.mark.parametrize(
    ("function", "sex", "rank", "title"),
    [
        ("maire", "F", None, "Maire"),
        ("maire", "M", None, "Maire"),
        ("adjoint", "F", None, "Adjointe au maire"),
        ("adjoint", "M", None, "Adjoint au maire"),
        ("adjoint", "F", 1, "1re adjointe au maire"),
        ("adjoint", "M", 1, "1er adjoint au maire"),
        ("adjoint", "F", 3, "3e adjointe au maire"),
        ("conseiller", "F", None, "Conseillère municipale"),
        ("conseiller", None, None, "Conseiller municipal"),
        ("conseiller_communautaire", "F", None, "Conseillère communautaire"),
    ],
)
def test_function_titles_agree_with_the_person(function, sex, rank, title):
    assert function_title(function, sex, rank) == title


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("", ("conseiller", None)),
        ("Maire", ("maire", None)),
        ("1er adjoint au maire", ("adjoint", 1)),
        ("1re adjointe au maire", ("adjoint", 1)),
        ("2e adjoint au maire", ("adjoint", 2)),
        ("10ème adjointe au maire", ("adjoint", 10)),
        ("Adjoint au maire", ("adjoint", None)),
        ("Président du conseil départemental", None),
    ],
)
def test_parse_function(label, expected):
    assert rules.parse_function(label) == expected


def test_dates_in_both_layouts_and_impossible_ones():
    assert rules.parse_date("22/12/1995") == rules.parse_date("1995-12-22") == date(1995, 12, 22)
    for text in ("31/02/1990", "1990-13-01", "22-12-1995", "22/12/95", "hier"):
        with pytest.raises(ValueError):
            rules.parse_date(text)


def test_columns_are_found_by_name_in_any_order_and_any_case():
    shuffled = list(reversed(HEADER))
    shuffled[shuffled.index("Nom de l'élu")] = "\ufeffNOM DE L’ELU"
    columns = rules.map_columns(shuffled)
    assert columns["family_name"] == shuffled.index("\ufeffNOM DE L’ELU")
    assert columns["insee"] == shuffled.index("Code de la commune")


def test_missing_columns_are_named_with_the_expected_list():
    with pytest.raises(RneFileError) as error:
        rules.map_columns(["Commune", "Nom", "Prénom"])
    message = str(error.value)
    assert "Colonnes absentes" in message and "« Code sexe »" in message and "« Date de naissance »" in message


def test_a_valid_row():
    parsed = parse(row())
    assert not isinstance(parsed, Rejection)
    assert (parsed.function, parsed.rank, parsed.sex) == ("adjoint", 1, "F")
    assert parsed.birth_date == date(1995, 12, 22) and parsed.term_start == date(2026, 3, 15)
    assert parsed.key == "robin|monique|F|1995-12-22|47138"
    # The key ignores case and accents of the names, never the line.
    assert (
        rules.parse_row(
            99, row(**{"Nom de l'élu": "Robin"}), rules.map_columns(HEADER), today=TODAY, known_communes={"47138"}
        ).key
        == parsed.key
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"Code de la commune": "47999"}, "Commune inconnue : 47999 (Laroque-Timbaut)."),
        ({"Nom de l'élu": ""}, "Nom de l'élu manquant."),
        ({"Prénom de l'élu": " "}, "Prénom de l'élu manquant."),
        ({"Code sexe": "X"}, "Code sexe inconnu : « X » (F ou M attendu)."),
        ({"Date de naissance": "31/02/1980"}, "Date de naissance impossible : « 31/02/1980 »."),
        ({"Date de naissance": "01/01/2030"}, "Date de naissance impossible : « 01/01/2030 »."),
        ({"Date de naissance": ""}, "Date de naissance manquante."),
        ({"Date de début du mandat": "2026-02-30"}, "Date de début du mandat impossible : « 2026-02-30 »."),
        ({"Libellé de la fonction": "Maire délégué"}, "Fonction inconnue : « Maire délégué »."),
    ],
)
def test_rejected_rows_give_their_reason_in_french(changes, reason):
    assert parse(row(**changes)) == Rejection(7, reason)


def test_several_reasons_are_given_together():
    rejection = parse(row(**{"Nom de l'élu": "", "Code sexe": "H"}))
    assert rejection.reason == "Nom de l'élu manquant ; code sexe inconnu : « H » (F ou M attendu)."


def test_compare_a_row_with_what_the_portal_holds():
    parsed = parse(row())
    same = CurrentMandate(1, "adjoint", 1, date(2026, 3, 15))
    assert rules.compare(parsed, None, person_known=False) == Change.CREATED
    assert rules.compare(parsed, same, person_known=True) == Change.UNCHANGED
    assert rules.compare(parsed, CurrentMandate(1, "conseiller", None, date(2026, 3, 15)), True) == Change.UPDATED
    assert rules.compare(parsed, CurrentMandate(1, "adjoint", 2, date(2026, 3, 15)), True) == Change.UPDATED
    assert rules.compare(parsed, CurrentMandate(1, "adjoint", 1, date(2020, 5, 23)), True) == Change.UPDATED
    assert rules.compare(parsed, None, person_known=True) == Change.UPDATED  # back after his mandate had ended
    assert rules.function_change_text(parsed, CurrentMandate(1, "conseiller", None, date(2026, 3, 15))) == (
        "Conseillère municipale → 1re adjointe au maire"
    )


def test_departement_codes_and_summary():
    assert departement_code("047") == departement_code(" 47") == "47"
    assert departement_code("2a") == "2A"
    assert rules.summary_text(created=0, updated=1, ended=2, unchanged=1500, rejected=1) == (
        "0 élu créé, 1 mis à jour, 2 mandats terminés, 1\u202f500 inchangés, 1 ligne rejetée."
    )


def test_council_in_the_order_of_the_table():
    members = [
        ("conseiller", None, "Élie", "Zoé"),
        ("adjoint", 2, "Bernard", "Paul"),
        ("conseiller", None, "écuyer", "Anne"),
        ("maire", None, "Zola", "Jean"),
        ("adjoint", None, "Abel", "Luc"),
        ("adjoint", 1, "Roux", "Marie"),
        ("conseiller", None, "Durand", "Léa"),
    ]
    ordered = sorted(members, key=lambda m: rules.council_order(*m))
    assert [m[2] for m in ordered] == ["Zola", "Roux", "Bernard", "Abel", "Durand", "écuyer", "Élie"]
