"""Training in the API under the authorisation matrix (staff, secretaries of A and B, élus of A and B, anonymous,
revoked, expired and read-only tokens): sessions, registrations, an élu registering, cancelling and confirming an
offered seat, the conflicts (409), the refused input (422, in French), pagination and the audit of API writes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.api.models import ApiToken
from portal.audit.models import AuditEvent
from portal.common.clock import utcnow
from portal.extensions import db
from portal.training import registrations as training_registrations
from portal.training.models import Registration
from portal.training.sessions import cancel_session
from tests import factories
from tests.api_helpers import assert_problem, bearer, token_for

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
WHO = ("staff", "secretary_a", "secretary_b", "elu_a", "elu_b")


@pytest.fixture
def world(app):
    a = factories.collectivite("Sauvagnas", insee="47286")
    b = factories.collectivite("Pujols", insee="47215")
    recent = date.today() - timedelta(days=100)
    users = {
        "staff": factories.user("staff", email="staff@cdg47.fr"),
        "secretary_a": factories.user("secretary", email="sec.a@mairie.fr", collectivites=[a]),
        "secretary_b": factories.user("secretary", email="sec.b@mairie.fr", collectivites=[b]),
        "elu_a": factories.elu(a, "Jeanne Sauvagnas", email="elu.a@mairie.fr", delegation=True, mandate_start=recent),
        "elu_a2": factories.elu(a, "Paul Laffitte", email="elu.a2@mairie.fr"),
        "elu_b": factories.elu(b, "Marc Pujols", email="elu.b@mairie.fr"),
    }
    training = factories.training(objectives="Maîtriser les outils numériques.")
    session = factories.training_session(training)
    hidden = factories.training_session(training, published=False)
    cancelled = factories.training_session(training)
    registration_b = training_registrations.register(session, users["elu_b"].mandate, users["elu_b"])
    training_registrations.register(cancelled, users["elu_b"].mandate, users["elu_b"])
    cancel_session(cancelled, users["staff"], "Formateur indisponible")
    db.session.commit()
    return {
        "audit_mark": db.session.scalar(select(func.max(AuditEvent.id))),
        "a": a,
        "b": b,
        "users": users,
        "tokens": {name: token_for(user) for name, user in users.items()},
        "training": training,
        "session": session.id,
        "hidden": hidden.id,
        "cancelled": cancelled.id,
        "registration_b": registration_b.id,
    }


def get(client, world, who: str, url: str):
    return client.get(f"/api/v1{url}", headers=bearer(world["tokens"][who]))


def post(client, world, who: str, url: str, payload: dict | None = None):
    return client.post(f"/api/v1{url}", headers=bearer(world["tokens"][who]), json=payload or {})


def register(client, world, who: str, session_id: int | None = None, **payload):
    """An élu sends his own mandate (as given by /moi) unless the test says otherwise."""
    caller = world["users"][who]
    if caller.is_elu:
        payload.setdefault("mandat", caller.mandate.id)
    return post(client, world, who, f"/formations/sessions/{session_id or world['session']}/inscriptions", payload)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.get_json()["items"]]


def audit_actions(world, who: str) -> list[str]:
    """The training actions audited for ``who`` since the world was built."""
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.id > world["audit_mark"],
                AuditEvent.actor_id == world["users"][who].id,
                AuditEvent.action.like("training.%"),
            )
            .order_by(AuditEvent.id)
        )
    )


def live_registrations(mandate_id: int, session_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Registration)
        .where(
            Registration.mandate_id == mandate_id,
            Registration.session_id == session_id,
            Registration.status != "cancelled",
        )
    )


# Who sees what -----------------------------------------------------------------------------------


def every_endpoint(world) -> list[tuple[str, str]]:
    session, registration = world["session"], world["registration_b"]
    return [
        ("GET", "/formations/sessions"),
        ("GET", f"/formations/sessions/{session}"),
        ("GET", "/formations/inscriptions"),
        ("GET", f"/formations/inscriptions/{registration}"),
        ("POST", f"/formations/sessions/{session}/inscriptions"),
        ("POST", f"/formations/inscriptions/{registration}/annulation"),
        ("POST", f"/formations/inscriptions/{registration}/confirmation"),
    ]


def test_anonymous_revoked_and_expired_tokens_get_401_everywhere(client, world):
    staff = world["users"]["staff"]
    revoked = token_for(staff, name="révoqué")
    db.session.scalar(select(ApiToken).where(ApiToken.name == "révoqué")).revoked_at = utcnow()
    expired = token_for(staff, name="expiré")
    db.session.scalar(select(ApiToken).where(ApiToken.name == "expiré")).expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    for method, url in every_endpoint(world):
        response = client.open(f"/api/v1{url}", method=method, json={})
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), url
        for secret, word in ((revoked, "révoqué"), (expired, "expiré")):
            response = client.open(f"/api/v1{url}", method=method, headers=bearer(secret), json={})
            assert word in assert_problem(response, 401)["detail"], (url, word)
    assert db.session.get(Registration, world["registration_b"]).status == "registered"
    assert live_registrations(world["users"]["staff"].id, world["session"]) == 0


def test_a_read_only_token_writes_nothing(client, world):
    for who in WHO:
        secret = token_for(world["users"][who], scope="read", name="lecture")
        for method, url in every_endpoint(world):
            response = client.open(f"/api/v1{url}", method=method, headers=bearer(secret), json={})
            if method == "GET":
                assert response.status_code in (200, 404), (who, url)
            else:
                assert "lecture seule" in assert_problem(response, 403)["detail"], (who, url)
    assert db.session.get(Registration, world["registration_b"]).status == "registered"
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 2


def test_session_list_is_scoped_like_the_web(client, world):
    session, hidden, cancelled = world["session"], world["hidden"], world["cancelled"]
    for who in WHO:
        expected = {session, hidden, cancelled} if who == "staff" else {session}
        response = get(client, world, who, "/formations/sessions")
        assert set(ids(response)) == expected, who
        assert response.get_json()["total"] == len(expected)
    item = get(client, world, "elu_a", "/formations/sessions").get_json()["items"][0]
    assert item["formation"]["intitule"] == "Élu Numérique Rural" and item["formation"]["heures"] == 7
    assert item["formation"]["organisme"]["agrement"].startswith("AGR-")
    assert (item["capacite"], item["places_prises"], item["places_libres"], item["en_attente"]) == (10, 1, 9, 0)
    assert item["debut"].endswith("Z") and item["publiee"] is True and item["annulee"] is False
    assert item["lieu"] == "Maison des communes, Agen" and item["lien_distance"] is None


def test_session_detail_matrix(client, world):
    expected = {
        world["session"]: dict.fromkeys(WHO, 200),
        world["hidden"]: {"staff": 200, "secretary_a": 404, "secretary_b": 404, "elu_a": 404, "elu_b": 404},
        # a cancelled session stays visible to those it concerned (élu B, registered, and his secretary)
        world["cancelled"]: {"staff": 200, "secretary_a": 404, "secretary_b": 200, "elu_a": 404, "elu_b": 200},
        2**31 - 1: dict.fromkeys(WHO, 404),
    }
    for session_id, codes in expected.items():
        for who, code in codes.items():
            response = get(client, world, who, f"/formations/sessions/{session_id}")
            if code == 404:
                assert_problem(response, 404)
            assert response.status_code == code, (session_id, who)
    detail = get(client, world, "elu_a", f"/formations/sessions/{world['session']}").get_json()
    assert detail["objectifs"] == "Maîtriser les outils numériques." and detail["inscriptions_ouvertes"] is True
    cancelled = get(client, world, "elu_b", f"/formations/sessions/{world['cancelled']}").get_json()
    assert cancelled["annulee"] is True and cancelled["motif_fermeture"] == "Cette session a été annulée."


def test_registration_list_and_detail_matrix(client, world):
    assert register(client, world, "elu_a").status_code == 201
    mine = db.session.scalar(
        select(Registration.id).where(Registration.mandate_id == world["users"]["elu_a"].mandate.id)
    )
    theirs = world["registration_b"]
    cancelled_b = db.session.scalar(
        select(Registration.id).where(Registration.session_id == world["cancelled"], Registration.status == "cancelled")
    )
    visible = {
        "staff": {mine, theirs, cancelled_b},
        "secretary_a": {mine},
        "secretary_b": {theirs, cancelled_b},
        "elu_a": {mine},
        "elu_b": {theirs, cancelled_b},
    }
    for who, expected in visible.items():
        assert set(ids(get(client, world, who, "/formations/inscriptions"))) == expected, who
        for registration_id in (mine, theirs):
            response = get(client, world, who, f"/formations/inscriptions/{registration_id}")
            assert response.status_code == (200 if registration_id in expected else 404), (who, registration_id)
    filtered = get(client, world, "staff", f"/formations/inscriptions?session={world['session']}&statut=registered")
    assert set(ids(filtered)) == {mine, theirs}
    assert ids(get(client, world, "staff", "/formations/inscriptions?statut=cancelled")) == [cancelled_b]
    item = get(client, world, "secretary_a", f"/formations/inscriptions/{mine}").get_json()
    assert item["elu"] == {
        "mandat": world["users"]["elu_a"].mandate.id,
        "nom": "Jeanne Sauvagnas",
        "fonction": "Conseiller municipal",
    }
    assert item["collectivite"] == {"id": world["a"].id, "nom": "Sauvagnas"}
    assert item["session"]["id"] == world["session"] and item["session"]["formation"] == "Élu Numérique Rural"
    assert (item["statut"], item["statut_libelle"], item["position_attente"]) == ("registered", "Inscrit", None)
    assert (item["financement"], item["cout_pedagogique"], item["part_commune"]) == ("commune", 150.0, 150.0)
    assert item["premiere_annee"] is True and item["delegation"] is True


@pytest.mark.parametrize(
    "query", ["statut=inconnu", "session=0", "session=9223372036854775808", "per_page=201", "page=0"]
)
def test_bad_registration_filters_are_422(client, world, query):
    body = assert_problem(get(client, world, "staff", f"/formations/inscriptions?{query}"), 422)
    assert body["errors"][0]["parameter"] == query.split("=")[0]


@pytest.mark.parametrize(
    "query", ["periode=demain", "formation=9223372036854775808", "formation=abc", "places_libres=peut-etre"]
)
def test_bad_session_filters_are_422(client, world, query):
    body = assert_problem(get(client, world, "staff", f"/formations/sessions?{query}"), 422)
    assert body["errors"][0]["parameter"] == query.split("=")[0]


# Registering, cancelling, confirming ---------------------------------------------------------------


def test_an_elu_registers_and_cancels_through_the_api(client, world):
    elu = world["users"]["elu_a"]
    response = register(client, world, "elu_a", frais_deplacement=42.5, jours_conge=1)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["statut"] == "registered" and created["elu"]["mandat"] == elu.mandate.id
    assert created["frais_deplacement"] == 42.5 and created["jours_conge"] == 1 and created["inscrit_le"]
    again = register(client, world, "elu_a")
    assert "déjà inscrit" in assert_problem(again, 409)["detail"]
    assert live_registrations(elu.mandate.id, world["session"]) == 1

    cancelled = post(
        client, world, "elu_a", f"/formations/inscriptions/{created['id']}/annulation", {"motif": "Empêché"}
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["statut"] == "cancelled" and cancelled.get_json()["motif_annulation"] == "Empêché"
    twice = post(client, world, "elu_a", f"/formations/inscriptions/{created['id']}/annulation")
    assert "ne peut plus être annulée" in assert_problem(twice, 409)["detail"]
    assert audit_actions(world, "elu_a") == ["training.registered", "training.cancelled"]
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "training.registered", AuditEvent.id > world["audit_mark"])
    )
    assert event.object_type == "Registration" and event.object_id == created["id"]
    assert event.actor_email == "elu.a@mairie.fr" and "Jeanne Sauvagnas" in event.summary

    # a cancelled registration does not block a new one
    assert register(client, world, "elu_a").status_code == 201


def test_who_may_register_whom(client, world):
    elu_a2, elu_b = world["users"]["elu_a2"].mandate.id, world["users"]["elu_b"].mandate.id
    assert_problem(register(client, world, "secretary_b", mandat=elu_a2), 404)
    assert_problem(register(client, world, "elu_b", mandat=elu_a2), 404)
    assert_problem(register(client, world, "secretary_a", mandat=2**31 - 1), 404)
    assert live_registrations(elu_a2, world["session"]) == 0
    response = register(client, world, "secretary_a", mandat=elu_a2)
    assert response.status_code == 201 and response.get_json()["elu"]["nom"] == "Paul Laffitte"
    assert audit_actions(world, "secretary_a") == ["training.registered"]
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.actor_id == world["users"]["secretary_a"].id, AuditEvent.action == "training.registered"
        )
    )
    assert event.summary.endswith(f"par {world['users']['secretary_a'].full_name}")
    # staff register anyone, but must say whom
    no_mandate = assert_problem(register(client, world, "staff"), 422)
    assert no_mandate["errors"] == [{"pointer": "/mandat", "detail": "Ce champ est obligatoire."}]
    assert "déjà inscrit" in assert_problem(register(client, world, "staff", mandat=elu_b), 409)["detail"]
    assert register(client, world, "staff", mandat=world["users"]["elu_a"].mandate.id).status_code == 201
    # a session the caller does not see is a 404, whoever the élu
    assert_problem(register(client, world, "elu_a", world["hidden"]), 404)
    assert_problem(register(client, world, "elu_a", world["cancelled"]), 404)


def test_a_full_session_refuses_or_lists_with_positions(client, world):
    small = factories.training_session(world["training"], capacity=1)
    db.session.commit()
    first = register(client, world, "elu_a", small.id)
    assert first.status_code == 201 and first.get_json()["statut"] == "registered"
    full = register(client, world, "elu_b", small.id, liste_attente=False)
    assert assert_problem(full, 409)["detail"] == "La session est complète."
    assert live_registrations(world["users"]["elu_b"].mandate.id, small.id) == 0
    assert audit_actions(world, "elu_b") == []

    waiting = register(client, world, "elu_b", small.id)
    assert waiting.status_code == 201
    assert (waiting.get_json()["statut"], waiting.get_json()["position_attente"]) == ("waiting", 1)
    second = register(client, world, "secretary_a", small.id, mandat=world["users"]["elu_a2"].mandate.id)
    assert second.get_json()["position_attente"] == 2
    listed = get(client, world, "staff", f"/formations/inscriptions?session={small.id}&statut=waiting").get_json()
    assert [(i["elu"]["nom"], i["position_attente"]) for i in listed["items"]] == [
        ("Marc Pujols", 1),
        ("Paul Laffitte", 2),
    ]
    seats = get(client, world, "elu_b", f"/formations/sessions/{small.id}").get_json()
    assert (seats["places_libres"], seats["en_attente"]) == (0, 2)
    assert small.id not in ids(get(client, world, "staff", "/formations/sessions?places_libres=true"))
    assert small.id in ids(get(client, world, "staff", "/formations/sessions?places_libres=false"))

    # élu A cancels: the seat is offered to élu B, who confirms it through the API
    confirm_url = f"/formations/inscriptions/{waiting.get_json()['id']}/confirmation"
    assert "Aucune place" in assert_problem(post(client, world, "elu_b", confirm_url), 409)["detail"]
    assert (
        post(client, world, "elu_a", f"/formations/inscriptions/{first.get_json()['id']}/annulation").status_code == 200
    )
    offered = get(client, world, "elu_b", f"/formations/inscriptions/{waiting.get_json()['id']}").get_json()
    assert offered["statut"] == "offered" and offered["offre_expire_le"] and offered["position_attente"] is None
    assert_problem(post(client, world, "secretary_a", confirm_url), 404)
    assert_problem(post(client, world, "elu_a", confirm_url), 404)
    confirmed = post(client, world, "elu_b", confirm_url)
    assert confirmed.status_code == 200 and confirmed.get_json()["statut"] == "registered"
    assert audit_actions(world, "elu_b") == ["training.waiting_listed", "training.offer_accepted"]
    moved_up = get(client, world, "elu_a2", f"/formations/inscriptions/{second.get_json()['id']}").get_json()
    assert moved_up["position_attente"] == 1


def test_declining_an_offered_seat(client, world):
    small = factories.training_session(world["training"], capacity=1)
    db.session.commit()
    seat = register(client, world, "elu_a", small.id).get_json()
    waiting = register(client, world, "elu_b", small.id).get_json()
    post(client, world, "staff", f"/formations/inscriptions/{seat['id']}/annulation", {"motif": "Doublon"})
    declined = post(client, world, "secretary_b", f"/formations/inscriptions/{waiting['id']}/annulation")
    assert declined.status_code == 200
    assert (declined.get_json()["statut"], declined.get_json()["motif_annulation"]) == (
        "cancelled",
        "Place proposée déclinée",
    )


def test_cancellation_matrix(client, world):
    url = f"/formations/inscriptions/{world['registration_b']}/annulation"
    for who in ("secretary_a", "elu_a"):
        assert_problem(post(client, world, who, url), 404)
    assert db.session.get(Registration, world["registration_b"]).status == "registered"
    body = assert_problem(client.post(f"/api/v1{url}", headers=bearer(world["tokens"]["elu_b"])), 400)
    assert "JSON" in body["detail"]
    response = post(client, world, "secretary_b", url)
    assert response.status_code == 200 and response.get_json()["statut"] == "cancelled"
    assert audit_actions(world, "secretary_b") == ["training.cancelled"]


# Refused input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "pointer", "detail"),
    [
        ({"financement": "mairie"}, "/financement", "Doit valoir l'une de ces valeurs : 'commune', 'dife' ou 'both'."),
        ({"part_dife": 50}, "/financement", "Un financement par le seul budget communal ne mobilise pas de DIFE."),
        (
            {"financement": "both", "part_dife": 500},
            "/financement",
            "Avec un financement mixte, la part DIFE doit être positive et inférieure au coût total.",
        ),
        ({"jours_conge": 25}, "/jours_conge", "Doit être inférieur ou égal à 24."),
        ({"jours_conge": 1.25}, "/jours_conge", "Au plus 1 décimale."),
        ({"frais_deplacement": 10.125}, "/frais_deplacement", "Au plus 2 décimales."),
        ({"frais_deplacement": -1}, "/frais_deplacement", "Doit être supérieur ou égal à 0."),
        ({"frais_deplacement": "12"}, "/frais_deplacement", "Doit être un nombre."),
        ({"mandat": "moi"}, "/mandat", "Doit être un entier."),
        ({"mandat": 0}, "/mandat", "Doit être supérieur ou égal à 1."),
        ({"liste_attente": "non"}, "/liste_attente", "Doit valoir true ou false."),
        ({"ecole": "x"}, "/ecole", "Ce champ n'est pas attendu."),
    ],
)
def test_refused_input_is_422_in_french(client, world, payload, pointer, detail):
    body = assert_problem(register(client, world, "elu_a", **payload), 422)
    assert {"pointer": pointer, "detail": detail} in body["errors"]
    assert live_registrations(world["users"]["elu_a"].mandate.id, world["session"]) == 0


def test_training_leave_is_counted_across_sessions(client, world):
    other = factories.training_session(world["training"], starts_at=NOW + timedelta(days=40))
    db.session.commit()
    assert register(client, world, "elu_a", jours_conge=18).status_code == 201
    body = assert_problem(register(client, world, "elu_a", other.id, jours_conge=7), 422)
    assert body["errors"][0]["pointer"] == "/jours_conge" and "il reste 6 jours" in body["errors"][0]["detail"]


def test_closed_registration_is_422(client, world):
    past = factories.training_session(
        world["training"], starts_at=NOW - timedelta(days=3), now=NOW - timedelta(days=60)
    )
    late = factories.training_session(
        world["training"],
        starts_at=NOW + timedelta(days=5),
        deadline=NOW - timedelta(days=1),
        now=NOW - timedelta(days=10),
    )
    db.session.commit()
    body = assert_problem(register(client, world, "elu_a", past.id), 422)
    assert body["detail"] == "Cette session a déjà commencé ou est passée : l'inscription n'est plus possible."
    assert body["errors"] == [{"pointer": "", "detail": body["detail"]}]
    late_body = assert_problem(register(client, world, "elu_a", late.id), 422)
    assert late_body["detail"] == "La date limite d'inscription à cette session est dépassée."
    staff = assert_problem(
        register(client, world, "staff", world["hidden"], mandat=world["users"]["elu_a"].mandate.id), 422
    )
    assert staff["detail"] == "Cette session n'est pas ouverte aux inscriptions."
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 2
    # after the deadline an élu no longer cancels by himself; staff do, until the start
    elu = world["users"]["elu_a"]
    seat = training_registrations.register(
        db.session.get(type(late), late.id), elu.mandate, elu, now=NOW - timedelta(days=5)
    )
    db.session.commit()
    url = f"/formations/inscriptions/{seat.id}/annulation"
    refused = assert_problem(post(client, world, "elu_a", url), 422)
    assert refused["detail"] == "La date limite d'inscription est passée : pour annuler, contactez le CDG."
    assert db.session.get(Registration, seat.id).status == "registered"
    assert post(client, world, "staff", url).get_json()["statut"] == "cancelled"


def test_session_cookie_writes_need_the_csrf_token(client, auth, world):
    auth.login("elu.a@mairie.fr")
    response = client.post(f"/api/v1/formations/sessions/{world['session']}/inscriptions", json={})
    assert_problem(response, 400)
    assert live_registrations(world["users"]["elu_a"].mandate.id, world["session"]) == 0
    assert ids(client.get("/api/v1/formations/sessions")) == [world["session"]]


# Pagination ---------------------------------------------------------------------------------------


def walk(client, headers, url: str) -> list[int]:
    seen = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
    return seen


def test_pagination_walks_every_session_and_registration_once(client, world):
    training = world["training"]
    day = NOW + timedelta(days=20)
    sessions = [factories.training_session(training, starts_at=day + timedelta(days=n % 3)) for n in range(7)]
    for session in sessions[:5]:
        training_registrations.register(session, world["users"]["elu_a"].mandate, world["users"]["elu_a"])
    db.session.commit()
    headers = bearer(world["tokens"]["elu_a"])
    seen = walk(client, headers, "/api/v1/formations/sessions?per_page=2")
    assert len(seen) == len(set(seen)) == 8  # the world's published session and the 7 new ones
    expected = [s.id for s in sorted([*sessions], key=lambda s: (s.starts_at, s.id))]
    assert [i for i in seen if i != world["session"]] == expected
    registrations = walk(client, headers, "/api/v1/formations/inscriptions?per_page=2")
    assert len(registrations) == len(set(registrations)) == 5 and registrations == sorted(registrations)
    past_end = client.get("/api/v1/formations/inscriptions?per_page=2&page=9", headers=headers).get_json()
    assert past_end["items"] == [] and past_end["total"] == 5 and past_end["next"] is None
    only = client.get(f"/api/v1/formations/sessions?formation={training.id}&periode=passees", headers=headers)
    assert ids(only) == []


def test_period_filter(client, world):
    past = factories.training_session(
        world["training"], starts_at=NOW - timedelta(days=3), now=NOW - timedelta(days=60)
    )
    db.session.commit()
    assert ids(get(client, world, "elu_a", "/formations/sessions?periode=passees")) == [past.id]
    assert ids(get(client, world, "elu_a", "/formations/sessions?periode=a_venir")) == [world["session"]]
    other = factories.training(title="Budget communal")
    db.session.commit()
    assert ids(get(client, world, "elu_a", f"/formations/sessions?formation={other.id}")) == []


def test_openapi_describes_the_training_operations(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    assert set(paths["/formations/sessions/{session_id}/inscriptions"]["post"]["responses"]) >= {
        "201",
        "401",
        "403",
        "404",
        "409",
        "422",
    }
    assert paths["/formations/inscriptions"]["get"]["tags"] == ["Formations des élus"]
    formation = next(p for p in paths["/formations/sessions"]["get"]["parameters"] if p["name"] == "formation")
    assert formation["schema"]["anyOf"][0]["maximum"] == 2**31 - 1


def test_the_mandate_is_required_in_the_document_as_by_the_server(client, world):
    """The server cannot register anyone without knowing whom: the document says so (it said « optional »)."""
    document = client.get("/api/v1/openapi.json").get_json()
    request_schema = document["components"]["schemas"]["RegistrationRequest"]
    assert "mandat" in request_schema["required"]
    for who in ("staff", "secretary_a", "elu_a"):
        refused = assert_problem(post(client, world, who, f"/formations/sessions/{world['session']}/inscriptions"), 422)
        assert refused["errors"] == [{"pointer": "/mandat", "detail": "Ce champ est obligatoire."}], who
    me = get(client, world, "elu_a", "/moi").get_json()
    assert me["mandat"] == world["users"]["elu_a"].mandate.id  # where an élu finds his own
    assert get(client, world, "secretary_a", "/moi").get_json()["mandat"] is None
    assert register(client, world, "elu_a", mandat=me["mandat"]).status_code == 201
