"""The API under the authorisation matrix: collectivités, their detail and headcount declarations.

The API uses the same authorisation code as the web pages: a secretary's token sees only her collectivités
(404 for any other), an elected official's only his commune, staff everything.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.api.models import ApiToken
from portal.audit.models import AuditEvent
from portal.common.clock import paris_today, utcnow
from portal.common.inputs import YEAR_MIN
from portal.extensions import db
from portal.registry.models import HeadcountDeclaration
from tests import factories
from tests.api_helpers import assert_problem, bearer, token_for

Y = factories.THIS_YEAR


@pytest.fixture
def world(app):
    epci = factories.collectivite("CC du Confluent", "cc", insee=None, siren="200000001")
    commune_a = factories.collectivite("Commune A", epci=epci)
    commune_b = factories.collectivite("Commune B")
    ccas_b = factories.collectivite("CCAS de B", "ccas", parent=commune_b)
    users = {
        "staff": factories.user("staff", email="staff@cdg47.fr"),
        "secretary_a": factories.user("secretary", email="sec.a@mairie.fr", collectivites=[commune_a]),
        "secretary_b": factories.user("secretary", email="sec.b@mairie.fr", collectivites=[commune_b, ccas_b]),
        "elu_a": factories.user("elu", email="elu.a@mairie.fr", collectivites=[commune_a], function="maire"),
    }
    factories.declare(commune_a, Y - 1, 349)
    factories.declare(commune_b, Y - 1, 12)
    db.session.commit()
    secrets = {name: token_for(user) for name, user in users.items()}
    return {"a": commune_a, "b": commune_b, "ccas_b": ccas_b, "epci": epci, "users": users, "tokens": secrets}


def ids(response) -> set[int]:
    return {item["id"] for item in response.get_json()["items"]}


def test_list_is_scoped_like_the_web(client, world):
    a, b, ccas_b, epci = world["a"].id, world["b"].id, world["ccas_b"].id, world["epci"].id
    expected = {
        "staff": {a, b, ccas_b, epci},
        "secretary_a": {a},
        "secretary_b": {b, ccas_b},
        "elu_a": {a},
    }
    for name, visible in expected.items():
        response = client.get("/api/v1/collectivites", headers=bearer(world["tokens"][name]))
        assert response.status_code == 200, name
        assert ids(response) == visible, name
        assert response.get_json()["total"] == len(visible)


def test_detail_matrix(client, world):
    a, b, ccas_b = world["a"].id, world["b"].id, world["ccas_b"].id
    expected = {
        "staff": {a: 200, b: 200, ccas_b: 200},
        "secretary_a": {a: 200, b: 404, ccas_b: 404},
        "secretary_b": {a: 404, b: 200, ccas_b: 200},
        "elu_a": {a: 200, b: 404, ccas_b: 404},
    }
    for name, codes in expected.items():
        for body_id, code in codes.items():
            response = client.get(f"/api/v1/collectivites/{body_id}", headers=bearer(world["tokens"][name]))
            assert response.status_code == code, (name, body_id)
            if code == 404:
                assert_problem(response, 404)
    assert_problem(client.get("/api/v1/collectivites/999999", headers=bearer(world["tokens"]["staff"])), 404)


def test_detail_has_headcounts_status_and_history(client, world):
    response = client.get(f"/api/v1/collectivites/{world['a'].id}", headers=bearer(world["tokens"]["secretary_a"]))
    body = response.get_json()
    assert body["nom"] == "Commune A"
    assert body["epci"] == {"id": world["epci"].id, "nom": "CC du Confluent"}
    assert body["statut_affiliation"] == "obligatoire"
    assert body["statut_calcule"]["statut"] == "obligatoire"
    assert body["statut_calcule"]["effectif_compte"] == 349
    assert [d["titulaires_temps_complet"] for d in body["declarations"]] == [349]
    assert body["historique"] and body["historique"][0]["statut"] == "obligatoire"


def test_anonymous_revoked_and_expired_tokens_get_401(client, world):
    url = "/api/v1/collectivites"
    body = assert_problem(client.get(url), 401)
    assert "jeton" in body["detail"]
    assert client.get(url).headers["WWW-Authenticate"].startswith("Bearer")

    staff = world["users"]["staff"]
    revoked = token_for(staff, name="révoqué")
    db.session.scalar(select(ApiToken).where(ApiToken.name == "révoqué")).revoked_at = utcnow()
    expired = token_for(staff, name="expiré")
    db.session.scalar(select(ApiToken).where(ApiToken.name == "expiré")).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for secret, word in ((revoked, "révoqué"), (expired, "expiré"), ("cdg_inconnu", "inconnu")):
        response = client.get(url, headers=bearer(secret))
        body = assert_problem(response, 401)
        assert word in body["detail"]
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert_problem(client.get(url, headers={"Authorization": "Bearer "}), 401)


def test_session_works_for_the_portal_pages(client, auth, world):
    auth.login("sec.a@mairie.fr")
    response = client.get("/api/v1/collectivites")
    assert response.status_code == 200
    assert ids(response) == {world["a"].id}


def test_session_writes_need_the_csrf_token(client, auth, world):
    auth.login("sec.a@mairie.fr")
    response = client.post(
        f"/api/v1/collectivites/{world['a'].id}/declarations", json={"annee": Y, "titulaires_temps_complet": 3}
    )
    assert_problem(response, 400)


def test_filters(client, world):
    staff = bearer(world["tokens"]["staff"])
    a, b, ccas_b, epci = world["a"].id, world["b"].id, world["ccas_b"].id, world["epci"].id
    assert ids(client.get("/api/v1/collectivites?type=commune", headers=staff)) == {a, b}
    assert ids(client.get("/api/v1/collectivites?type=epci", headers=staff)) == {epci}
    assert ids(client.get(f"/api/v1/collectivites?epci={epci}", headers=staff)) == {a}
    assert ids(client.get("/api/v1/collectivites?statut=obligatoire", headers=staff)) == {a, b, ccas_b}
    assert ids(client.get("/api/v1/collectivites?statut=aucun", headers=staff)) == {epci}
    assert ids(client.get("/api/v1/collectivites?departement=47&q=commune", headers=staff)) == {a, b}
    assert ids(client.get("/api/v1/collectivites?departement=33", headers=staff)) == set()


def test_bad_query_parameters_are_422_in_french(client, world):
    url = "/api/v1/collectivites?page=0&per_page=500&statut=x"
    response = client.get(url, headers=bearer(world["tokens"]["staff"]))
    body = assert_problem(response, 422)
    errors = {e["parameter"]: e["detail"] for e in body["errors"]}
    assert errors["page"] == "Doit être supérieur ou égal à 1."
    assert errors["per_page"] == "Doit être inférieur ou égal à 200."
    assert errors["statut"].startswith("Doit valoir l'une de ces valeurs")


def test_pagination_is_stable_and_complete(client, world):
    for _ in range(23):
        factories.collectivite("Commune homonyme")  # same name: the id breaks the tie
    db.session.commit()
    staff = bearer(world["tokens"]["staff"])
    seen, url, pages = [], "/api/v1/collectivites?per_page=5", 0
    while url:
        body = client.get(url, headers=staff).get_json()
        seen += [item["id"] for item in body["items"]]
        url, pages = body["next"], pages + 1
    assert pages == 6
    assert len(seen) == len(set(seen)) == 27  # no duplicate, no gap
    past_the_end = client.get("/api/v1/collectivites?per_page=5&page=7", headers=staff).get_json()
    assert past_the_end["items"] == [] and past_the_end["next"] is None and past_the_end["total"] == 27


def test_declaration_by_secretary_is_recorded_and_audited(client, world):
    a = world["a"]
    response = client.post(
        f"/api/v1/collectivites/{a.id}/declarations",
        headers=bearer(world["tokens"]["secretary_a"]),
        json={"annee": Y, "titulaires_temps_complet": 40, "contractuels": 3, "commentaire": "Par le logiciel RH"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["titulaires_temps_complet"] == 40
    declaration = db.session.scalar(select(HeadcountDeclaration).where(HeadcountDeclaration.year == Y))
    assert declaration.collectivite_id == a.id and declaration.declared_by_id == world["users"]["secretary_a"].id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "headcount.declare"))
    assert event.actor_id == world["users"]["secretary_a"].id and event.object_id == a.id


def test_declaration_matrix(client, world):
    a, b = world["a"].id, world["b"].id
    payload = {"annee": Y, "titulaires_temps_complet": 5}
    expected = {
        ("staff", a): 201,
        ("secretary_a", a): 201,
        ("secretary_a", b): 404,
        ("secretary_b", a): 404,
        ("elu_a", a): 403,  # he sees his commune but does not manage it
    }
    for (name, body_id), code in expected.items():
        response = client.post(
            f"/api/v1/collectivites/{body_id}/declarations", headers=bearer(world["tokens"][name]), json=payload
        )
        assert response.status_code == code, (name, body_id, response.get_json())
    assert_problem(client.post(f"/api/v1/collectivites/{a}/declarations", json=payload), 401)


def test_read_only_token_cannot_write(client, world):
    secret = token_for(world["users"]["secretary_a"], scope="read", name="lecture")
    response = client.post(
        f"/api/v1/collectivites/{world['a'].id}/declarations",
        headers=bearer(secret),
        json={"annee": Y, "titulaires_temps_complet": 5},
    )
    body = assert_problem(response, 403)
    assert "lecture seule" in body["detail"]
    assert client.get("/api/v1/collectivites", headers=bearer(secret)).status_code == 200


def test_declaration_validation_errors_point_at_fields(client, world):
    url = f"/api/v1/collectivites/{world['a'].id}/declarations"
    headers = bearer(world["tokens"]["staff"])
    body = assert_problem(client.post(url, headers=headers, json={"titulaires_temps_complet": -1, "x": 1}), 422)
    errors = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert errors == {
        "/annee": "Ce champ est obligatoire.",
        "/titulaires_temps_complet": "Doit être supérieur ou égal à 0.",
        "/x": "Ce champ n'est pas attendu.",
    }
    body = assert_problem(client.post(url, headers=headers, json={"annee": Y + 5, "titulaires_temps_complet": 1}), 422)
    assert body["errors"][0]["pointer"] == "/annee"
    body = assert_problem(client.post(url, headers=headers, json={"annee": "2026", "titulaires_temps_complet": 1}), 422)
    assert body["errors"] == [{"pointer": "/annee", "detail": "Doit être un entier."}]
    assert_problem(client.post(url, headers=headers, data="pas du json"), 400)


def test_unknown_routes_and_methods_are_problems(client, world):
    headers = bearer(world["tokens"]["staff"])
    assert_problem(client.get("/api/v1/nulle-part", headers=headers), 404)
    response = client.delete("/api/v1/collectivites", headers=headers)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_last_use_is_recorded_at_most_once_a_minute(client, world, count_queries):
    headers = bearer(world["tokens"]["staff"])
    client.get("/api/v1/moi", headers=headers)
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == world["users"]["staff"].id))
    first = token.last_used_at
    assert first is not None
    with count_queries() as statements:
        client.get("/api/v1/moi", headers=headers)
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)
    db.session.refresh(token)
    assert token.last_used_at == first


def test_the_declared_year_is_bounded_by_the_portal_range_in_the_document_and_on_the_server(client, world):
    document = client.get("/api/v1/openapi.json").get_json()
    annee = document["components"]["schemas"]["DeclarationInput"]["properties"]["annee"]
    assert (annee["minimum"], annee["maximum"]) == (YEAR_MIN, paris_today().year + 1)
    url = f"/api/v1/collectivites/{world['a'].id}/declarations"
    headers = bearer(world["tokens"]["staff"])
    message = f"L'année doit être comprise entre {YEAR_MIN} et {paris_today().year + 1}."
    for year in (YEAR_MIN - 1, paris_today().year + 2):
        body = assert_problem(
            client.post(url, headers=headers, json={"annee": year, "titulaires_temps_complet": 1}), 422
        )
        assert body["errors"] == [{"pointer": "/annee", "detail": message}]
    for year in (YEAR_MIN, paris_today().year + 1):
        assert client.post(url, headers=headers, json={"annee": year, "titulaires_temps_complet": 1}).status_code == 201


def test_control_characters_are_removed_from_what_the_api_receives(client, world):
    """PostgreSQL refuses NUL in text (a 500 before); SQLite stored it."""
    url = f"/api/v1/collectivites/{world['a'].id}/declarations"
    payload = {"annee": Y, "titulaires_temps_complet": 2, "commentaire": "Par le logiciel\x00 RH\x1b\r\nligne 2"}
    response = client.post(url, headers=bearer(world["tokens"]["staff"]), json=payload)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["commentaire"] == "Par le logiciel RH\r\nligne 2"
    stored = db.session.scalar(select(HeadcountDeclaration.comment).where(HeadcountDeclaration.comment.is_not(None)))
    assert stored == "Par le logiciel RH\r\nligne 2"
    found = client.get("/api/v1/collectivites?q=Commune%00%20A", headers=bearer(world["tokens"]["staff"]))
    assert found.status_code == 200 and ids(found) == {world["a"].id}
