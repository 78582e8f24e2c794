"""Subscriptions end to end, in the browser: a secretary asks for the ENT of two schools (a wrong UAI check
letter first), the CDG validates and the documents come out; the staff's catalogue, rates and statement pages.
Every page is checked with axe-core, error states included."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from portal.catalogue.models import Service
from portal.common.formatting import date_range_fr
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.statements import services as statements
from portal.subscriptions import services as subscriptions
from portal.subscriptions.forms import first_day_of_next_month
from portal.subscriptions.models import School, Subscription
from tests import factories
from tests.e2e.conftest import AxeAudit, assert_accessible, field, login

pytestmark = pytest.mark.e2e

YEAR = factories.THIS_YEAR
ENT = "ENT des écoles (convention avec la DASEN)"
START = first_day_of_next_month()
VALIDATION_DATE = "Date (début pour une validation, fin pour une résiliation)"
SCHOOLS = (
    subscriptions.SchoolInput("0470001W", "École Jean Jaurès", 4, 92, "Mme Martin"),
    subscriptions.SchoolInput("0470002X", "École du Bourg", 2, 41, "M. Durand"),
)


@dataclass(frozen=True)
class World:
    staff_email: str
    secretary_email: str
    commune_id: int
    commune_name: str
    ent_service_id: int
    subscription_id: int | None = None


def seed_world(app, *, with_request: bool = False, validated: bool = False) -> World:
    """The demo catalogue, a commune (declared, payroll known) and its secretary, a CDG agent; optionally the
    commune's ENT request for the two schools, seeded through the services (validated if asked)."""
    with app.app_context():
        load_catalogue(YEAR)
        staff = factories.user("staff")
        commune = factories.collectivite("Laroque-Timbaut", population=1600)
        factories.declare(commune, YEAR, 11, 4, 3)
        secretary = factories.user("secretary", collectivites=[commune])
        statements.set_payroll(commune, YEAR, Decimal("412500.00"), staff)
        ent = db.session.scalar(select(Service).where(Service.code == "ent-ecoles"))
        subscription_id = None
        if with_request:
            subscription = subscriptions.request_subscription(
                commune,
                ent,
                subscriptions.RequestInput(
                    start_date=START,
                    message="Pour la rentrée",
                    schools=[subscriptions.SchoolInput(**vars(s)) for s in SCHOOLS],
                ),
                secretary,
            )
            if validated:
                subscriptions.transition(subscription, "validate", staff, start_date=START)
            subscription_id = subscription.id
        world = World(staff.email, secretary.email, commune.id, commune.name, ent.id, subscription_id)
        db.session.commit()  # eager Celery: a validation's documents are produced here
    return world


def count_rows(app, model) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(model))
        finally:
            db.session.remove()


def assert_unique_ids(page: Page, where: str) -> None:
    """No id twice in the page: a label's ``for`` names the first element with its id, so a control rendered
    twice leaves its second copy without a label (axe-core 4.12 no longer checks duplicate ids)."""
    duplicates = page.evaluate(
        """() => {
            const seen = new Map();
            for (const element of document.querySelectorAll('[id]')) {
                seen.set(element.id, (seen.get(element.id) || 0) + 1);
            }
            return [...seen].filter(([, count]) => count > 1).map(([id, count]) => `${id} (${count} fois)`);
        }"""
    )
    assert not duplicates, f"{where} : identifiants en double, champs rendus deux fois : {', '.join(duplicates)}"


def school_row(page: Page, number: int) -> Locator:
    return page.get_by_role("group", name=f"École n° {number}", exact=True)


def fill_school(page: Page, number: int, school: subscriptions.SchoolInput) -> None:
    row = school_row(page, number)
    field(row, "Code UAI").fill(school.uai)
    field(row, "Nom de l'école").fill(school.name)
    field(row, "Nombre de classes").fill(str(school.classes))
    field(row, "Nombre d'élèves").fill(str(school.pupils))
    field(row, "Directrice ou directeur").fill(school.director or "")


def test_secretary_requests_the_ent_for_two_schools(page: Page, live_app):
    world = seed_world(live_app)
    login(page, world.secretary_email)
    expect(page).to_have_url(re.compile(r"/tableau-de-bord$"))
    page.get_by_role("link", name=re.compile(r"^Services et demandes")).click()
    expect(page).to_have_url(re.compile(rf"/collectivites/{world.commune_id}/services$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Services du CDG pour {world.commune_name}")
    for group in ("Missions obligatoires", "Socle commun de compétences", "Missions facultatives"):
        expect(page.get_by_role("heading", level=2, name=re.compile(re.escape(group)))).to_be_visible()
    ent_row = page.get_by_role("row", name=re.compile(re.escape(ENT)))
    expect(ent_row).to_contain_text("Éligible")
    expect(ent_row.get_by_role("link", name=re.compile(r"^Demander"))).to_be_visible()
    assert_accessible(page, "catalogue de la secrétaire")

    ent_row.get_by_role("link", name=re.compile(r"^Demander")).click()
    expect(page).to_have_url(re.compile(rf"/collectivites/{world.commune_id}/services/ent-ecoles/demande$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Demande d'adhésion : {ENT}")
    rows = page.get_by_role("group", name=re.compile(r"^École n° \d+$"))
    expect(rows).to_have_count(1)
    assert_unique_ids(page, "formulaire de demande de l'ENT")
    field(page, "Date de début souhaitée").fill(START.isoformat())
    fill_school(page, 1, SCHOOLS[0])
    # Any number of schools: a row added, then one more removed again, what was typed kept each time.
    page.get_by_role("button", name="Ajouter une école").click()
    expect(rows).to_have_count(2)
    expect(field(school_row(page, 1), "Nom de l'école")).to_have_value(SCHOOLS[0].name)
    expect(field(page, "Date de début souhaitée")).to_have_value(START.isoformat())
    fill_school(page, 2, subscriptions.SchoolInput(**{**vars(SCHOOLS[1]), "uai": "0470002A"}))
    page.get_by_role("button", name="Ajouter une école").click()
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="Retirer l'école n° 3").click()
    expect(rows).to_have_count(2)
    expect(field(school_row(page, 2), "Code UAI")).to_have_value("0470002A")
    field(page, "Précisions pour le centre de gestion").fill("Pour la rentrée")

    # A wrong check letter: refused in French, the form kept as typed, nothing saved.
    page.get_by_role("button", name="Envoyer la demande").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Le formulaire contient 1 erreur")
    expect(summary).to_contain_text(
        "École n° 2 — Code UAI : La lettre de contrôle du code UAI 0470002A est incorrecte (attendue : X)."
    )
    expect(school_row(page, 2).locator(".error-message")).to_contain_text("lettre de contrôle du code UAI 0470002A")
    expect(field(school_row(page, 2), "Code UAI")).to_have_value("0470002A")
    expect(field(school_row(page, 1), "Nom de l'école")).to_have_value(SCHOOLS[0].name)
    assert count_rows(live_app, Subscription) == 0
    assert count_rows(live_app, School) == 0
    assert_unique_ids(page, "formulaire de demande refusé")
    assert_accessible(page, "demande refusée (lettre de contrôle UAI)")

    # Corrected: the request is sent, and its page says so.
    field(school_row(page, 2), "Code UAI").fill(SCHOOLS[1].uai)
    page.get_by_role("button", name="Envoyer la demande").click()
    expect(page).to_have_url(re.compile(r"/abonnements/\d+$"))
    expect(page.get_by_role("status")).to_contain_text("Votre demande est envoyée au centre de gestion.")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{ENT} — {world.commune_name}")
    state = page.locator("dl.summary-list dt", has_text="État").locator("xpath=following-sibling::dd")
    expect(state).to_have_text("Demandée")
    schools = page.get_by_role("table", name="Écoles couvertes par l'ENT").locator("tbody tr")
    expect(schools).to_have_count(2)
    expect(schools.locator("td:first-child")).to_have_text(["0470001W", "0470002X"])
    expect(page.get_by_text("la convention est produite à la validation de la demande")).to_be_visible()
    assert count_rows(live_app, Subscription) == 1
    assert count_rows(live_app, School) == 2
    assert_accessible(page, "demande envoyée")


def test_staff_validates_the_request_and_downloads_the_convention(page: Page, live_app, tmp_path: Path):
    world = seed_world(live_app, with_request=True)
    sid = world.subscription_id
    login(page, world.staff_email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Demandes et abonnements"
    ).click()
    expect(page).to_have_url(re.compile(r"/abonnements$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Demandes et abonnements")
    expect(page.get_by_role("link", name="À traiter")).to_have_attribute("aria-current", "page")
    request_link = page.get_by_role("link", name=f"{world.commune_name} — {ENT}")
    expect(request_link).to_be_visible()
    assert_accessible(page, "file des demandes")

    request_link.click()
    expect(page).to_have_url(re.compile(rf"/abonnements/{sid}$"))
    state = page.locator("dl.summary-list dt", has_text="État").locator("xpath=following-sibling::dd")
    expect(state).to_have_text("Demandée")
    assert_accessible(page, "demande à valider")
    field(page, VALIDATION_DATE).fill(START.isoformat())
    page.get_by_role("button", name="Valider", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/abonnements/{sid}$"))
    expect(page.get_by_role("status")).to_contain_text("Action enregistrée : Valider.")
    expect(state).to_have_text("Validée")
    documents = page.get_by_role("heading", level=2, name="Documents").locator("xpath=following-sibling::ul[1]")
    expect(documents.get_by_role("link")).to_have_text(
        [f"convention-adhesion-{sid}.pdf", f"annexe-ecoles-ent-{sid}.pdf", f"ent-ecoles-{sid}.csv"]
    )
    with page.expect_download() as download_info:
        documents.get_by_role("link", name=f"convention-adhesion-{sid}.pdf").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename == f"convention-adhesion-{sid}.pdf"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    assert target.read_bytes().startswith(b"%PDF"), target.read_bytes()[:40]
    with live_app.app_context():
        subscription = db.session.get(Subscription, sid)
        assert (subscription.state, subscription.start_date, subscription.documents_state) == (
            "validee",
            START,
            "done",
        )
        db.session.remove()
    assert_accessible(page, "demande validée, documents")


def test_staff_catalogue_rates_and_statement_pages_are_accessible(page: Page, live_app, axe_audit: AxeAudit):
    world = seed_world(live_app, with_request=True, validated=True)
    login(page, world.staff_email)
    pages = [
        ("/catalogue/", "Catalogue des services", ENT),
        (f"/catalogue/{world.ent_service_id}", ENT, "Par élève et par an"),
        ("/cotisations", "Taux de cotisation et relevés annuels", f"Relevés {YEAR} (CSV)"),
        (
            f"/collectivites/{world.commune_id}/releve/{YEAR}",
            f"Relevé {YEAR} : {world.commune_name}",
            "Cotisation obligatoire",
        ),
    ]
    for path, heading, text in pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path} : {response and response.status}"
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.locator("main")).to_contain_text(text)
        axe_audit.check(page, path)

    # The statement shows the cotisation on the declared payroll and the ENT from its start date.
    page.goto(f"/collectivites/{world.commune_id}/releve/{YEAR}")
    sums = page.get_by_role("table", name=f"Sommes dues pour {YEAR}")
    expect(sums.get_by_role("row", name=re.compile(r"^Cotisation obligatoire"))).to_contain_text("412 500,00")
    if START.year == YEAR:  # in December the ENT starts next year: nothing due for it this year
        expect(sums.get_by_role("row", name=re.compile(re.escape(ENT)))).to_contain_text(
            f"Par élève et par an, {date_range_fr(START, date(YEAR, 12, 31))}"
        )
    axe_audit.assert_clean()
