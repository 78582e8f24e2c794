"""Staff manage people's accounts on /comptes: list, search, create (invited), collectivités, deactivate (sessions
ended, API tokens revoked), reactivate, invite again; every change audited; secretaries and élus never get in."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from portal.accounts.models import AccountStatus, User
from portal.api.models import ApiToken
from portal.audit.models import AuditEvent
from portal.extensions import db
from tests import factories
from tests.api_helpers import token_for
from tests.conftest import TEST_PASSWORD, csrf_from


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def agent(auth):
    agent = factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    return agent


def _button(auth, user: User, action: str):
    return auth.post(f"/comptes/{user.id}/{action}", {}, page_url=f"/comptes/{user.id}")


def _deactivate(auth, user: User, reason: str = "Départ de la collectivité"):
    """The account page's button, then the confirmation page's, with the reason."""
    return auth.post(
        f"/comptes/{user.id}/desactivation", {"confirmed": "1", "reason": reason}, page_url=f"/comptes/{user.id}"
    )


def test_the_list_searches_and_filters_accounts_with_status_role_and_last_login(client, agent):
    pujols = factories.collectivite("Pujols", insee="47215")
    factories.user("secretary", email="sophie@pujols.fr", collectivites=[pujols])
    invited = factories.user("secretary", email="alain@laroque.fr", collectivites=[pujols])
    invited.password_hash = None
    gone = factories.user("secretary", email="old@pujols.fr", collectivites=[pujols])
    gone.active = False
    db.session.commit()

    page = _text(client.get("/comptes/"))
    assert "4 comptes." in page
    assert "Secrétaire général de mairie" in page and "Agent du CDG" in page
    assert "Invitation en attente" in page and "Désactivé" in page and "Jamais" in page

    found = _text(client.get("/comptes/?q=PUJOLS.FR"))
    assert "2 comptes." in found and "sophie@pujols.fr" in found and "alain@laroque.fr" not in found
    assert "1 compte." in _text(client.get("/comptes/?status=invited"))
    deactivated = _text(client.get("/comptes/?status=deactivated&role=secretary"))
    assert "old@pujols.fr" in deactivated and "sophie@pujols.fr" not in deactivated
    # A wildcard typed in the search is a character, not a pattern.
    assert "Aucun compte ne correspond à ces critères." in _text(client.get("/comptes/?q=s_phie"))


def test_the_list_is_paginated(client, agent):
    body = factories.collectivite()
    for n in range(55):
        factories.user("secretary", email=f"s{n:02d}@mairie.fr", collectivites=[body])
    db.session.commit()
    first = _text(client.get("/comptes/"))
    assert "56 comptes." in first and "Page 1 sur 2" in first
    assert "Page 2 sur 2" in _text(client.get("/comptes/?page=2"))


@pytest.mark.parametrize(("days", "validity"), [(1, "valable 1 jour,"), (7, "valable 7 jours,")])
def test_the_creation_page_says_how_long_an_invitation_lasts(client, agent, app, monkeypatch, days, validity):
    monkeypatch.setitem(app.config, "INVITATION_MAX_AGE_DAYS", days)
    assert f"La personne reçoit par courriel une invitation, {validity} pour choisir" in _text(
        client.get("/comptes/nouveau")
    )


def test_staff_create_a_secretary_who_is_invited_by_email(client, auth, agent, smtp_sink):
    factories.collectivite("Pujols", insee="47215")
    factories.collectivite("Laroque-Timbaut", insee="47137")
    db.session.commit()
    response = auth.post(
        "/comptes/nouveau",
        {
            "role": "secretary",
            "full_name": "Sophie Martin",
            "email": " Sophie@Mairie-Pujols.fr ",
            "collectivites": "47215, 47137",
        },
    )
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "sophie@mairie-pujols.fr"))
    assert user.status == AccountStatus.INVITED and user.password_hash is None
    assert {c.name for c in user.collectivites} == {"Pujols", "Laroque-Timbaut"}
    page = _text(client.get(response.headers["Location"]))
    assert "Invitation envoyée à sophie@mairie-pujols.fr : le lien est valable 7 jours." in page
    assert "Renvoyer l'invitation" in page and "Création du compte sophie@mairie-pujols.fr" in page
    [message] = smtp_sink.messages
    assert message["To"].addresses[0].addr_spec == "sophie@mairie-pujols.fr"
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.create").order_by(AuditEvent.id.desc())
    )
    assert event.actor_id == agent.id and event.details["collectivites"] == ["47215", "47137"]


def test_creation_errors_are_french_and_name_every_problem(client, auth, agent):
    factories.collectivite("Pujols", insee="47215")
    outside = factories.collectivite("Cahors", insee="46042")
    outside.departement_code = "46"
    db.session.commit()

    missing = auth.post("/comptes/nouveau", {"role": "secretary", "full_name": "A B", "email": "a@b.fr"})
    assert missing.status_code == 422
    assert "Indiquez au moins une collectivité pour un secrétaire général de mairie." in _text(missing)

    unknown = auth.post(
        "/comptes/nouveau",
        {"role": "secretary", "full_name": "A B", "email": "a@b.fr", "collectivites": "47215;99999\n46042"},
    )
    assert unknown.status_code == 422
    text = _text(unknown)
    assert "Aucune collectivité ne porte ce code : 99999." in text
    assert "Hors des départements du CDG : Cahors (46042)." in text

    staff_with_body = auth.post(
        "/comptes/nouveau", {"role": "staff", "full_name": "A B", "email": "a@b.fr", "collectivites": "47215"}
    )
    assert "Un agent du CDG n'est rattaché à aucune collectivité" in _text(staff_with_body)

    duplicate = auth.post("/comptes/nouveau", {"role": "staff", "full_name": "A B", "email": "AGENT@cdg47.fr"})
    assert duplicate.status_code == 422 and "Un compte existe déjà pour agent@cdg47.fr." in _text(duplicate)
    assert db.session.scalar(select(User).where(User.email == "a@b.fr")) is None


def test_collectivites_are_edited_with_a_warning_before_leaving_a_secretary_attached_to_nothing(client, auth, agent):
    pujols = factories.collectivite("Pujols", insee="47215")
    factories.collectivite("Laroque-Timbaut", insee="47137")
    secretary = factories.user("secretary", email="sophie@pujols.fr", collectivites=[pujols])
    db.session.commit()
    url = f"/comptes/{secretary.id}/collectivites"

    added = auth.post(url, {"collectivites": "47215 47137"}, page_url=f"/comptes/{secretary.id}")
    assert added.status_code == 302
    db.session.refresh(secretary)
    assert {c.insee_code for c in secretary.collectivites} == {"47215", "47137"}
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.collectivites"))
    assert event.details == {"added": ["47137"], "removed": []} and "ajout de Laroque-Timbaut" in event.summary

    refused = auth.post(url, {"collectivites": ""}, page_url=f"/comptes/{secretary.id}")
    assert refused.status_code == 422
    assert "Sans collectivité, cette secrétaire ne verra plus rien sur le portail." in _text(refused)
    db.session.refresh(secretary)
    assert len(secretary.collectivites) == 2

    confirmed = auth.post(url, {"collectivites": "", "confirm_none": "y"}, page_url=f"/comptes/{secretary.id}")
    assert confirmed.status_code == 302
    page = _text(client.get(confirmed.headers["Location"]))
    assert "Ce compte n'est plus rattaché à aucune collectivité" in page
    db.session.refresh(secretary)
    assert secretary.collectivites == []


def test_deactivation_ends_every_session_and_revokes_every_token_and_reactivation_brings_none_back(
    app, client, auth, agent
):
    body = factories.collectivite()
    secretary = factories.user("secretary", email="sophie@pujols.fr", collectivites=[body])
    db.session.commit()
    secret = token_for(secretary)
    db.session.commit()
    other_browser = app.test_client()
    page = other_browser.get("/connexion")
    other_browser.post(
        "/connexion",
        data={"email": "sophie@pujols.fr", "password": TEST_PASSWORD, "csrf_token": csrf_from(page.text)},
    )
    assert other_browser.get("/mon-profil").status_code == 200

    response = _deactivate(auth, secretary)
    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Compte désactivé : toutes ses sessions sont fermées. 1 jeton d'API révoqué." in page
    assert "Motif de la désactivation" in page and "Départ de la collectivité" in page
    assert other_browser.get("/mon-profil").status_code == 302
    assert client.get("/api/v1/moi", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert db.session.scalar(select(ApiToken.revoked_at).where(ApiToken.user_id == secretary.id)) is not None
    assert {e.action for e in db.session.scalars(select(AuditEvent))} >= {"user.deactivate", "api_token.revoke"}

    again = _deactivate(auth, secretary)
    assert again.status_code == 409 and "Le compte sophie@pujols.fr est déjà désactivé." in _text(again)

    back = _button(auth, secretary, "reactivation")
    assert back.status_code == 302
    db.session.refresh(secretary)
    assert secretary.status == AccountStatus.ACTIVE
    assert other_browser.get("/mon-profil").status_code == 302  # the old session stays ended
    assert client.get("/api/v1/moi", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "Motif de la désactivation" not in _text(client.get(f"/comptes/{secretary.id}"))


def test_deactivation_asks_for_confirmation_and_a_reason_kept_in_the_audit_log(client, auth, agent):
    body = factories.collectivite()
    secretary = factories.user("secretary", email="sophie@pujols.fr", collectivites=[body])
    db.session.commit()
    account_page = f"/comptes/{secretary.id}"

    asked = _button(auth, secretary, "desactivation")
    page = _text(asked)
    assert asked.status_code == 200 and "Désactiver le compte de" in page
    assert "Motif de la désactivation" in page and "Confirmer la désactivation" in page
    assert 'name="confirmed" value="1"' in page and f'href="{account_page}"' in page
    db.session.refresh(secretary)
    assert secretary.active  # nothing happens before the confirmation

    without_reason = _deactivate(auth, secretary, reason="  ")
    assert without_reason.status_code == 422
    assert "Indiquez le motif de la désactivation." in _text(without_reason)
    db.session.refresh(secretary)
    assert secretary.active

    assert _deactivate(auth, secretary, reason="Fin de contrat le 30 novembre").status_code == 302
    db.session.refresh(secretary)
    assert not secretary.active
    shown = _text(client.get(account_page))
    assert "Motif de la désactivation" in shown and "Fin de contrat le 30 novembre" in shown
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.deactivate"))
    assert event.details["reason"] == "Fin de contrat le 30 novembre"
    assert "Fin de contrat le 30 novembre" in event.summary


def test_the_last_active_agent_cannot_deactivate_himself_but_can_when_another_exists(client, auth, agent):
    page = _text(client.get(f"/comptes/{agent.id}"))
    assert "Vous êtes le dernier agent du CDG dont le compte est actif" in page
    refused = _deactivate(auth, agent)
    assert refused.status_code == 409
    db.session.refresh(agent)
    assert agent.active

    factories.user("staff", email="collegue@cdg47.fr")
    db.session.commit()
    response = _deactivate(auth, agent)
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 302  # logged out: sent to the login page
    db.session.refresh(agent)
    assert not agent.active


def test_an_invitation_is_sent_again_with_a_new_link_only_to_an_invited_account(client, auth, agent, smtp_sink):
    body = factories.collectivite("Pujols", insee="47215")
    db.session.commit()
    auth.post(
        "/comptes/nouveau",
        {"role": "secretary", "full_name": "Sophie Martin", "email": "sophie@pujols.fr", "collectivites": "47215"},
    )
    user = db.session.scalar(select(User).where(User.email == "sophie@pujols.fr"))
    response = _button(auth, user, "invitation")
    assert response.status_code == 302
    assert len(smtp_sink.messages) == 2
    first, second = (m.get_body(("plain",)).get_content() for m in smtp_sink.messages)
    assert first != second
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.invite_again")) is not None

    active = factories.user("secretary", email="active@pujols.fr", collectivites=[body])
    db.session.commit()
    refused = _button(auth, active, "invitation")
    assert refused.status_code == 409 and "n'est pas en attente d'invitation" in _text(refused)
    assert len(smtp_sink.messages) == 2


def test_a_forged_form_changes_nothing(client, agent):
    body = factories.collectivite()
    secretary = factories.user("secretary", email="sophie@pujols.fr", collectivites=[body])
    db.session.commit()
    response = client.post(f"/comptes/{secretary.id}/desactivation", data={"csrf_token": "forged"})
    assert response.status_code == 400
    db.session.refresh(secretary)
    assert secretary.active


@pytest.mark.parametrize("role", ["secretary", "elu"])
def test_only_staff_reach_the_account_pages(client, auth, role):
    body = factories.collectivite()
    someone = factories.user("secretary", email="other@mairie.fr", collectivites=[body])
    if role == "secretary":
        user = factories.user("secretary", email="secretary@mairie.fr", collectivites=[body])
    else:
        user = factories.elu(body, email="elu@mairie.fr")
    db.session.commit()
    auth.login(user.email)
    for url in ("/comptes/", "/comptes/nouveau", f"/comptes/{someone.id}"):
        assert client.get(url).status_code in (403, 404), url
    page = client.get("/mon-profil")
    token = csrf_from(page.get_data(as_text=True))
    for action in ("desactivation", "reactivation", "invitation", "collectivites"):
        assert client.post(f"/comptes/{someone.id}/{action}", data={"csrf_token": token}).status_code in (403, 404)
    db.session.refresh(someone)
    assert someone.active


def test_service_accounts_are_not_managed_here(client, agent):
    service = factories.user("staff", email="integration@cdg47.fr")
    service.is_service_account = True
    db.session.commit()
    assert "integration@cdg47.fr" not in _text(client.get("/comptes/"))
    assert client.get(f"/comptes/{service.id}").status_code == 404
