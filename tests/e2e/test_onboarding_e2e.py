"""Bringing people in, in a real browser: a CDG agent creates a secretary's account and she activates it from the
invitation that reached the SMTP sink; a secretary without an account asks for access and the agent accepts it.
Every page on the way is checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from portal.extensions import db
from tests import factories
from tests.e2e.conftest import AxeAudit, field, login

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "le moulin de Pujols tourne encore"


def _seed(app) -> str:
    with app.app_context():
        staff = factories.user("staff", email="agent@cdg47.fr")
        factories.collectivite("Pujols", insee="47215")
        factories.collectivite("Laroque-Timbaut", insee="47137")
        db.session.commit()
        return staff.email


def _link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https?://\S+({re.escape(path)}\S+)", text).group(1)


def _activate(browser: Browser, live_server: str, invitation_path: str, email: str, axe_audit: AxeAudit) -> None:
    """The invited person, in her own browser: follows her link, chooses her password, then logs in."""
    context = browser.new_context(base_url=live_server, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        own = context.new_page()
        own.goto(invitation_path)
        axe_audit.check(own, "invitation")
        field(own, "Mot de passe").fill(NEW_PASSWORD)
        field(own, "Confirmation du mot de passe").fill(NEW_PASSWORD)
        own.get_by_label("J'ai lu et j'accepte les conditions d'utilisation du portail.").check()
        own.get_by_role("button", name="Activer mon compte").click()
        expect(own.get_by_text("Votre compte est activé.")).to_be_visible()
        login(own, email, NEW_PASSWORD)
        expect(own.get_by_role("heading", level=1)).to_be_visible()
    finally:
        context.close()


def test_an_agent_creates_a_secretary_who_activates_her_account(
    page: Page, browser: Browser, live_app, live_server, smtp_sink, axe_audit: AxeAudit
):
    login(page, _seed(live_app))
    page.get_by_role("link", name="Comptes", exact=True).click()
    expect(page.get_by_role("heading", name="Comptes des utilisateurs")).to_be_visible()
    axe_audit.check(page, "liste des comptes")
    page.get_by_role("link", name="Créer un compte").click()
    axe_audit.check(page, "création d'un compte")

    page.get_by_role("radio", name="Secrétaire général de mairie").check()
    field(page, "Prénom et nom").fill("Sophie Martin")
    field(page, "Adresse électronique").fill("sophie@mairie-pujols.fr")
    field(page, "Collectivités (pour un secrétaire général de mairie)").fill("47215, 47999")
    page.get_by_role("button", name="Créer le compte et envoyer l'invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Aucune collectivité ne porte ce code : 47999.")
    axe_audit.check(page, "création refusée")
    expect(field(page, "Prénom et nom")).to_have_value("Sophie Martin")  # nothing typed is lost
    field(page, "Collectivités (pour un secrétaire général de mairie)").fill("47215, 47137")
    page.get_by_role("button", name="Créer le compte et envoyer l'invitation").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Invitation envoyée à sophie@mairie-pujols.fr : le lien est valable 7 jours."
    )
    expect(page.get_by_text("Invitation en attente").first).to_be_visible()
    axe_audit.check(page, "fiche du compte")
    [invitation] = smtp_sink.messages
    _activate(browser, live_server, _link_in(invitation, "/invitation/"), "sophie@mairie-pujols.fr", axe_audit)

    page.reload()
    expect(page.get_by_text("Actif", exact=True)).to_be_visible()
    axe_audit.assert_clean()


def test_a_secretary_asks_for_access_and_the_agent_accepts(
    page: Page, browser: Browser, live_app, live_server, smtp_sink, axe_audit: AxeAudit
):
    staff_email = _seed(live_app)
    page.goto("/connexion")
    page.get_by_role("link", name="Demander un accès").click()
    axe_audit.check(page, "demande d'accès")
    field(page, "Prénom et nom").fill("Alain Dupuy")
    field(page, "Adresse électronique professionnelle").fill("alain@laroque-timbaut.fr")
    field(page, "Fonction").fill("Secrétaire générale de mairie")
    field(page, "Collectivités pour lesquelles vous travaillez").fill("Mairie de Laroque-Timbaut")
    page.get_by_role("button", name="Envoyer ma demande").click()
    expect(page.get_by_role("heading", name="Demande envoyée")).to_be_visible()
    axe_audit.check(page, "demande envoyée")
    assert "Nous avons bien reçu votre demande" in smtp_sink.messages[-1].get_body(("plain",)).get_content()

    login(page, staff_email)
    page.get_by_role("link", name="Voir les demandes d'accès").click()
    axe_audit.check(page, "demandes d'accès")
    page.get_by_role("link", name="Alain Dupuy").click()
    axe_audit.check(page, "demande d'accès (fiche)")
    expect(field(page, "Collectivités de la secrétaire")).to_have_value("47137")
    page.get_by_role("button", name="Accepter et envoyer l'invitation").click()
    expect(page.get_by_text("Demande acceptée : invitation envoyée à alain@laroque-timbaut.fr.")).to_be_visible()

    invitation = smtp_sink.messages[-1]
    assert invitation["To"].addresses[0].addr_spec == "alain@laroque-timbaut.fr"
    _activate(browser, live_server, _link_in(invitation, "/invitation/"), "alain@laroque-timbaut.fr", axe_audit)
    axe_audit.assert_clean()
