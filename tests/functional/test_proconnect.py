"""ProConnect login, end to end against a real OpenID Connect provider on a local port (tests/oidc_provider.py).

The browser is the test client for the portal and ``requests`` for the provider: the portal sends it to the
provider with a state and a nonce, the provider sends it back with a code, the portal exchanges the code and
verifies what it receives over real HTTP.
"""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories
from tests.conftest import IsolatedClient, _free_port, clean_tables, csrf_from
from tests.oidc_provider import CLIENT_ID, Provider, RunningProvider, authorize, deny, end_session, new_key

SECRETARY = "secretariat@mairie-laroque.fr"


@pytest.fixture
def provider():
    provider = Provider()
    running = RunningProvider(provider)
    yield provider
    running.stop()


def _app(app_factory, discovery_url: str, **extra):
    app = app_factory(
        CELERY_TASK_ALWAYS_EAGER="1",
        PROCONNECT_CLIENT_ID=CLIENT_ID,
        PROCONNECT_CLIENT_SECRET="secret-de-test",
        PROCONNECT_DISCOVERY_URL=discovery_url,
        **extra,
    )
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def pc_app(app_factory, provider):
    app = _app(app_factory, provider.discovery_url)
    with app.app_context():
        yield app
        db.session.remove()
        clean_tables()


@pytest.fixture
def client(pc_app):
    return pc_app.test_client()


@pytest.fixture
def commune(pc_app):
    return factories.collectivite("Laroque-Timbaut")


def start(client, next_url: str | None = None) -> str:
    """Click « S'identifier avec ProConnect » on the login page; returns the provider's authorization URL."""
    page = client.get("/connexion")
    target = "/connexion/proconnect" + (f"?next={next_url}" if next_url else "")
    response = client.post(target, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.location


def proconnect_login(client, sub: str, next_url: str | None = None, **changes):
    return client.get(authorize(start(client, next_url), sub, **changes))


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def logged_in(client) -> bool:
    return client.get("/tableau-de-bord").status_code == 200


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def agent(provider, sub: str, email: str, **claims):
    provider.set_user(sub, email=email, email_verified=True, usual_name="Martin", siret="21470137900015", **claims)


# The button --------------------------------------------------------------------------------------------------------


def test_button_and_form_action_only_when_configured(app, provider, pc_app):
    plain = app.test_client()
    page = plain.get("/connexion")
    assert "ProConnect" not in text(page)
    assert "form-action 'self';" in page.headers["Content-Security-Policy"]
    token = csrf_from(page.get_data(as_text=True))
    assert plain.post("/connexion/proconnect", data={"csrf_token": token}).status_code == 404
    assert plain.get("/connexion/proconnect/retour?code=x&state=y").status_code == 404

    configured = pc_app.test_client().get("/connexion")
    body = text(configured)
    assert "S'identifier avec" in body and "ProConnect" in body and "Qu’est-ce que ProConnect ?" in body
    assert 'action="/connexion/proconnect"' in body
    # Only the provider's origin is added, and only to form-action (the button's answer redirects there).
    csp = configured.headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.base_url};" in csp
    assert csp.count(provider.base_url) == 1


def test_the_button_posts_with_its_csrf_token(client):
    assert client.post("/connexion/proconnect").status_code == 400


def test_authorization_request_has_state_and_nonce_of_32_characters_or_more(client, provider):
    query = parse_qs(urlsplit(start(client)).query)
    assert query["response_type"] == ["code"] and query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://localhost:5000/connexion/proconnect/retour"]
    assert query["scope"] == ["openid email given_name usual_name siret uid"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32


# Accounts that log in ----------------------------------------------------------------------------------------------


def test_existing_secretary_logs_in(client, provider, commune):
    secretary = factories.user("secretary", email=SECRETARY, collectivites=[commune])
    db.session.commit()
    agent(provider, "agent-1", "Secretariat@Mairie-Laroque.fr")  # the address as the provider writes it

    response = proconnect_login(client, "agent-1")
    assert response.status_code == 302 and response.location == "/tableau-de-bord"
    assert logged_in(client)
    assert "Laroque-Timbaut" in text(client.get("/tableau-de-bord"))
    [event] = events("login.success")
    assert event.actor_id == secretary.id
    assert event.details == {"method": "proconnect", "sub": "agent-1"}
    assert db.session.get(User, secretary.id).last_login_at is not None
    with client.session_transaction() as session:
        assert session["proconnect_id_token"].count(".") == 2


def test_existing_staff_logs_in_and_goes_where_he_was_going(client, provider):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    agent(provider, "agent-2", "agent@cdg47.fr")
    response = proconnect_login(client, "agent-2", next_url="/journal")
    assert response.status_code == 302 and response.location == "/journal"
    assert client.get("/journal").status_code == 200


def test_next_cannot_lead_to_another_site(client, provider):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    agent(provider, "agent-2", "agent@cdg47.fr")
    response = proconnect_login(client, "agent-2", next_url="//ailleurs.example/")
    assert response.location == "/tableau-de-bord"


# Accounts that do not ----------------------------------------------------------------------------------------------


def test_unknown_email_is_offered_the_prefilled_access_request(app_factory, provider):
    app = _app(app_factory, provider.discovery_url, PROCONNECT_SCOPES="openid email profile usual_name siret uid")
    agent(provider, "inconnue", "Nouvelle@Mairie-Sauvagnas.fr", given_name="Émilie")
    with app.app_context():
        try:
            factories.collectivite("Laroque-Timbaut", insee="47137", siren="214701379")
            db.session.commit()
            client = app.test_client()
            response = proconnect_login(client, "inconnue")
            assert response.status_code == 403
            body = text(response)
            assert "Aucun compte pour cette adresse" in body and "nouvelle@mairie-sauvagnas.fr" in body
            assert not logged_in(client)
            [event] = events("login.failure")
            assert event.details == {
                "email": "nouvelle@mairie-sauvagnas.fr",
                "method": "proconnect",
                "reason": "unknown",
            }
            link = html.unescape(re.search(r'<a class="button" href="([^"]+)">Demander un accès</a>', body).group(1))
            parts = urlsplit(link)
            assert parts.path == "/demande-d-acces"
            assert parse_qs(parts.query) == {
                "email": ["Nouvelle@Mairie-Sauvagnas.fr"],
                "nom": ["Martin"],
                "prenom": ["Émilie"],
                "siret": ["21470137900015"],
            }
            # The request page is prefilled; the SIRET names the commune as a suggestion the person may change.
            form = text(client.get(link))
            assert 'value="Émilie Martin"' in form and 'value="Nouvelle@Mairie-Sauvagnas.fr"' in form
            assert "Laroque-Timbaut (47137)" in form
        finally:
            db.session.remove()
            clean_tables()


def test_deactivated_account_is_refused(client, provider, commune):
    user = factories.user("secretary", email=SECRETARY, collectivites=[commune])
    accounts.deactivate_user(user)
    db.session.commit()
    agent(provider, "agent-1", SECRETARY)
    response = proconnect_login(client, "agent-1")
    assert response.status_code == 403
    assert "Compte désactivé" in text(response) and "est désactivé" in text(response)
    assert not logged_in(client)
    assert not events("login.success")
    assert events("login.failure")[0].details["reason"] == "deactivated"


def test_invited_account_must_accept_its_invitation_and_can_get_a_new_one(client, provider, commune):
    user = accounts.create_user(email=SECRETARY, role="secretary", full_name="Claire Martin", collectivites=[commune])
    db.session.commit()
    invitations_before = db.session.scalar(select(db.func.count()).select_from(OutboxEmail))
    agent(provider, "agent-1", SECRETARY)
    response = proconnect_login(client, "agent-1")
    assert response.status_code == 403
    body = text(response)
    assert "Invitation à accepter d'abord" in body and "votre invitation n'a pas encore été acceptée" in body
    assert not logged_in(client)

    # The button asks the forgot-password page, which sends a fresh invitation to an invited account.
    answer = client.post(
        "/mot-de-passe/oubli", data={"email": SECRETARY, "csrf_token": csrf_from(response.get_data(as_text=True))}
    )
    assert answer.status_code == 302
    emails = list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    assert len(emails) == invitations_before + 1 and emails[-1].to_address == SECRETARY
    assert emails[-1].template == "invitation"
    assert db.session.get(User, user.id).password_hash is None


def test_elu_keeps_his_password(client, provider, commune):
    factories.user("elu", email="maire@mairie-laroque.fr", collectivites=[commune], function="maire")
    db.session.commit()
    agent(provider, "maire", "maire@mairie-laroque.fr")
    response = proconnect_login(client, "maire")
    assert response.status_code == 403
    body = text(response)
    assert "réservé aux agents" in body and "les élus se connectent au portail avec leur adresse" in body
    assert not logged_in(client)


def test_service_account_is_refused(client, provider, commune):
    from portal.api import tokens

    staff = factories.user("staff", email="agent@cdg47.fr")
    tokens.create_service_account(
        email="logiciel@editeur.fr", full_name="Logiciel RH", role="staff", collectivites=[], actor=staff
    )
    db.session.commit()
    agent(provider, "robot", "logiciel@editeur.fr")
    response = proconnect_login(client, "robot")
    assert response.status_code == 403 and "compte de service" in text(response)
    assert not logged_in(client)


# The provider's answers are verified --------------------------------------------------------------------------------


@pytest.fixture
def secretary(client, provider, commune):
    user = factories.user("secretary", email=SECRETARY, collectivites=[commune])
    db.session.commit()
    agent(provider, "agent-1", SECRETARY)
    return user


def assert_refused(client, response, caplog, earlier_logins: int = 0):
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert "Connexion avec ProConnect impossible" in text(response)
    assert "Vous n'êtes pas connecté" in text(response)
    assert not logged_in(client)
    assert len(events("login.success")) == earlier_logins
    assert any(r.levelno == logging.WARNING and "ProConnect" in r.getMessage() for r in caplog.records)


def test_tampered_id_token_is_refused(client, provider, secretary, caplog):
    # Another agent's email written into a token signed for this one.
    provider.id_token_tamper = {"email": "agent@cdg47.fr", "sub": "agent-2"}
    assert_refused(client, proconnect_login(client, "agent-1"), caplog)
    assert "BadSignatureError" in caplog.text


def test_id_token_for_another_client_is_refused(client, provider, secretary, caplog):
    # Signed with a key the provider publishes, but issued to another service.
    provider.id_token_key = new_key("cle-de-test")
    provider.id_token_changes = {"aud": "un-autre-service"}
    assert_refused(client, proconnect_login(client, "agent-1"), caplog)
    assert "aud" in caplog.text


def test_id_token_from_another_issuer_is_refused(client, provider, secretary, caplog):
    provider.id_token_key = new_key("cle-de-test")
    provider.id_token_changes = {"iss": "https://faux-fournisseur.example"}
    assert_refused(client, proconnect_login(client, "agent-1"), caplog)
    assert "iss" in caplog.text


def test_expired_id_token_is_refused(client, provider, secretary, caplog):
    provider.id_token_key = new_key("cle-de-test")
    provider.id_token_changes = {"exp": 1_000_000_000, "iat": 999_999_000}
    assert_refused(client, proconnect_login(client, "agent-1"), caplog)


def test_wrong_nonce_is_refused(client, provider, secretary, caplog):
    # The authorization request reaches the provider with another nonce than the one kept in the session.
    assert_refused(client, proconnect_login(client, "agent-1", nonce="n" * 40), caplog)
    assert "nonce" in caplog.text


def test_state_mismatch_is_refused(client, provider, secretary, caplog):
    callback = authorize(start(client), "agent-1")
    forged = re.sub(r"state=[^&]+", "state=" + "x" * 48, callback)
    assert_refused(client, client.get(forged), caplog)
    assert "MismatchingStateError" in caplog.text
    # A code brought back to another browser (no state in its session) is refused too.
    other = client.application.test_client()
    assert_refused(other, other.get(callback), caplog)


def test_state_is_single_use(client, provider, secretary, caplog):
    callback = authorize(start(client), "agent-1")
    assert client.get(callback).status_code == 302
    client.get("/tableau-de-bord")
    # Replayed after a logout: the state was used, the session no longer holds it.
    page = client.get("/mon-profil")
    client.post("/deconnexion", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert_refused(client, client.get(callback), caplog, earlier_logins=1)


def test_agent_who_cancels_at_the_provider(client, provider, secretary, caplog):
    assert_refused(client, client.get(deny(start(client))), caplog)
    assert "access_denied" in caplog.text


def test_unverified_email_is_refused(client, provider, commune, caplog):
    factories.user("secretary", email=SECRETARY, collectivites=[commune])
    db.session.commit()
    provider.set_user("agent-1", email=SECRETARY, email_verified=False)
    response = proconnect_login(client, "agent-1")
    assert response.status_code == 400
    assert "ProConnect n'a pas confirmé votre adresse électronique" in text(response)
    assert not logged_in(client) and not events("login.success")
    assert "unverified_email" in caplog.text


def test_provider_unreachable(app_factory, caplog):
    app = _app(app_factory, f"http://127.0.0.1:{_free_port()}/.well-known/openid-configuration")
    with app.app_context():
        client = app.test_client()
        page = client.get("/connexion")
        response = client.post("/connexion/proconnect", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
        assert response.status_code == 502
        assert "ProConnect ne répond pas pour le moment" in text(response)
        assert "ConnectionError" in caplog.text
        db.session.remove()


# Userinfo as a signed JWT, as ProConnect sends it ---------------------------------------------------------------------


def test_userinfo_as_a_signed_jwt(client, provider, secretary):
    provider.like_proconnect()
    response = proconnect_login(client, "agent-1")
    assert response.status_code == 302 and logged_in(client)
    assert provider.served_jwt_userinfo == 1


def test_userinfo_jwt_decides_the_email(client, provider, secretary, commune):
    """The email that matters is the one in the verified userinfo JWT."""
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    provider.like_proconnect()
    provider.userinfo_changes = {"email": "agent@cdg47.fr"}
    assert proconnect_login(client, "agent-1").status_code == 302
    assert "Tableau de bord du CDG" in text(client.get("/tableau-de-bord"))


def test_userinfo_jwt_signed_with_an_unpublished_key_is_refused(client, provider, secretary, caplog):
    provider.like_proconnect()
    provider.publish_userinfo_key = False
    assert_refused(client, proconnect_login(client, "agent-1"), caplog)
    assert provider.served_jwt_userinfo == 1


def test_userinfo_jwt_with_a_forged_signature_is_refused(client, provider, secretary, caplog):
    provider.like_proconnect()
    provider.extra_jwks = [new_key("cle-userinfo")]  # the genuine key, published
    provider.userinfo_key = new_key("cle-userinfo")  # same key id, another key: signs the userinfo
    provider.publish_userinfo_key = False
    assert_refused(client, proconnect_login(client, "agent-1"), caplog)
    assert "BadSignatureError" in caplog.text


@pytest.mark.parametrize(
    "changes,claim",
    [({"aud": "un-autre-service"}, "aud"), ({"iss": "https://faux.example"}, "iss"), ({"sub": "agent-2"}, "sub")],
)
def test_userinfo_jwt_for_someone_else_is_refused(client, provider, secretary, caplog, changes, claim):
    provider.like_proconnect()
    provider.userinfo_changes = changes
    assert_refused(client, proconnect_login(client, "agent-1"), caplog)
    assert claim in caplog.text


# Logout ---------------------------------------------------------------------------------------------------------


def logout(client):
    page = client.get("/mon-profil")
    return client.post("/deconnexion", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def test_logout_ends_the_proconnect_session_too(client, provider, secretary):
    assert proconnect_login(client, "agent-1").status_code == 302
    with client.session_transaction() as session:
        id_token = session["proconnect_id_token"]

    response = logout(client)
    assert response.status_code == 200
    assert not logged_in(client)  # the portal's session is over before the provider is even asked
    link = html.unescape(re.search(r'href="([^"]+)" data-follow-now', response.get_data(as_text=True)).group(1))
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(f"{provider.base_url}/oauth2/end_session?")
    assert query["id_token_hint"] == [id_token]
    assert query["post_logout_redirect_uri"] == ["http://localhost:5000/deconnexion/proconnect/retour"]
    assert len(query["state"][0]) >= 32
    with client.session_transaction() as session:
        assert "proconnect_id_token" not in session

    back = client.get(end_session(link))
    assert back.status_code == 302 and back.location == "/connexion"
    assert "Vous êtes déconnecté du portail et de ProConnect." in text(client.get("/connexion"))


def test_logout_return_with_a_forged_state_only_goes_to_login(client, provider, secretary, caplog):
    assert proconnect_login(client, "agent-1").status_code == 302
    logout(client)
    back = client.get("/deconnexion/proconnect/retour?state=" + "x" * 40)
    assert back.status_code == 302 and back.location == "/connexion"
    assert "de ProConnect" not in text(client.get("/connexion"))
    assert "bad state" in caplog.text


def test_password_login_logs_out_without_proconnect(client, auth, secretary):
    auth.login(SECRETARY)
    assert logged_in(client)
    response = logout(client)
    assert response.status_code == 302 and response.location == "/connexion"
    assert not logged_in(client)


def test_a_logged_in_user_starting_again_goes_to_his_dashboard(client, provider, secretary):
    """Authorisation: the ProConnect routes are open to visitors (they are how one logs in); someone already
    logged in is not sent to the provider again, and the callback never logs anyone in without a valid state."""
    assert proconnect_login(client, "agent-1").status_code == 302
    page = client.get("/mon-profil")
    again = client.post("/connexion/proconnect", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert again.status_code == 302 and again.location == "/tableau-de-bord"
    anonymous = client.application.test_client()
    assert anonymous.get("/connexion/proconnect/retour?code=c&state=s").status_code == 400
    assert anonymous.get("/deconnexion/proconnect/retour?state=s").status_code == 302
