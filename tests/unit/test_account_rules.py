"""Login throttling and password rules: pure functions."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts.rules import common_passwords, password_problems, throttled_until

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
LENGTH = "Le mot de passe doit comporter au moins 12 caractères."
COMMON = (
    "Ce mot de passe fait partie des plus utilisés (même avec des chiffres ou des signes ajoutés à la fin) : "
    "choisissez-en un autre."
)
REPEATED = "Le mot de passe ne doit pas répéter un seul caractère."


def test_below_the_limit_is_not_throttled():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4)]
    assert throttled_until(failures, NOW, 5, WINDOW) is None


def test_at_the_limit_waits_until_the_oldest_failure_leaves_the_window():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 10)]
    assert throttled_until(failures, NOW, 5, WINDOW) == NOW - timedelta(minutes=10) + WINDOW


def test_failures_outside_the_window_do_not_count():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 16, 20)]
    assert throttled_until(failures, NOW, 5, WINDOW) is None


def test_more_failures_than_the_limit_keep_the_block_going():
    failures = [NOW - timedelta(minutes=m) for m in (1, 2, 3, 4, 5, 6, 7)]
    until = throttled_until(failures, NOW, 5, WINDOW)
    assert until == NOW - timedelta(minutes=5) + WINDOW
    assert until > NOW


def test_password_rules():
    assert password_problems("un mot de passe assez long") == []
    assert "12 caractères" in password_problems("court")[0]
    assert password_problems("aaaaaaaaaaaaaaaa")
    assert password_problems("jean.dupont@mairie.fr", "jean.dupont@mairie.fr")


def test_twelve_characters_at_least():
    assert password_problems("Garonne-Lot") == [LENGTH]  # 11
    assert password_problems("Garonne-Lot!") == []  # 12


@pytest.mark.parametrize(
    "password",
    [
        "azertyuiop123",  # French keyboard, digits added
        "AZERTYUIOP!!!!",  # case and signs do not hide it
        "Motdepasse2026!",  # the French list
        "password123456",  # the international list
        "iloveyou2026?!",
        "soleil.1234567",
        "  marseille13000  ",  # surrounding spaces
    ],
)
def test_common_passwords_are_refused_even_with_digits_or_signs_at_the_end(password):
    assert COMMON in password_problems(password)


def test_the_common_password_lists_ship_with_the_package():
    words = common_passwords()
    assert len(words) > 13_000
    assert {"123456", "password", "azerty", "motdepasse", "soleil", "&é\"'(-"} <= words


def test_a_password_is_common_only_when_it_is_one_not_when_it_contains_one():
    assert password_problems("soleil sur la Garonne") == []
    assert password_problems("123456 pruneaux d'Agen") == []


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("Nadia.Roussel-2026", "nadia.roussel@mairie.fr"),
        ("NADIAROUSSEL-Agen", "nadia.roussel@mairie.fr"),  # without the dot
        ("mon-agent-du-cdg-47", "agent@cdg47.fr"),
        ("jd@mairie.fr et plus", "jd@mairie.fr"),  # the whole address, whatever its length
    ],
)
def test_a_password_containing_the_email_local_part_is_refused(password, email):
    assert any("adresse électronique" in problem for problem in password_problems(password, email))


def test_a_local_part_under_three_characters_is_not_looked_for():
    assert password_problems("jd-aime-le-pruneau", "jd@mairie.fr") == []


def test_a_single_repeated_character_is_refused():
    assert REPEATED in password_problems("éééééééééééééééé")
    assert REPEATED not in password_problems("ééééééééééééééée")


def test_every_problem_is_given_at_once_in_french():
    problems = password_problems("aaaa", "aaaa@mairie.fr")
    assert problems == [
        LENGTH,
        COMMON,
        "Le mot de passe ne doit pas contenir votre identifiant (la partie de votre adresse électronique avant « @ »).",
        REPEATED,
    ]


def test_the_rules_can_use_another_list():
    assert COMMON in password_problems("pruneau-d-agen-47", common=frozenset({"pruneau-d-agen"}))
    assert password_problems("azertyuiop123", common=frozenset()) == []
