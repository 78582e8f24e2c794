"""Login, throttling, logout that really ends the session, password reset by emailed single-use link."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import select

from portal.accounts.models import ThrottleCounter
from portal.audit.models import AuditEvent
from portal.common.clock import utcnow
from portal.extensions import db
from tests import factories
from tests.conftest import TEST_PASSWORD, clean_tables, csrf_from


def actions():
    return [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_login_success_and_audit(client, auth):
    staff = factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    response = auth.login("Agent@CDG47.fr ", TEST_PASSWORD)
    assert response.status_code == 302 and response.location.endswith("/tableau-de-bord")
    page = client.get("/tableau-de-bord")
    assert page.status_code == 200 and "Tableau de bord du CDG" in page.get_data(as_text=True)
    assert "login.success" in actions()
    assert db.session.get(type(staff), staff.id).last_login_at is not None


def test_wrong_password_is_refused_in_french_and_audited(client, auth):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    response = auth.login("agent@cdg47.fr", "pas le bon mot de passe")
    assert response.status_code == 401
    assert "Adresse électronique ou mot de passe incorrect." in response.get_data(as_text=True)
    assert "login.failure" in actions()
    unknown = auth.login("inconnu@cdg47.fr", "peu importe le mot de passe")
    assert unknown.status_code == 401  # same answer: no account enumeration


def login_from(client, address: str, email: str, password: str = TEST_PASSWORD):
    """A login from another client address (``REMOTE_ADDR``)."""
    page = client.get("/connexion", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/connexion",
        environ_base={"REMOTE_ADDR": address},
        data={"email": email, "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )


def test_throttling_per_account_and_address(app, client, auth):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]):
        assert auth.login("agent@cdg47.fr", "mauvais mot de passe").status_code == 401
    blocked = auth.login("agent@cdg47.fr", TEST_PASSWORD)  # even the right password waits
    assert blocked.status_code == 429 and "Trop de tentatives" in blocked.get_data(as_text=True)
    assert "login.throttled" in actions()
    # Somebody else's guesses do not lock the owner out: from another address, the account opens.
    assert login_from(app.test_client(), "10.1.2.3", "agent@cdg47.fr").status_code == 302
    # Once the window is over, the right password works again from the first address too.
    for counter in db.session.scalars(select(ThrottleCounter)):
        counter.window_started_at -= timedelta(seconds=app.config["LOGIN_THROTTLE_WINDOW_SECONDS"])
    db.session.commit()
    assert auth.login("agent@cdg47.fr", TEST_PASSWORD).status_code == 302


def test_a_town_hall_behind_one_address_is_not_locked_out_by_mistakes_on_other_accounts(app, client):
    """Twenty failures from the town hall's one public address (five on each of four accounts) lock those four
    accounts from there, not the colleague who types the right password."""
    with factories.shared_password_hash():
        for n in range(4):
            factories.user("secretary", email=f"agent{n}@mairie.fr", collectivites=[factories.collectivite()])
        factories.user("secretary", email="secretariat@mairie.fr", collectivites=[factories.collectivite()])
    db.session.commit()
    town_hall = "203.0.113.47"
    for n in range(4):
        for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]):
            assert login_from(client, town_hall, f"agent{n}@mairie.fr", "mauvais mot de passe").status_code == 401
        assert login_from(client, town_hall, f"agent{n}@mairie.fr").status_code == 429
    assert login_from(app.test_client(), town_hall, "secretariat@mairie.fr").status_code == 302


def test_throttling_per_address_bounds_a_guess_on_many_accounts(app, client):
    factories.user("staff", email="victime@cdg47.fr")
    db.session.commit()
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 6
    for n in range(6):
        assert login_from(client, "192.0.2.66", f"essai{n}@exemple.fr", "mauvais mot de passe").status_code == 401
    assert login_from(client, "192.0.2.66", "victime@cdg47.fr").status_code == 429
    assert login_from(app.test_client(), "10.1.2.3", "victime@cdg47.fr").status_code == 302


def test_throttling_per_account_bounds_a_guess_from_many_addresses(app, client):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 6
    for n in range(6):
        assert login_from(client, f"198.51.100.{n}", "agent@cdg47.fr", "mauvais mot de passe").status_code == 401
    assert login_from(client, "198.51.100.99", "agent@cdg47.fr").status_code == 429


def test_a_successful_login_clears_the_failures_of_its_account_from_its_address(app, client, auth):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    for _ in range(2):
        for _ in range(limit - 1):
            assert auth.login("agent@cdg47.fr", "mauvais mot de passe").status_code == 401
        assert auth.login("agent@cdg47.fr", TEST_PASSWORD).status_code == 302
        assert auth.logout().status_code == 302
    counters = {c.scope: c.attempts for c in db.session.scalars(select(ThrottleCounter))}
    # The failures still count toward the wider counters; the successful logins do not.
    assert counters == {"login-account": 2 * (limit - 1), "login-address": 2 * (limit - 1)}


def test_logout_ends_the_session_even_for_a_copied_cookie(app, client, auth):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    cookie = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    assert thief.get("/tableau-de-bord").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/tableau-de-bord").status_code == 302
    stolen = thief.get("/tableau-de-bord")
    assert stolen.status_code == 302 and "/connexion" in stolen.location


def test_logout_requires_post_with_csrf(client, auth):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    assert client.get("/deconnexion").status_code == 405
    refused = client.post("/deconnexion")
    assert refused.status_code == 400 and "Formulaire expiré" in refused.get_data(as_text=True)
    assert client.get("/tableau-de-bord").status_code == 200


def test_password_reset_by_emailed_single_use_link(app, client, auth, smtp_sink):
    factories.user("secretary", email="secretariat@mairie.fr", collectivites=[factories.collectivite()])
    db.session.commit()
    response = auth.post("/mot-de-passe/oubli", {"email": "secretariat@mairie.fr"})
    assert response.status_code == 302
    assert len(smtp_sink.messages) == 1
    message = smtp_sink.messages[0]
    assert message["To"].addresses[0].addr_spec == "secretariat@mairie.fr"
    assert message["Subject"] == "Réinitialisation de votre mot de passe — Portail CDG 47"
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/mot-de-passe/reinitialiser/\S+", text).group(0)
    assert link.startswith(app.config["PORTAL_BASE_URL"] + "/"), "links are built on the public address"
    path = urlsplit(link).path
    new_password = "une nouvelle phrase de passe"
    page = client.get(path)
    assert page.status_code == 200
    too_short = client.post(
        path, data={"password": "court", "confirm": "court", "csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    assert too_short.status_code == 422 and "au moins 12 caractères" in too_short.get_data(as_text=True)
    done = client.post(
        path,
        data={"password": new_password, "confirm": new_password, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert done.status_code == 302
    assert auth.login("secretariat@mairie.fr", new_password).status_code == 302
    reused = client.get(path)
    assert reused.status_code == 400 and "déjà été utilisé" in reused.get_data(as_text=True)


def test_reset_form_states_the_rules_and_lists_every_problem_at_once(client):
    from portal.accounts.services import make_reset_token

    user = factories.user("secretary", email="secretariat@mairie.fr", collectivites=[factories.collectivite()])
    db.session.commit()
    path = f"/mot-de-passe/reinitialiser/{make_reset_token(user)}"
    page = client.get(path)
    hint = "Au moins 12 caractères. Évitez les mots de passe courants (même suivis de chiffres ou de signes)"
    assert hint in page.get_data(as_text=True)

    def choose(password):
        csrf = csrf_from(client.get(path).get_data(as_text=True))
        return client.post(path, data={"password": password, "confirm": password, "csrf_token": csrf})

    common = choose("Azertyuiop2026!")
    assert common.status_code == 422
    assert "fait partie des plus utilisés" in common.get_data(as_text=True)
    assert "Azertyuiop2026!" not in common.get_data(as_text=True)  # a password is never sent back
    several = choose("secretariat")
    text = several.get_data(as_text=True)
    assert several.status_code == 422
    assert "au moins 12 caractères" in text and "ne doit pas contenir votre identifiant" in text
    assert choose("trois pruneaux d'Agen au soleil").status_code == 302


def test_password_reset_for_unknown_address_answers_the_same_and_sends_nothing(client, auth, smtp_sink):
    response = auth.post("/mot-de-passe/oubli", {"email": "personne@nulle-part.fr"})
    assert response.status_code == 302
    assert smtp_sink.messages == []


def ask_for_reset(client, email: str, address: str = "127.0.0.1"):
    page = client.get("/mot-de-passe/oubli", environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/mot-de-passe/oubli",
        environ_base={"REMOTE_ADDR": address},
        data={"email": email, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )


def test_reset_requests_for_one_address_send_a_few_emails_not_one_each(app, client, smtp_sink):
    factories.user("secretary", email="secretariat@mairie.fr", collectivites=[factories.collectivite()])
    db.session.commit()
    limit = app.config["PASSWORD_RESET_MAX_PER_EMAIL"]
    responses = [ask_for_reset(client, "secretariat@mairie.fr", address=f"192.0.2.{n}") for n in range(15)]
    assert len(smtp_sink.messages) == limit
    assert [r.status_code for r in responses] == [302] * limit + [429] * (15 - limit)
    refused = responses[-1].get_data(as_text=True)
    assert "Trop de demandes de réinitialisation" in refused
    assert 'value="secretariat@mairie.fr"' in refused  # what was typed is kept
    assert "password.reset_throttled" in actions()


def test_reset_requests_from_one_address_are_limited(app, client, smtp_sink):
    with factories.shared_password_hash():
        for n in range(6):
            factories.user("staff", email=f"agent{n}@cdg47.fr")
    db.session.commit()
    app.config["PASSWORD_RESET_MAX_PER_ADDRESS"] = 4
    statuses = [ask_for_reset(client, f"agent{n}@cdg47.fr", address="198.51.100.20").status_code for n in range(6)]
    assert statuses == [302] * 4 + [429] * 2
    assert len(smtp_sink.messages) == 4
    assert ask_for_reset(client, "agent5@cdg47.fr", address="198.51.100.21").status_code == 302


def test_reset_requests_answer_the_same_whether_the_address_has_an_account_or_not(app, smtp_sink):
    factories.user("secretary", email="secretariat@mairie.fr", collectivites=[factories.collectivite()])
    db.session.commit()

    def answers(email: str, address: str) -> list[tuple[int, str, str]]:
        client = app.test_client()
        seen = []
        for _ in range(app.config["PASSWORD_RESET_MAX_PER_EMAIL"] + 2):
            response = ask_for_reset(client, email, address)
            shown = client.get(response.location) if response.status_code == 302 else response
            page = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", shown.get_data(as_text=True))
            seen.append((response.status_code, response.location, page.replace(email, "ADRESSE")))
        return seen

    assert answers("secretariat@mairie.fr", "192.0.2.1") == answers("personne@nulle-part.fr", "192.0.2.2")
    assert len(smtp_sink.messages) == app.config["PASSWORD_RESET_MAX_PER_EMAIL"]


def test_forged_or_expired_reset_links_are_refused(app, client):
    from portal.accounts.services import make_reset_token

    user = factories.user("staff")
    db.session.commit()
    assert client.get("/mot-de-passe/reinitialiser/nimportequoi").status_code == 400
    token = make_reset_token(user)
    db.session.commit()
    with time_machine.travel(utcnow() + timedelta(seconds=app.config["PASSWORD_RESET_MAX_AGE_SECONDS"] + 1)):
        expired = client.get(f"/mot-de-passe/reinitialiser/{token}")
    assert expired.status_code == 400 and "expiré" in expired.get_data(as_text=True)
    replaced = make_reset_token(user)
    make_reset_token(user)
    db.session.commit()
    assert "remplacé par un lien plus récent" in client.get(f"/mot-de-passe/reinitialiser/{replaced}").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    "target", ["https://malveillant.example/", "//malveillant.example/", "/\\malveillant.example/"]
)
def test_open_redirect_after_login_is_refused(client, target):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    page = client.get("/connexion")
    response = client.post(
        "/connexion",
        query_string={"next": target},
        data={
            "email": "agent@cdg47.fr",
            "password": TEST_PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.location.endswith("/tableau-de-bord")


def failed_login_addresses(app_client, headers: dict, remote_addr: str = "10.0.0.2") -> list[str]:
    """Fail a login with these headers; the client addresses the audit log recorded for failed logins."""
    page = app_client.get("/connexion", environ_base={"REMOTE_ADDR": remote_addr})
    app_client.post(
        "/connexion",
        environ_base={"REMOTE_ADDR": remote_addr},
        headers=headers,
        data={"email": "agent@cdg47.fr", "password": "mauvais", "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent.ip_address).where(AuditEvent.action == "login.failure").order_by(AuditEvent.id)
        )
    )


def test_x_forwarded_for_is_ignored_unless_proxies_are_trusted(app, client):
    """By default anybody could send the header: a guesser would change it at every attempt to escape the throttle."""
    assert app.config["TRUSTED_PROXY_COUNT"] == 0
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS"]
    for n in range(limit):
        failed_login_addresses(client, {"X-Forwarded-For": f"192.0.2.{n}"})
    assert failed_login_addresses(client, {}) == ["10.0.0.2"] * limit  # the sixth is throttled, not failed
    assert login_from(client, "10.0.0.2", "agent@cdg47.fr").status_code == 429


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(app_factory):
    app = app_factory(TRUSTED_PROXY_COUNT=1)
    with app.app_context():
        factories.user("staff", email="agent@cdg47.fr")
        db.session.commit()
        client = app.test_client()
        # The proxy (10.0.0.2) appends the address it sees; only that last value is trusted, not what the
        # client wrote before it.
        addresses = failed_login_addresses(client, {"X-Forwarded-For": "198.51.100.7, 203.0.113.9"})
        assert addresses == ["203.0.113.9"]
        db.session.remove()
        clean_tables()


def test_behind_a_trusted_proxy_the_scheme_comes_from_x_forwarded_proto(app_factory):
    """A proxy that terminates HTTPS says so: the portal then sends HSTS (secure cookies are on in production)."""
    app = app_factory(TRUSTED_PROXY_COUNT=1, SESSION_COOKIE_SECURE=1)
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/connexion").headers
    assert "Strict-Transport-Security" in client.get("/connexion", headers={"X-Forwarded-Proto": "https"}).headers
    untrusted = app_factory(SESSION_COOKIE_SECURE=1).test_client()
    assert (
        "Strict-Transport-Security" not in untrusted.get("/connexion", headers={"X-Forwarded-Proto": "https"}).headers
    )


def test_reactivating_an_account_brings_back_no_session_nor_api_token_from_before(app, client, auth):
    from tests.api_helpers import bearer, token_for

    staff = factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    old_token = token_for(staff)
    copied = app.test_client()  # the same session, on another device
    copied.set_cookie("session", client.get_cookie("session").value)
    assert copied.get("/tableau-de-bord").status_code == 200
    assert copied.get("/api/v1/collectivites", headers=bearer(old_token)).status_code == 200
    runner = app.test_cli_runner()

    deactivated = runner.invoke(args=["users", "deactivate", "agent@cdg47.fr"])
    assert deactivated.exit_code == 0, deactivated.output
    assert "Compte désactivé : agent@cdg47.fr (1 jeton d'API révoqué)." in deactivated.output
    assert copied.get("/tableau-de-bord").status_code == 302
    assert copied.get("/api/v1/collectivites", headers=bearer(old_token)).status_code == 401
    assert auth.login("agent@cdg47.fr").status_code == 401

    reactivated = runner.invoke(args=["users", "reactivate", "agent@cdg47.fr"])
    assert reactivated.exit_code == 0, reactivated.output
    assert "Compte réactivé : agent@cdg47.fr." in reactivated.output
    assert copied.get("/tableau-de-bord").status_code == 302  # the old session stays ended
    assert client.get("/tableau-de-bord").status_code == 302
    assert copied.get("/api/v1/collectivites", headers=bearer(old_token)).status_code == 401  # still revoked
    assert auth.login("agent@cdg47.fr").status_code == 302  # the owner logs in again and makes new tokens
    assert client.get("/api/v1/collectivites", headers=bearer(token_for(staff, name="nouveau"))).status_code == 200
    assert {"user.deactivate", "user.reactivate", "api_token.revoke"} <= set(actions())


def test_an_account_switched_off_in_the_database_comes_back_without_its_old_session_and_tokens(app, client, auth):
    """Reactivation ends what existed before even when the deactivation did not go through the portal."""
    from tests.api_helpers import bearer, token_for

    staff = factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    old_token = token_for(staff)
    db.session.get(type(staff), staff.id).active = False
    db.session.commit()
    assert client.get("/tableau-de-bord").status_code == 302

    reactivated = app.test_cli_runner().invoke(args=["users", "reactivate", "agent@cdg47.fr"])
    assert reactivated.exit_code == 0, reactivated.output
    assert (
        "Compte réactivé : agent@cdg47.fr (jetons d'API d'avant la désactivation révoqués : 1)." in reactivated.output
    )
    assert client.get("/tableau-de-bord").status_code == 302
    assert client.get("/api/v1/collectivites", headers=bearer(old_token)).status_code == 401


def test_deactivation_commands_explain_their_refusals_in_french(app):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["users", "deactivate", "personne@cdg47.fr"])
    assert unknown.exit_code == 1 and "Aucun compte pour personne@cdg47.fr." in unknown.output
    active = runner.invoke(args=["users", "reactivate", "agent@cdg47.fr"])
    assert active.exit_code == 1 and "Le compte agent@cdg47.fr est déjà actif." in active.output
    runner.invoke(args=["users", "deactivate", "agent@cdg47.fr"])
    again = runner.invoke(args=["users", "deactivate", "agent@cdg47.fr"])
    assert again.exit_code == 1 and "Le compte agent@cdg47.fr est déjà désactivé." in again.output
