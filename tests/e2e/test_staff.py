"""A CDG agent's pages, reached by logging in through the form, each one checked with axe-core."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.affiliation.models import AffiliationDecision
from portal.extensions import db
from tests import factories
from tests.e2e.conftest import AxeAudit, assert_accessible, field, login

pytestmark = pytest.mark.e2e

YEAR = factories.THIS_YEAR
DELIBERATION = "Délibération n° 2026-045 du conseil d'administration"


@dataclass(frozen=True)
class StaffWorld:
    staff_email: str
    crossing_id: int
    crossing_name: str
    decision_id: int
    large_id: int


def seed_staff_world(app) -> StaffWorld:
    """A commune crossing the threshold (349 then 350: an open decision), a small one, a large one."""
    with app.app_context():
        staff = factories.user("staff")  # before the declarations: the crossing notifies the staff
        crossing = factories.collectivite("Castelmoron-sur-Lot", population=1800)
        small = factories.collectivite("Sainte-Livrade-sur-Lot", population=6300)
        large = factories.collectivite("Villeneuve-sur-Lot", population=22000)
        factories.user("secretary", collectivites=[crossing])
        factories.declare(crossing, YEAR - 1, 349)
        factories.declare(crossing, YEAR, 350)
        factories.declare(small, YEAR, 42, 5, 9)
        factories.declare(large, YEAR, 420, 30, 80)
        decision = db.session.scalar(
            select(AffiliationDecision).where(
                AffiliationDecision.collectivite_id == crossing.id, AffiliationDecision.state == "open"
            )
        )
        assert decision is not None, "a crossing from 349 to 350 must open a decision"
        world = StaffWorld(staff.email, crossing.id, crossing.name, decision.id, large.id)
        db.session.commit()
    return world


def result_names(page: Page) -> list[str]:
    return page.locator("table.table tbody th[scope=row]").all_inner_texts()


def test_staff_pages_are_accessible(page: Page, live_app, axe_audit: AxeAudit):
    world = seed_staff_world(live_app)
    login(page, world.staff_email)
    expect(page).to_have_url(re.compile(r"/tableau-de-bord$"))
    expect(page.get_by_role("status")).to_contain_text("Bienvenue")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()

    pages = [
        ("/tableau-de-bord", "Tableau de bord du CDG"),
        ("/collectivites", "Collectivités et établissements"),
        (f"/collectivites/{world.crossing_id}", world.crossing_name),
        ("/affiliation/decisions", "Décisions d'affiliation à prendre"),
        (f"/affiliation/decisions/{world.decision_id}", world.crossing_name),
        (f"/affiliation/collectivites/{world.crossing_id}/volontaire", world.crossing_name),
        ("/journal", "Journal des connexions et des modifications"),
        ("/envois", "Envois de courriels"),
        ("/notifications", "Notifications"),
        ("/notifications/preferences", "Notifications par courriel"),
        ("/mon-profil", "Mon profil"),
    ]
    for path, heading in pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path} : {response and response.status}"
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        axe_audit.check(page, path)

    # The pages show the seeded data, not empty states.
    page.goto("/affiliation/decisions")
    expect(page.get_by_role("link", name=world.crossing_name)).to_be_visible()
    expect(page.get_by_text("effectif 350, contre 349 l'année précédente")).to_be_visible()
    page.goto("/notifications")
    expect(page.get_by_role("heading", name=re.compile("Franchissement du seuil"))).to_be_visible()
    page.goto("/journal")
    expect(page.locator("tbody tr").first).to_be_visible()
    axe_audit.assert_clean()


def test_staff_searches_and_filters_the_collectivites(page: Page, live_app):
    world = seed_staff_world(live_app)
    login(page, world.staff_email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Collectivités").click()
    expect(page).to_have_url(re.compile(r"/collectivites$"))
    status = page.locator("main p[role=status]")
    expect(status).to_contain_text("3 résultats")
    assert sorted(result_names(page)) == ["Castelmoron-sur-Lot", "Sainte-Livrade-sur-Lot", "Villeneuve-sur-Lot"]

    field(page, "Nom, code INSEE, SIREN ou code postal").fill("livrade")
    page.get_by_role("button", name="Filtrer").click()
    expect(status).to_contain_text("1 résultat")
    assert result_names(page) == ["Sainte-Livrade-sur-Lot"]
    assert_accessible(page, "recherche « livrade »")

    field(page, "Nom, code INSEE, SIREN ou code postal").fill("")
    field(page, "Statut d'affiliation").select_option(label="Non affiliée")
    page.get_by_role("button", name="Filtrer").click()
    expect(page).to_have_url(re.compile(r"status=non_affiliee"))
    expect(status).to_contain_text("1 résultat")
    assert result_names(page) == ["Villeneuve-sur-Lot"]

    field(page, "Statut d'affiliation").select_option(label="Affiliation obligatoire")
    page.get_by_role("button", name="Filtrer").click()
    expect(status).to_contain_text("2 résultats")
    assert sorted(result_names(page)) == ["Castelmoron-sur-Lot", "Sainte-Livrade-sur-Lot"]
    assert_accessible(page, "filtre « Affiliation obligatoire »")

    field(page, "Nom, code INSEE, SIREN ou code postal").fill("introuvable")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_text("Aucune collectivité ne correspond à ces critères.")).to_be_visible()
    assert_accessible(page, "aucun résultat")


def test_decision_form_errors_are_accessible_then_the_decision_is_recorded(page: Page, live_app):
    world = seed_staff_world(live_app)
    login(page, world.staff_email)
    page.goto(f"/affiliation/decisions/{world.decision_id}")
    reference = field(page, "Référence de la délibération ou de l'arrêté")
    expect(reference).to_have_value("")
    page.get_by_role("button", name="Enregistrer la décision").click()

    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()  # portal.js brings keyboard and screen-reader users to it
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire contient 1 erreur")
    expect(summary.get_by_role("link")).to_have_attribute("href", "#deliberation_ref")
    error = page.locator("#deliberation_ref-error")
    expect(error).to_contain_text("Indiquez la référence de la délibération.")
    described_by = reference.get_attribute("aria-describedby") or ""
    assert "deliberation_ref-error" in described_by.split(), described_by
    expect(reference).to_have_attribute("aria-invalid", "true")
    expect(reference).to_have_accessible_description(re.compile("Indiquez la référence de la délibération"))
    assert_accessible(page, "décision refusée (référence manquante)")

    summary.get_by_role("link").click()
    expect(reference).to_be_focused()
    reference.fill(DELIBERATION)
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page).to_have_url(re.compile(rf"/collectivites/{world.crossing_id}#historique$"))
    expect(page.get_by_role("status")).to_contain_text("La décision est enregistrée")
    history = page.get_by_role("table", name=re.compile("Historique du statut d'affiliation"))
    expect(history.get_by_role("cell", name=DELIBERATION, exact=True)).to_be_visible()
    assert_accessible(page, "collectivité après décision")
