"""Titles and forms of address agree with the person (domain.md §8)."""

import pytest

from portal.common import titles


@pytest.mark.parametrize(
    ("role", "sex", "expected"),
    [
        ("staff", "F", "Agente du CDG"),
        ("staff", "M", "Agent du CDG"),
        ("staff", None, "Agent du CDG"),
        ("secretary", "F", "Secrétaire générale de mairie"),
        ("secretary", "M", "Secrétaire général de mairie"),
        ("secretary", None, "Secrétaire général de mairie"),
        ("elu", "F", "Élue"),
        ("elu", "M", "Élu"),
        ("elu", None, "Élu"),
    ],
)
def test_role_titles(role, sex, expected):
    assert titles.role_title(role, sex) == expected


def test_unknown_role_and_function_are_returned_as_given():
    assert titles.role_title("auditor", "F") == "auditor"
    assert titles.function_title("questeur", "F") == "questeur"


@pytest.mark.parametrize(
    ("function", "sex", "rank", "expected"),
    [
        ("maire", "F", None, "Maire"),
        ("adjoint", "F", 1, "1re adjointe au maire"),
        ("adjoint", "M", 1, "1er adjoint au maire"),
        ("adjoint", None, 2, "2e adjoint au maire"),
        ("adjoint", "F", None, "Adjointe au maire"),
        ("conseiller", "F", None, "Conseillère municipale"),
        ("conseiller", "M", None, "Conseiller municipal"),
        ("conseiller_communautaire", "F", None, "Conseillère communautaire"),
    ],
)
def test_function_titles(function, sex, rank, expected):
    assert titles.function_title(function, sex, rank) == expected


@pytest.mark.parametrize(
    ("function", "sex", "name", "expected"),
    [
        ("maire", "F", "Anne Roux", "Madame la Maire,"),
        ("maire", "M", "Jean Roux", "Monsieur le Maire,"),
        ("adjoint", "F", None, "Madame l'Adjointe au maire,"),
        ("conseiller", "F", None, "Madame la Conseillère municipale,"),
        ("conseiller", "M", None, "Monsieur le Conseiller municipal,"),
        # Unknown sex: never a guessed gender, the name instead.
        ("maire", None, "Camille Roux", "Bonjour Camille Roux,"),
        ("maire", None, None, "Madame, Monsieur,"),
        # No function (a secretary, an agent): the name.
        (None, "F", "Sophie Martin", "Bonjour Sophie Martin,"),
        (None, "F", None, "Madame,"),
    ],
)
def test_salutations(function, sex, name, expected):
    assert titles.salutation(function, sex, name) == expected


def test_address_title_needs_a_known_sex():
    assert titles.address_title("maire", "F") == "Madame la Maire"
    assert titles.address_title("maire", None) is None
    assert titles.address_title(None, "M") is None


@pytest.mark.parametrize(
    ("word", "sex", "expected"),
    [
        ("Inscrit", "F", "Inscrite"),
        ("Inscrit", "M", "Inscrit"),
        ("Inscrit", None, "Inscrit"),
        ("inscrit", "F", "inscrite"),
        ("Présent", "F", "Présente"),
        ("Annulé", "F", "Annulée"),
        ("Élu", "F", "Élue"),
        ("Invité", "F", "Invitée"),
        ("Inscrit le", "F", "Inscrite le"),
        ("Conseiller", "F", "Conseillère"),
        ("Premier", "F", "Première"),
        ("Secrétaire", "F", "Secrétaire"),
        ("Agent", "F", "Agente"),
        ("", "F", ""),
    ],
)
def test_agreement(word, sex, expected):
    assert titles.agree(word, sex) == expected


def test_every_title_has_its_two_forms():
    for table in (titles.FUNCTION_TITLES, titles.ROLE_TITLES, titles.ADDRESS_TITLES):
        for title in table.values():
            assert title.masculine and title.feminine
            assert "(e)" not in title.masculine + title.feminine + (title.neutral or "")
    assert set(titles.ADDRESS_TITLES) == set(titles.FUNCTION_TITLES)


def test_agreement_keeps_what_follows_the_word():
    assert titles.agree("Invité, n'a pas encore choisi son mot de passe", "F") == (
        "Invitée, n'a pas encore choisi son mot de passe"
    )


def test_the_signatory_of_a_body_agrees_with_its_executive():
    maire = titles.signatory("commune", name="Anne Roux", sex="F")
    assert maire.represented_by == "sa Maire, Madame Anne Roux"
    assert (maire.signature_title, maire.authorised) == ("La Maire", "dûment autorisée")
    president = titles.signatory("ccas", name="Paul Lafon", sex="M")
    assert (
        president.represented_by == "son Président, Monsieur Paul Lafon" and president.signature_title == "Le Président"
    )
    unknown = titles.signatory("syndicat")
    assert (unknown.represented_by, unknown.signature_title, unknown.name) == ("son Président", "Le Président", None)
    assert titles.signatory("commune", name="Camille Dupuy").represented_by == "son Maire, Camille Dupuy"
