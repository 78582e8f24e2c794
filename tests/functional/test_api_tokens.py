"""Token pages (create, see the secret once, revoke; staff and service accounts), rate limits, the docs."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from portal.api.models import ApiToken
from portal.api.rules import hash_secret
from portal.audit.models import AuditEvent
from portal.common.clock import paris_today
from portal.extensions import db
from tests import factories
from tests.api_helpers import assert_problem, bearer, token_for
from tests.conftest import csrf_from

SECRET_RE = re.compile(r'id="secret"[^>]*value="(cdg_[^"]+)"')


def test_user_creates_sees_once_uses_and_revokes_a_token(client, auth, app):
    factories.user("secretary", email="sec@mairie.fr", collectivites=[factories.collectivite("Commune A")])
    db.session.commit()
    auth.login("sec@mairie.fr")
    page = client.get("/compte/jetons")
    assert page.status_code == 200
    too_late = (paris_today() + timedelta(days=800)).isoformat()  # within the portal's dates, beyond a year
    response = auth.post("/compte/jetons", {"name": "Logiciel RH", "scope": "read", "expires_on": too_late})
    assert response.status_code == 422 and "un an au plus" in response.get_data(as_text=True)
    future = paris_today() + timedelta(days=363)  # within a year, on 29 February too
    response = auth.post("/compte/jetons", {"name": "Logiciel RH", "scope": "read", "expires_on": future.isoformat()})
    html = response.get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)
    token = db.session.scalar(select(ApiToken))
    assert token.token_hash == hash_secret(secret) and secret not in (token.prefix + token.token_hash)
    assert secret not in client.get("/compte/jetons").get_data(as_text=True)  # shown once
    assert client.get("/api/v1/moi", headers=bearer(secret)).get_json()["jeton"]["portee"] == "read"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.create")) is not None

    page = client.get("/compte/jetons").get_data(as_text=True)
    client.post(f"/compte/jetons/{token.id}/revocation", data={"csrf_token": csrf_from(page)})
    assert_problem(client.get("/api/v1/moi", headers=bearer(secret)), 401)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "api_token.revoke")) is not None


def test_nobody_revokes_another_users_token_but_staff(client, auth, app):
    owner = factories.user("secretary", email="a@mairie.fr", collectivites=[factories.collectivite("A")])
    factories.user("secretary", email="b@mairie.fr", collectivites=[factories.collectivite("B")])
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    token_for(owner)
    token = db.session.scalar(select(ApiToken))
    auth.login("b@mairie.fr")
    page = client.get("/compte/jetons").get_data(as_text=True)
    assert client.post(f"/compte/jetons/{token.id}/revocation", data={"csrf_token": csrf_from(page)}).status_code == 404
    assert client.post(f"/compte/jetons/{token.id}/revocation").status_code in (400, 404)
    auth.logout()
    auth.login("staff@cdg47.fr")
    page = client.get("/admin/jetons").get_data(as_text=True)
    assert "a@mairie.fr" in page
    client.post(f"/compte/jetons/{token.id}/revocation", data={"csrf_token": csrf_from(page)})
    db.session.refresh(token)
    assert token.revoked_at is not None


def test_staff_creates_a_service_account_and_its_token(client, auth, app):
    factories.collectivite("Agen", insee="47001")
    factories.user("staff", email="staff@cdg47.fr")
    factories.user("secretary", email="sec@mairie.fr", collectivites=[factories.collectivite("X")])
    db.session.commit()
    auth.login("sec@mairie.fr")
    assert client.get("/admin/jetons").status_code == 403
    auth.logout()
    auth.login("staff@cdg47.fr")
    response = auth.post(
        "/admin/jetons",
        {
            "compte-email": "paie@editeur.fr",
            "compte-full_name": "Logiciel de paie",
            "compte-role": "secretary",
            "compte-collectivites": "47001",
            "compte-submit_account": "1",
        },
    )
    assert response.status_code == 302
    page = client.get("/admin/jetons").get_data(as_text=True)
    user_id = re.search(r'<option value="(\d+)">Logiciel de paie', page).group(1)
    expires = (factories.date.today() + factories.timedelta(days=30)).isoformat()
    response = auth.post(
        "/admin/jetons",
        {"user_id": user_id, "name": "Paie", "scope": "read-write", "expires_on": expires, "submit": "1"},
    )
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    me = client.get("/api/v1/moi", headers=bearer(secret)).get_json()
    assert me["compte_de_service"] is True and me["role"] == "secretary" and len(me["collectivites"]) == 1
    listed = client.get("/api/v1/collectivites", headers=bearer(secret)).get_json()
    assert [c["nom"] for c in listed["items"]] == ["Agen"]


def test_rate_limit_per_token_answers_429_with_retry_after(app_factory):
    app = app_factory(API_RATE_LIMIT="3/minute", API_ANON_RATE_LIMIT="2/minute")
    with app.app_context():
        secret = token_for(factories.user("staff", email="staff@cdg47.fr"))
        client = app.test_client()
        codes = [client.get("/api/v1/moi", headers=bearer(secret)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/api/v1/moi", headers=bearer(secret))
        body = assert_problem(response, 429)
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert "réessayez dans" in body["detail"]
        anonymous = [client.get("/api/v1/openapi.json").status_code for _ in range(3)]
        assert anonymous == [200, 200, 429]
        db.session.remove()
        from tests.conftest import clean_tables

        clean_tables()


def test_docs_page_and_openapi_document(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    operation = document["paths"]["/collectivites"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"page", "per_page", "departement", "type", "epci", "statut"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CollectivitePage"
    }
    assert "CollectiviteSummary" in document["components"]["schemas"]
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "GET /api/v1/collectivites" in html and "Lister les collectivités" in html
    assert html.count("<script") == 1  # the portal's own script of base.html, nothing else


def test_the_document_lists_413_414_and_429_and_the_server_answers_them_as_problems(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            responses = set(operation["responses"])
            assert {"414", "429"} <= responses, (method, path)
            if "requestBody" in operation:
                assert "413" in responses, (method, path)
    secret = token_for(factories.user("staff", email="staff@cdg47.fr"))
    too_long = client.get("/api/v1/collectivites?q=" + "a" * 3000, headers=bearer(secret))
    assert "dépassent 2048 octets" in assert_problem(too_long, 414)["detail"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    too_large = client.post(
        "/api/v1/collectivites/1/declarations", headers=bearer(secret), json={"commentaire": "x" * 2000}
    )
    assert_problem(too_large, 413)
