"""Security headers, CSRF on every form, French error pages."""

import io

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


MB = 1024 * 1024


class LazyBody(io.RawIOBase):
    """A request body of ``size`` bytes (``head``, zeros, ``tail``) produced while the server reads it, counting
    what it reads: a refused body is one the server never read."""

    def __init__(self, size: int, head: bytes, tail: bytes):
        self.data_size, self.head, self.tail = size, head, tail
        self.position = 0
        self.served = 0

    def readable(self):
        return True

    def seekable(self):  # the test client measures the body by seeking to its end and back
        return True

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.data_size}[whence]
        self.position = base + offset
        return self.position

    def tell(self):
        return self.position

    def readinto(self, buffer):
        start, end = self.position, min(self.position + len(buffer), self.data_size)
        chunk = bytearray(end - start)
        head_end = min(end, len(self.head))
        if start < head_end:
            chunk[: head_end - start] = self.head[start:head_end]
        tail_start = self.data_size - len(self.tail)
        from_tail = max(start, tail_start)
        if from_tail < end:
            chunk[from_tail - start :] = self.tail[from_tail - tail_start : end - tail_start]
        buffer[: len(chunk)] = chunk
        self.position = end
        self.served += len(chunk)
        return len(chunk)


def multipart_body(size: int) -> LazyBody:
    head = (
        b'--B\r\nContent-Disposition: form-data; name="email"; filename="gros.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    return LazyBody(size, head, b"\r\n--B--\r\n")


def test_max_content_length_comes_from_the_configuration(app):
    largest = max(app.config["CONVENTION_MAX_UPLOAD_MB"], app.config["IMPORT_MAX_UPLOAD_MB"])
    assert app.config["MAX_CONTENT_LENGTH"] == (largest + 1) * MB


def test_an_anonymous_30_mb_post_is_refused_at_once_in_french(client):
    body = multipart_body(30 * MB)
    response = client.post(
        "/connexion", input_stream=body, content_length=30 * MB, content_type="multipart/form-data; boundary=B"
    )
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Fichier ou formulaire trop volumineux" in page and "Request Entity Too Large" not in page
    assert body.served == 0  # refused on its Content-Length: nothing read, nothing spooled to disk


def test_an_api_body_too_large_is_a_problem_document(client):
    from tests.api_helpers import assert_problem, bearer, token_for

    commune = factories.collectivite()
    staff = factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    body = LazyBody(30 * MB, b'{"annee": 2026, "commentaire": "', b'"}')
    response = client.post(
        f"/api/v1/collectivites/{commune.id}/declarations",
        input_stream=body,
        content_length=30 * MB,
        content_type="application/json",
        headers=bearer(token_for(staff)),
    )
    problem = assert_problem(response, 413)
    assert problem["title"] == "Requête trop volumineuse"
    assert body.served == 0
