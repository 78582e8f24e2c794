"""Throttle counters, password rules, codes typed by staff, deactivation of agents: pure functions."""

from datetime import UTC, datetime, timedelta

import pytest

from portal.accounts import rules
from portal.accounts.rules import (
    CounterLimit,
    common_passwords,
    login_counters,
    password_problems,
    request_counters,
    throttled_until,
    window_over,
)

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)
LENGTH = "Le mot de passe doit comporter au moins 12 caractères."
COMMON = (
    "Ce mot de passe fait partie des plus utilisés (même avec des chiffres ou des signes ajoutés à la fin) : "
    "choisissez-en un autre."
)
REPEATED = "Le mot de passe ne doit pas répéter un seul caractère."


def test_a_login_is_counted_per_account_and_address_per_account_and_per_address_the_narrowest_first():
    counters = login_counters(
        "agent@cdg47.fr", "203.0.113.47", per_account_and_address=5, per_account=25, per_address=100
    )
    assert counters == [
        CounterLimit("login-account-address", "203.0.113.47 agent@cdg47.fr", 5),
        CounterLimit("login-account", "agent@cdg47.fr", 25),
        CounterLimit("login-address", "203.0.113.47", 100),
    ]


def test_two_accounts_behind_one_address_have_counters_of_their_own():
    limits = {"per_account_and_address": 5, "per_account": 25, "per_address": 100}
    first = login_counters("agent1@mairie.fr", "203.0.113.47", **limits)
    second = login_counters("agent2@mairie.fr", "203.0.113.47", **limits)
    assert first[0] != second[0] and first[1] != second[1]
    assert first[2] == second[2]  # only the wide counter of the address is shared


def test_counter_keys_fit_their_column_whatever_was_typed():
    (narrowest, account, address) = login_counters(
        "x" * 10_000, "2001:db8::1" * 10, per_account_and_address=5, per_account=25, per_address=100
    )
    assert len(narrowest.key) <= 300 and len(account.key) <= 254 and len(address.key) <= 45


def test_a_reset_request_is_counted_per_email_and_per_address():
    assert request_counters("reset", "Agent@cdg47.fr", "192.0.2.1", per_email=3, per_address=10) == [
        CounterLimit("reset-email", "Agent@cdg47.fr", 3),
        CounterLimit("reset-address", "192.0.2.1", 10),
    ]


def test_a_window_is_fixed_from_its_first_attempt():
    started = NOW - WINDOW
    assert window_over(started, NOW, WINDOW)
    assert not window_over(started + timedelta(microseconds=1), NOW, WINDOW)
    assert throttled_until(NOW - timedelta(minutes=10), WINDOW) == NOW + timedelta(minutes=5)


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


@pytest.mark.parametrize(
    ("typed", "codes"),
    [
        ("47215, 47137", ["47215", "47137"]),
        ("47215;47137\n47001", ["47215", "47137", "47001"]),
        ("  47215 47137  ", ["47215", "47137"]),
        ("200 068 088", ["200068088"]),  # a SIREN written in groups stays one code
        ("2a004, 47215, 47215", ["2A004", "47215"]),
        ("", []),
        (" , ;\n", []),
    ],
)
def test_codes_typed_in_one_field_are_split_in_order_each_once(typed, codes):
    assert rules.split_codes(typed) == codes


def test_the_last_active_agent_cannot_switch_himself_off():
    assert "dernier agent du CDG" in rules.staff_deactivation_refusal(is_self=True, other_active_staff=0)
    assert rules.staff_deactivation_refusal(is_self=True, other_active_staff=1) is None
    assert rules.staff_deactivation_refusal(is_self=False, other_active_staff=0) is None
