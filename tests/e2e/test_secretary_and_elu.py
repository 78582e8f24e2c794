"""A secretary declaring headcounts, an elected official's profile, and logging out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal.extensions import db
from tests import factories
from tests.e2e.conftest import assert_accessible, field, login

pytestmark = pytest.mark.e2e

YEAR = factories.THIS_YEAR
FULL_TIME = "Fonctionnaires titulaires et stagiaires à temps complet"
PART_TIME = "Fonctionnaires titulaires et stagiaires à temps non complet"


def seed_secretary(app) -> str:
    """A secretary of two communes (one declared last year), and a commune that is not hers."""
    with app.app_context():
        laroque = factories.collectivite("Laroque-Timbaut", population=1600)
        sauvagnas = factories.collectivite("Sauvagnas", population=600)
        factories.collectivite("Marmande", population=17000)
        factories.declare(laroque, YEAR - 1, 11, 4, 3)
        secretary = factories.user("secretary", collectivites=[laroque, sauvagnas])
        email = secretary.email
        db.session.commit()
    return email


def test_secretary_declares_headcounts(page: Page, live_app):
    email = seed_secretary(live_app)
    login(page, email)
    expect(page).to_have_url(re.compile(r"/tableau-de-bord$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes collectivités")
    expect(page.get_by_text("Vous gérez 2 collectivités.")).to_be_visible()
    rows = page.locator("table.table tbody tr")
    expect(rows).to_have_count(2)
    names = [n.split("\n")[0] for n in page.locator("tbody th[scope=row] a").all_inner_texts()]
    assert sorted(names) == ["Laroque-Timbaut", "Sauvagnas"]
    assert_accessible(page, "tableau de bord de la secrétaire")

    page.get_by_role("link", name="Sauvagnas", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sauvagnas")
    expect(page.get_by_text("Aucune déclaration.")).to_be_visible()
    assert_accessible(page, "page de Sauvagnas")

    # A negative number: refused, in French, with the error tied to its field.
    expect(field(page, "Année")).to_have_value(str(YEAR))
    field(page, FULL_TIME).fill("-3")
    field(page, PART_TIME).fill("2")
    field(page, "Agents contractuels").fill("4")
    page.get_by_role("button", name="Enregistrer la déclaration").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Indiquez un nombre entier entre 0 et 100 000.")
    full_time = field(page, FULL_TIME)
    expect(full_time).to_have_attribute("aria-invalid", "true")
    expect(full_time).to_have_accessible_description(re.compile("Indiquez un nombre entier entre 0 et 100 000"))
    expect(page.get_by_text("Aucune déclaration.")).to_be_visible()
    assert_accessible(page, "déclaration refusée (nombre négatif)")

    # A valid declaration: confirmed, and listed.
    full_time.fill("7")
    page.get_by_role("button", name="Enregistrer la déclaration").click()
    expect(page).to_have_url(re.compile(r"#effectifs$"))
    confirmation = f"La déclaration d'effectifs {YEAR} de Sauvagnas est enregistrée."
    expect(page.get_by_role("status")).to_contain_text(confirmation)
    expect(page.locator(".error-summary")).to_have_count(0)
    row = page.get_by_role("table", name=re.compile("Déclarations d'effectifs de Sauvagnas")).locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("th")).to_have_text(str(YEAR))
    expect(row.locator("td")).to_have_text(["7", "2", "4", re.compile(r"\d"), re.compile("Utilisateur")])
    assert_accessible(page, "déclaration enregistrée")

    page.goto("/tableau-de-bord")
    # Cells after the row header: status in force, counted headcount, this year's declaration, services.
    declaration_cell = page.get_by_role("row", name=re.compile("^Sauvagnas")).get_by_role("cell").nth(2)
    expect(declaration_cell).to_have_text("Faite")


def test_elected_official_lands_on_the_trainings_and_sees_his_mandate(page: Page, live_app):
    with live_app.app_context():
        commune = factories.collectivite("Sauvagnas", population=600)
        elu = factories.user("elu", collectivites=[commune], function="maire")
        email = elu.email
        db.session.commit()
    login(page, email)
    expect(page).to_have_url(re.compile(r"/tableau-de-bord$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Bonjour, "))
    expect(page.get_by_role("heading", name="Mes droits")).to_be_visible()
    assert_accessible(page, "tableau de bord de l'élu")
    # An elected official reaches neither the registry nor the staff pages.
    expect(page.get_by_role("navigation", name="Navigation principale").get_by_role("link")).to_have_text(
        ["Tableau de bord", "Formations des élus", "Mes formations", "Mon profil"]
    )
    page.get_by_role("link", name="Mon profil").first.click()
    expect(page.get_by_role("heading", name="Mandat")).to_be_visible()
    mandate = page.locator("dl.summary-list").nth(1)
    expect(mandate).to_contain_text("Sauvagnas")
    expect(mandate).to_contain_text("Maire")
    assert_accessible(page, "profil de l'élu")


def test_logout_ends_the_session(page: Page, live_app):
    email = seed_secretary(live_app)
    login(page, email)
    expect(page).to_have_url(re.compile(r"/tableau-de-bord$"))
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(re.compile(r"/connexion$"))
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté.")

    # The back button does not show the dashboard again (no-store), and neither does a direct visit.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/connexion\?next=%2Ftableau-de-bord$"))
    page.goto("/tableau-de-bord")
    expect(page).to_have_url(re.compile(r"/connexion\?next=%2Ftableau-de-bord$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion au portail")
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
