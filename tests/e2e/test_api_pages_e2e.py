"""In a real browser: the token page (create, see the secret once, revoke), the API documentation page and the
open data page, all axe-clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests import factories
from tests.e2e.conftest import assert_accessible, field, login

pytestmark = pytest.mark.e2e


def test_token_page_create_see_once_and_revoke(page: Page, live_app):
    with live_app.app_context():
        body = factories.collectivite("Laroque-Timbaut")
        factories.declare(body, factories.THIS_YEAR, 11)
        email = factories.user("secretary", collectivites=[body]).email
        db.session.commit()
    login(page, email)
    page.goto("/mon-profil")
    page.get_by_role("link", name="Mes jetons d'API").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes jetons d'API")
    assert_accessible(page, "/compte/jetons (vide)")

    field(page, "Nom du jeton").fill("Logiciel RH")
    page.get_by_role("button", name="Créer le jeton").click()
    secret = page.get_by_label("Jeton", exact=True)
    expect(secret).to_have_value(re.compile(r"^cdg_"))
    value = secret.input_value()
    assert_accessible(page, "/compte/jetons (jeton créé)")

    response = page.request.get("/api/v1/moi", headers={"Authorization": f"Bearer {value}"})
    assert response.status == 200 and response.json()["jeton"]["nom"] == "Logiciel RH"

    page.goto("/compte/jetons")
    expect(page.get_by_label("Jeton", exact=True)).to_have_count(0)  # shown once
    page.get_by_role("button", name="Révoquer le jeton Logiciel RH").click()
    expect(page.get_by_text("est révoqué")).to_be_visible()
    assert_accessible(page, "/compte/jetons (révoqué)")
    response = page.request.get("/api/v1/moi", headers={"Authorization": f"Bearer {value}"})
    assert response.status == 401


def test_api_docs_and_open_data_pages_are_accessible(page: Page, live_app):
    with live_app.app_context():
        body = factories.collectivite("Sauvagnas")
        factories.declare(body, factories.THIS_YEAR, 4)
        db.session.commit()
    page.goto("/api/v1/docs")
    expect(page.get_by_role("heading", level=1)).to_have_text("Documentation de l'API")
    assert_accessible(page, "/api/v1/docs")
    page.goto("/donnees-ouvertes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Données ouvertes : collectivités affiliées")
    assert_accessible(page, "/donnees-ouvertes/")
    page.get_by_role("link", name="L'API du portail").click()
    expect(page).to_have_url(re.compile(r"/api/v1/docs$"))
