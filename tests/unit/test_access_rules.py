"""How the collectivités typed in an access request are split into codes and names to look up."""

from portal.access.rules import Wanted, split_wanted
from portal.accounts.rules import request_counters


def test_codes_and_names_are_recognised_one_per_line_or_comma():
    assert split_wanted("47215\nPujols, 200 068 088 ; 2a004") == [
        Wanted("47215", code="47215"),
        Wanted("Pujols", name="pujols"),
        Wanted("200 068 088", code="200068088"),
        Wanted("2a004", code="2A004"),
    ]


def test_names_lose_mairie_commune_de_and_the_departement_and_are_normalised():
    assert [w.name for w in split_wanted("Mairie de Laroque-Timbaut\ncommune d'Agen (47)\nCCAS de Pujols")] == [
        "laroque timbaut",
        "agen",
        "ccas de pujols",
    ]


def test_duplicates_and_blank_lines_are_dropped():
    assert split_wanted("Pujols\n\n PUJOLS \n47215\n47215") == [
        Wanted("Pujols", name="pujols"),
        Wanted("47215", code="47215"),
    ]
    assert split_wanted(" \n ; , ") == []


def test_requests_are_counted_per_address_and_per_ip():
    limits = request_counters("access", "a@b.fr", "192.0.2.1", per_email=3, per_address=10)
    assert [(c.scope, c.key, c.limit) for c in limits] == [
        ("access-email", "a@b.fr", 3),
        ("access-address", "192.0.2.1", 10),
    ]
