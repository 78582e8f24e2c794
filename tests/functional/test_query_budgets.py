"""Queries per page type: a page that gains a query fails here (issue 17).

Each budget is the number of SQL statements of one request once the process is warm (the registry's count and EPCI
options cached, the data-version token read less than a second ago), counted from a cold session, without the
response cache (``RESPONSE_CACHE_ENABLED`` off) and then, for the pages it keeps, with it. The one-second window of
the version token is held open for the test (``TOKEN_TTL_SECONDS``), so that the counts do not depend on the speed of
the machine. The statements are printed when a budget is exceeded.
"""

from __future__ import annotations

import pytest

from portal.common import versions
from portal.extensions import db
from tests import factories
from tests.api_helpers import bearer, token_for

Y = factories.THIS_YEAR


@pytest.fixture
def world(app, monkeypatch):
    monkeypatch.setattr(versions, "TOKEN_TTL_SECONDS", 3600.0)
    app.config["RESPONSE_CACHE_ENABLED"] = False
    epci = factories.collectivite("CC du Confluent", "cc", insee=None, siren="200000001")
    commune = factories.collectivite("Aiguillon", epci=epci)
    ccas = factories.collectivite("CCAS d'Aiguillon", "ccas", insee=None, parent=commune)
    caisse = factories.collectivite("Caisse des écoles d'Aiguillon", "caisse_ecoles", insee=None, parent=commune)
    other = factories.collectivite("Damazan", epci=epci)
    for body, count in ((commune, 120), (ccas, 12), (caisse, 3), (other, 40), (epci, 60)):
        factories.declare(body, Y - 1, count)
        factories.declare(body, Y, count + 1)
    staff = factories.user("staff", email="staff@cdg47.fr")
    secretary = factories.user("secretary", email="mairie@aiguillon.fr", collectivites=[commune, ccas])
    db.session.commit()
    return {
        "commune": commune,
        "ccas": ccas,
        "epci": epci,
        "staff": staff,
        "secretary": secretary,
        "token": token_for(staff),
    }


def _statements(client, count_queries, url: str, headers=None) -> list[str]:
    assert client.get(url, headers=headers).status_code == 200  # warm: caches filled, token read
    db.session.expunge_all()  # the test shares the session with the views: start from a cold one
    with count_queries() as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200
    return statements


def _within(statements: list[str], budget: int) -> None:
    assert len(statements) <= budget, "\n\n".join([f"{len(statements)} requêtes pour {budget} :", *statements])


@pytest.mark.parametrize(
    ("url", "budget"),
    [
        ("/collectivites", 2),  # the user (and his unread count), the page's rows
        ("/collectivites?q=aiguillon&status=obligatoire&kind=commune", 2),
        ("/collectivites?page=2&tri=population&ordre=desc", 2),
    ],
)
def test_registry_list_for_staff(client, auth, world, count_queries, url, budget):
    auth.login("staff@cdg47.fr")
    _within(_statements(client, count_queries, url), budget)


def test_registry_list_for_a_secretary(client, auth, world, count_queries):
    auth.login("mairie@aiguillon.fr")
    # Her count is never cached (her attachments are not part of the registry's version): one COUNT more.
    _within(_statements(client, count_queries, "/collectivites"), 3)


@pytest.mark.parametrize("body", ["commune", "ccas", "epci"])
def test_collectivite_page_for_staff(client, auth, world, count_queries, body):
    auth.login("staff@cdg47.fr")
    # The user, the body (EPCI and commune joined), its attached bodies or members, the declarations of the bodies
    # sharing its headcount, its history, its decisions, the accounts attached to it.
    _within(_statements(client, count_queries, f"/collectivites/{world[body].id}"), 7)


def test_collectivite_page_for_a_secretary(client, auth, world, count_queries):
    auth.login("mairie@aiguillon.fr")
    _within(_statements(client, count_queries, f"/collectivites/{world['commune'].id}"), 6)


def test_api_list_with_a_token(client, world, count_queries):
    # The token recognised less than five seconds ago: no query to authenticate; the page's rows.
    _within(_statements(client, count_queries, "/api/v1/collectivites", bearer(world["token"])), 1)


def test_api_list_with_a_filter(client, world, count_queries):
    url = "/api/v1/collectivites?statut=obligatoire&type=commune&departement=47"
    _within(_statements(client, count_queries, url, bearer(world["token"])), 1)


def test_registry_list_for_staff_from_the_response_cache(app, client, auth, world, count_queries):
    app.config["RESPONSE_CACHE_ENABLED"] = True
    auth.login("staff@cdg47.fr")
    _within(_statements(client, count_queries, "/collectivites?q=aiguillon"), 1)  # the user and his unread count


def test_api_list_from_the_response_cache(app, client, world, count_queries):
    app.config["RESPONSE_CACHE_ENABLED"] = True
    _within(_statements(client, count_queries, "/api/v1/collectivites?page=1", bearer(world["token"])), 0)


@pytest.mark.parametrize("body", ["commune", "ccas", "epci"])
def test_api_detail_with_a_token(client, world, count_queries, body):
    # The token recognised less than five seconds ago: no query to authenticate. The body (EPCI and commune joined),
    # the bodies attached to its commune, the declarations of the bodies sharing its headcount, its history.
    statements = _statements(client, count_queries, f"/api/v1/collectivites/{world[body].id}", bearer(world["token"]))
    _within(statements, 4)
