"""The API's services, subscriptions and conventions under the authorisation matrix, with the conflicts (409)
and the audit of a request made through the API."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.common.clock import paris_today
from portal.conventions.demo import load_conventions
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.subscriptions.models import Subscription
from tests import factories
from tests.api_helpers import assert_problem, bearer, token_for

Y = factories.THIS_YEAR
START = (date.today() + timedelta(days=15)).isoformat()


@pytest.fixture
def world(app):
    load_catalogue(Y)
    a = factories.collectivite("Laroque-Timbaut", insee="47138")
    b = factories.collectivite("Pujols", insee="47215")
    factories.declare(a, Y, 4)
    factories.declare(b, Y, 20)
    users = {
        "staff": factories.user("staff", email="staff@cdg47.fr"),
        "secretary_a": factories.user("secretary", email="sec.a@mairie.fr", collectivites=[a]),
        "secretary_b": factories.user("secretary", email="sec.b@mairie.fr", collectivites=[b]),
        "elu_a": factories.user("elu", email="elu.a@mairie.fr", collectivites=[a], function="maire"),
    }
    conventions = load_conventions({"47138": a}, users["staff"], log=lambda _m: None)
    db.session.commit()
    return {
        "a": a,
        "b": b,
        "users": users,
        "tokens": {n: token_for(u) for n, u in users.items()},
        "conventions": conventions,
    }


def request_paie(client, world, who: str, body_id: int, **extra):
    payload = {"service": "gestion-personnels", "date_debut": START, "quantites": {"agents": 4}, **extra}
    return client.post(
        f"/api/v1/collectivites/{body_id}/abonnements", headers=bearer(world["tokens"][who]), json=payload
    )


def test_services_catalogue(client, world):
    response = client.get("/api/v1/services", headers=bearer(world["tokens"]["elu_a"]))
    assert response.status_code == 200
    codes = [s["code"] for s in response.get_json()["items"]]
    assert "ent-ecoles" in codes and "gestion-personnels" in codes
    assert_problem(client.get("/api/v1/services"), 401)


def test_secretary_requests_a_subscription_through_the_api(client, world):
    response = request_paie(client, world, "secretary_a", world["a"].id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["service"]["code"] == "gestion-personnels" and body["etat"] == "demandee"
    assert body["quantites"] == {"agents": 4}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "subscription.request"))
    assert event.actor_id == world["users"]["secretary_a"].id
    again = request_paie(client, world, "secretary_a", world["a"].id)
    assert "déjà une demande" in assert_problem(again, 409)["detail"]


def test_request_matrix_and_validation(client, world):
    a, b = world["a"].id, world["b"].id
    assert request_paie(client, world, "secretary_a", b).status_code == 404
    assert request_paie(client, world, "elu_a", a).status_code == 404  # he manages nothing
    assert request_paie(client, world, "staff", b).status_code == 201
    unknown = assert_problem(request_paie(client, world, "secretary_a", a, service="inconnu"), 422)
    assert unknown["errors"] == [{"pointer": "/service", "detail": "Aucun service ne porte ce code."}]
    past = assert_problem(request_paie(client, world, "secretary_a", a, date_debut="2000-01-01"), 422)
    assert past["errors"][0]["pointer"] == "/date_debut"
    bad_date = assert_problem(request_paie(client, world, "secretary_a", a, date_debut="demain"), 422)
    assert bad_date["errors"] == [{"pointer": "/date_debut", "detail": "Doit être une date au format AAAA-MM-JJ."}]
    read_only = token_for(world["users"]["secretary_a"], scope="read", name="lecture")
    response = client.post(
        f"/api/v1/collectivites/{a}/abonnements", headers=bearer(read_only), json={"service": "x", "date_debut": START}
    )
    assert_problem(response, 403)


def test_subscription_list_and_detail_matrix(client, world):
    assert request_paie(client, world, "secretary_a", world["a"].id).status_code == 201
    assert request_paie(client, world, "secretary_b", world["b"].id).status_code == 201
    mine = db.session.scalar(select(Subscription).where(Subscription.collectivite_id == world["a"].id))
    for who, total in (("staff", 2), ("secretary_a", 1), ("secretary_b", 1)):
        body = client.get("/api/v1/abonnements", headers=bearer(world["tokens"][who])).get_json()
        assert body["total"] == total, who
    assert_problem(client.get("/api/v1/abonnements", headers=bearer(world["tokens"]["elu_a"])), 403)
    expected = {"staff": 200, "secretary_a": 200, "secretary_b": 404, "elu_a": 404}
    for who, code in expected.items():
        response = client.get(f"/api/v1/abonnements/{mine.id}", headers=bearer(world["tokens"][who]))
        assert response.status_code == code, who
    detail = client.get(f"/api/v1/abonnements/{mine.id}", headers=bearer(world["tokens"]["staff"])).get_json()
    assert detail["historique"][0]["etat_apres"] == "demandee"
    filtered = client.get("/api/v1/abonnements?etat=active", headers=bearer(world["tokens"]["staff"])).get_json()
    assert filtered["total"] == 0


def test_conventions_matrix(client, world):
    staff_list = client.get("/api/v1/conventions?per_page=200", headers=bearer(world["tokens"]["staff"])).get_json()
    assert staff_list["total"] == len(world["conventions"])
    secretary_a = client.get("/api/v1/conventions", headers=bearer(world["tokens"]["secretary_a"])).get_json()
    secretary_b = client.get("/api/v1/conventions", headers=bearer(world["tokens"]["secretary_b"])).get_json()
    assert 0 < secretary_a["total"] < staff_list["total"]
    assert secretary_b["total"] == 0
    assert_problem(client.get("/api/v1/conventions", headers=bearer(world["tokens"]["elu_a"])), 403)
    theirs = secretary_a["items"][0]["id"]
    others = next(c["id"] for c in staff_list["items"] if c["id"] not in {i["id"] for i in secretary_a["items"]})
    assert (
        client.get(f"/api/v1/conventions/{theirs}", headers=bearer(world["tokens"]["secretary_a"])).status_code == 200
    )
    assert_problem(client.get(f"/api/v1/conventions/{others}", headers=bearer(world["tokens"]["secretary_a"])), 404)
    detail = client.get(f"/api/v1/conventions/{others}", headers=bearer(world["tokens"]["staff"])).get_json()
    assert detail["parties"] and "axes" in detail


def test_convention_pagination_walks_every_item(client, world):
    headers = bearer(world["tokens"]["staff"])
    seen, url = [], "/api/v1/conventions?per_page=2"
    while url:
        body = client.get(url, headers=headers).get_json()
        seen += [c["id"] for c in body["items"]]
        url = body["next"]
    assert sorted(seen) == sorted(c.id for c in world["conventions"]) and len(seen) == len(set(seen))


@pytest.mark.parametrize(
    "url", ["/api/v1/conventions?partenaire=9223372036854775808", "/api/v1/collectivites?epci=9223372036854775808"]
)
def test_an_id_filter_larger_than_any_id_is_a_validation_error_not_a_crash(client, world, url):
    """Found by schemathesis: the database driver cannot bind such a number (500 before)."""
    body = assert_problem(client.get(url, headers=bearer(world["tokens"]["staff"])), 422)
    assert body["errors"]


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_start_date_outside_the_portal_range_is_refused_with_the_range(client, world, day):
    refused = assert_problem(request_paie(client, world, "secretary_a", world["a"].id, date_debut=day), 422)
    message = f"La date doit être comprise entre le 1er janvier 1950 et le 31 décembre {paris_today().year + 50}."
    assert refused["errors"] == [{"pointer": "/date_debut", "detail": message}]
    assert db.session.scalar(select(Subscription.id)) is None
