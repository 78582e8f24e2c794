"""Partner conventions in the browser: a CDG agent creates a convention with two parties and an axis (a
refusal first: one party only), finds it in the list and on its page; then corrects one: a party removed after
its confirmation page, an axis renamed, a wrong document withdrawn with its reason. Every page is checked with
axe-core."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect

from portal.conventions import services
from portal.extensions import db
from tests import factories
from tests.e2e.conftest import AxeAudit, field, login

pytestmark = pytest.mark.e2e


def seed(app) -> str:
    with app.app_context():
        staff = factories.user("staff")
        for name, kind in (("CNFPT", "cnfpt"), ("Fédération nationale des centres de gestion (FNCDG)", "fncdg")):
            services.create_partner(services.PartnerInput(name, kind), staff)
        email = staff.email
        db.session.commit()
    return email


def test_staff_creates_a_convention_with_two_parties_and_an_axis(live_app, page: Page, axe_audit: AxeAudit):
    login(page, seed(live_app))
    page.goto("/conventions/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Conventions de partenariat")
    axe_audit.check(page, "liste vide")
    page.get_by_role("link", name="Nouvelle convention").click()
    axe_audit.check(page, "formulaire")

    field(page, "Intitulé de la convention").fill("Accord-cadre CNFPT – FNCDG (déclinaison régionale)")
    field(page, "Type de convention").select_option(label="Accord-cadre")
    field(page, "Date de signature").fill("2019-11-20")
    field(page, "Date d'entrée en vigueur").fill("2019-11-20")
    field(page, "Date de fin").fill("2022-12-31")
    page.get_by_role("group", name="Partie n° 1").get_by_label("Partenaire").select_option(label="CNFPT")
    page.get_by_role("group", name="Axe n° 1").get_by_label("Intitulé de l'axe").fill("Axe 1")
    page.get_by_role("button", name="Enregistrer la convention").click()

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("au moins deux parties")
    axe_audit.check(page, "formulaire en erreur")

    page.get_by_role("group", name="Partie n° 2").get_by_label("Partenaire").select_option(
        label="Fédération nationale des centres de gestion (FNCDG)"
    )
    page.get_by_role("button", name="Enregistrer la convention").click()
    expect(page).to_have_url(re.compile(r"/conventions/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("La convention est enregistrée.")
    expect(page.get_by_role("heading", level=3, name="Axe 1 : Axe 1")).to_be_visible()
    expect(page.get_by_role("rowheader", name="CNFPT", exact=True)).to_be_visible()
    expect(page.get_by_text("Expirée")).to_be_visible()
    axe_audit.check(page, "page de la convention")

    page.get_by_role("link", name="Conventions de partenariat").first.click()
    expect(page.get_by_role("link", name="Accord-cadre CNFPT – FNCDG (déclinaison régionale)")).to_be_visible()
    axe_audit.check(page, "liste")
    page.get_by_role("link", name="Voir la chronologie").click()
    expect(page.get_by_role("heading", level=2, name="2019")).to_be_visible()
    axe_audit.check(page, "chronologie")
    axe_audit.assert_clean()


def seed_convention(app) -> tuple[str, int]:
    with app.app_context():
        staff = factories.user("staff")
        partners = [
            services.create_partner(services.PartnerInput(name, kind), staff)
            for name, kind in (("CNFPT", "cnfpt"), ("Préfon", "prefon"), ("AATF", "aatf"))
        ]
        convention = services.create_convention(
            services.ConventionInput(
                title="Partenariat Préfon – AATF",
                kind="partenariat",
                parties=[services.PartyInput(p.id) for p in partners],
                signatories=[services.SignatoryInput("Mme Martin", "Directrice", partners[0].id)],
                axes=[services.AxisInput("Axe à renommer")],
            ),
            staff,
        )
        services.add_document(convention, "brouillon.pdf", io.BytesIO(b"%PDF-1.7 brouillon"), staff)
        email, convention_id = staff.email, convention.id
        db.session.commit()
    return email, convention_id


def test_staff_correct_parties_an_axis_and_withdraw_a_document(
    live_app, page: Page, axe_audit: AxeAudit, tmp_path, monkeypatch
):
    monkeypatch.setattr(live_app, "instance_path", str(tmp_path))
    email, convention_id = seed_convention(live_app)
    login(page, email)
    page.goto(f"/conventions/{convention_id}")

    page.get_by_role("link", name="Modifier les parties et les signataires").click()
    axe_audit.check(page, "parties et signataires")
    page.get_by_role("group", name="Partie n° 1").get_by_label("Partenaire").select_option(label="—")
    page.get_by_role("button", name="Enregistrer les parties et les signataires").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Retirer des parties de la convention")
    expect(
        page.get_by_text("Leurs signataires sont retirés avec elles : Mme Martin (Directrice) – CNFPT.")
    ).to_be_visible()
    axe_audit.check(page, "confirmation du retrait d'une partie")
    page.get_by_role("button", name="Confirmer le retrait").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez le motif du retrait.")
    field(page, "Motif du retrait").fill("Le CNFPT se retire de la convention")
    page.get_by_role("button", name="Confirmer le retrait").click()
    expect(page.get_by_role("status")).to_contain_text("Les parties et les signataires sont enregistrés.")
    expect(page.get_by_role("rowheader", name="CNFPT", exact=True)).to_have_count(0)
    history = page.get_by_role("table", name=re.compile("Historique de la convention"))
    expect(history).to_contain_text("motif : Le CNFPT se retire de la convention")

    page.get_by_role("link", name="Modifier ou supprimer l'axe 1").click()
    axe_audit.check(page, "axe")
    field(page, "Intitulé de l'axe").fill("Retraite des agents territoriaux")
    page.get_by_role("button", name="Enregistrer l'axe").click()
    expect(page.get_by_role("heading", level=3, name="Axe 1 : Retraite des agents territoriaux")).to_be_visible()

    page.get_by_role("button", name="Retirer : brouillon.pdf").click()
    axe_audit.check(page, "confirmation du retrait d'un document")
    page.get_by_role("button", name="Confirmer le retrait").click()
    expect(page.get_by_role("alert")).to_contain_text("Indiquez le motif du retrait.")
    field(page, "Motif du retrait").fill("Version non signée")
    page.get_by_role("button", name="Confirmer le retrait").click()
    expect(page.get_by_role("status")).to_contain_text("est retiré")
    withdrawn = page.get_by_role("table", name=re.compile("Documents retirés"))
    expect(withdrawn).to_contain_text("brouillon.pdf")
    expect(withdrawn).to_contain_text("Version non signée")
    axe_audit.check(page, "page de la convention corrigée")
    axe_audit.assert_clean()
