"""Security headers, CSRF on every form, French error pages."""

import pytest

from portal.extensions import db
from tests import factories


def test_security_headers_and_csp(client):
    response = client.get("/connexion")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "HttpOnly" in response.headers.get("Set-Cookie", "HttpOnly")


def test_pages_are_french_and_load_only_local_assets(client):
    html = client.get("/connexion").get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert 'href="#contenu"' in html and "Aller au contenu" in html
    assert "http://" not in html.split("<body")[0] and "https://" not in html.split("<body")[0]
    assert client.get("/static/css/portal.css").status_code == 200
    assert client.get("/static/js/portal.js").status_code == 200


@pytest.mark.parametrize("url", ["/connexion", "/mot-de-passe/oubli"])
def test_forms_without_csrf_token_are_refused(client, url):
    response = client.post(url, data={"email": "a@b.fr", "password": "x"})
    assert response.status_code == 400
    assert "Formulaire expiré" in response.get_data(as_text=True)


def test_logged_in_forms_without_csrf_are_refused(client, auth):
    commune = factories.collectivite()
    factories.user("secretary", email="s@mairie.fr", collectivites=[commune])
    db.session.commit()
    auth.login("s@mairie.fr")
    response = client.post(
        f"/collectivites/{commune.id}/effectifs",
        data={"year": 2026, "titulaires_temps_complet": 1, "titulaires_temps_non_complet": 0, "contractuels": 0},
    )
    assert response.status_code == 400


def test_404_and_405_pages_are_french(client):
    missing = client.get("/nexiste-pas")
    assert missing.status_code == 404 and "Page introuvable" in missing.get_data(as_text=True)
    wrong_method = client.delete("/connexion")
    assert wrong_method.status_code == 405 and "Méthode non autorisée" in wrong_method.get_data(as_text=True)


def test_500_and_503_pages_are_french(app):
    from portal.common.errors import render_error

    with app.test_request_context("/"):
        body, code = render_error(503)
        assert code == 503 and "Service indisponible" in body
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/boum")
    def boom():
        raise RuntimeError("boum")

    response = app.test_client().get("/boum")
    assert response.status_code == 500 and "Erreur interne" in response.get_data(as_text=True)


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/collectivites")
    assert response.status_code == 302 and "/connexion" in response.location
