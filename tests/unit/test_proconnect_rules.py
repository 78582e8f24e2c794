"""ProConnect rules: which identity is accepted, and what each account found by email leads to."""

import pytest

from portal.accounts.proconnect_rules import (
    Agent,
    ClaimsRefused,
    Outcome,
    access_request_prefill,
    agent_from_claims,
    email_verified,
    outcome_for,
    plausible_email,
    siret_hint,
)

ID_TOKEN = {"sub": "abc", "iss": "https://proconnect.example", "aud": "portail"}
USERINFO = {
    "sub": "abc",
    "email": " claire.martin@mairie.fr ",
    "given_name": "Claire  Anne",
    "usual_name": "Martin",
    "siret": "214 701 379 00015",
    "uid": "42",
}


@pytest.mark.parametrize(
    "role,status,service,expected",
    [
        (None, None, False, Outcome.UNKNOWN),
        ("staff", "active", False, Outcome.LOG_IN),
        ("secretary", "active", False, Outcome.LOG_IN),
        ("secretary", "invited", False, Outcome.INVITED),
        ("staff", "invited", False, Outcome.INVITED),
        ("secretary", "deactivated", False, Outcome.DEACTIVATED),
        ("elu", "active", False, Outcome.ELU),
        ("elu", "invited", False, Outcome.ELU),
        ("elu", "deactivated", False, Outcome.DEACTIVATED),
        ("staff", "active", True, Outcome.SERVICE_ACCOUNT),
        ("staff", "deactivated", True, Outcome.DEACTIVATED),
    ],
)
def test_outcome_for_each_account(role, status, service, expected):
    assert outcome_for(role, status, service_account=service) is expected


def test_unknown_role_or_status_is_a_programming_error():
    with pytest.raises(ValueError):
        outcome_for("maire", "active")
    with pytest.raises(ValueError):
        outcome_for("staff", "suspended")


def test_agent_from_proconnect_claims():
    agent = agent_from_claims(ID_TOKEN, USERINFO)
    assert agent == Agent(
        sub="abc",
        email="claire.martin@mairie.fr",
        given_name="Claire Anne",
        usual_name="Martin",
        siret="21470137900015",
        uid="42",
    )


def test_userinfo_about_someone_else_is_refused():
    with pytest.raises(ClaimsRefused) as refused:
        agent_from_claims(ID_TOKEN, {**USERINFO, "sub": "xyz"})
    assert refused.value.reason == "sub_mismatch"
    with pytest.raises(ClaimsRefused, match="missing_sub"):
        agent_from_claims({}, USERINFO)


@pytest.mark.parametrize("email", [None, "", "claire", "@mairie.fr", "claire@", "claire@mairie", "a b@c.fr", 42])
def test_missing_or_implausible_email_is_refused(email):
    with pytest.raises(ClaimsRefused, match="missing_email"):
        agent_from_claims(ID_TOKEN, {**USERINFO, "email": email})


@pytest.mark.parametrize("value", [False, "false", "FALSE", "0"])
def test_email_said_unverified_is_refused(value):
    assert not email_verified({"email_verified": value})
    with pytest.raises(ClaimsRefused, match="unverified_email"):
        agent_from_claims(ID_TOKEN, {**USERINFO, "email_verified": value})


def test_email_verified_or_vouched_for_by_the_federation():
    assert email_verified({"email_verified": True}) and email_verified({"email_verified": "true"})
    assert email_verified({})  # ProConnect does not send the claim: its identity providers own their domains


def test_email_is_taken_from_the_id_token_when_the_userinfo_has_none():
    agent = agent_from_claims({**ID_TOKEN, "email": "agent@cdg47.fr"}, {"sub": "abc"})
    assert agent.email == "agent@cdg47.fr" and agent.siret is None and agent.given_name is None


def test_userinfo_wins_over_the_id_token():
    agent = agent_from_claims({**ID_TOKEN, "email": "ancienne@mairie.fr"}, USERINFO)
    assert agent.email == "claire.martin@mairie.fr"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("21470137900015", "21470137900015"),
        (" 214 701 379 00015 ", "21470137900015"),
        (21470137900015, "21470137900015"),
        ("214701379", None),  # a SIREN is not a SIRET
        ("2147013790001X", None),
        ("２１４７０１３７９０００１５", None),  # full-width digits are not ASCII digits
        (None, None),
        (True, None),
    ],
)
def test_siret_hint(value, expected):
    assert siret_hint(value) == expected


def test_plausible_email_length_is_that_of_the_column():
    assert plausible_email("a@" + "b" * 246 + ".fr")
    assert not plausible_email("a@" + "b" * 250 + ".fr")


def test_access_request_prefill_leaves_out_what_is_unknown():
    agent = Agent(sub="s", email="e@mairie.fr", usual_name="Martin", siret="21470137900015")
    assert access_request_prefill(agent) == {"email": "e@mairie.fr", "nom": "Martin", "siret": "21470137900015"}
