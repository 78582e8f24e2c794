"""Training of élus in the browser: an élu registers and cancels, a secretary puts an élu of her commune on the
waiting list of a full session, and the staff's training pages. Every page visited is checked with axe-core."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.extensions import db
from portal.training import registrations, rights
from portal.training.calendar import PARIS
from portal.training.models import Registration
from portal.training.sessions import BodyInput, SessionInput, TrainingInput, create_session, save_body, save_training
from tests import factories
from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import AxeAudit, assert_accessible, field, login

pytestmark = pytest.mark.e2e

TITLE = "Élu Numérique Rural"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CHEAP: dict[str, str] = {}


@pytest.fixture(autouse=True)
def cheap_hash(monkeypatch):
    """The accounts of these tests share one cheap Argon2 hash of their password (production cost: ~0.2 s to
    hash, as long to verify at each login); the live server runs in this process, so it sees the patch."""

    def cheap(password: str) -> str:
        if password not in _CHEAP:
            _CHEAP[password] = _HASHER.hash(password)
        return _CHEAP[password]

    monkeypatch.setattr(accounts, "hash_password", cheap)


@dataclass(frozen=True)
class World:
    staff_email: str
    secretary_email: str
    elu_email: str
    elu_name: str
    commune_id: int
    session_id: int
    full_id: int
    started_id: int


def _elu(commune, name: str, email: str):
    return accounts.create_user(
        email=email,
        role="elu",
        password=TEST_PASSWORD,
        full_name=name,
        collectivites=[commune],
        mandate=accounts.MandateInput(has_delegation=True, start_date=date.today() - timedelta(days=100)),
    )


def _session(training_id: int, starts: datetime, capacity: int):
    return create_session(
        SessionInput(
            training_id=training_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=7),
            registration_deadline=starts - timedelta(days=2),
            capacity=capacity,
            place="Maison des communes, Agen",
            published=True,
        ),
        None,
        now=starts - timedelta(days=60),
    )


def seed(app) -> World:
    """Sauvagnas (its secretary, two élus) and Pujols (two élus); a session 30 days ahead with free seats, a full
    one (2 seats, taken by Pujols), one that began an hour ago with two participants; a budget for Sauvagnas."""
    with app.app_context():
        staff = factories.user("staff")
        sauvagnas = factories.collectivite("Sauvagnas", population=600)
        pujols = factories.collectivite("Pujols", population=3700)
        secretary = factories.user("secretary", collectivites=[sauvagnas])
        elu = _elu(sauvagnas, "Jeanne Sauvagnas", "jeanne@sauvagnas.fr")
        _elu(sauvagnas, "Paul Laffitte", "paul@sauvagnas.fr")
        pujols_elus = [_elu(pujols, f"Élu de Pujols {n}", f"elu{n}@pujols.fr") for n in range(2)]
        body = save_body(
            BodyInput("Institut de formation des élus", "AGR-2024-17", date(2020, 1, 1), date(2099, 12, 31)),
            None,
        )
        course = save_training(
            TrainingInput(TITLE, body.id, Decimal(7), Decimal("150.00"), "Maîtriser les outils numériques."),
            None,
        )
        session = _session(course.id, NOW + timedelta(days=30), 10)
        full = _session(course.id, NOW + timedelta(days=31), 2)
        started = _session(course.id, NOW - timedelta(hours=1), 10)
        for e in pujols_elus:
            registrations.register(full, e.mandate, e, now=NOW)
            registrations.register(started, e.mandate, e, now=NOW - timedelta(days=10))
        rights.save_budget(
            sauvagnas, NOW.astimezone(PARIS).year, Decimal("1500.00"), Decimal("20000.00"), "DEL-2026-12", staff
        )
        world = World(
            staff.email,
            secretary.email,
            elu.email,
            elu.full_name,
            sauvagnas.id,
            session.id,
            full.id,
            started.id,
        )
        db.session.commit()
    return world


def live_registrations(app, session_id: int) -> int:
    with app.app_context():
        try:
            return db.session.scalar(
                select(func.count())
                .select_from(Registration)
                .where(Registration.session_id == session_id, Registration.status != "cancelled")
            )
        finally:
            db.session.remove()


def registrations_table(page: Page):
    return page.get_by_role("table", name="Inscriptions à cette session")


def test_elu_registers_and_cancels(page: Page, live_app, axe_audit: AxeAudit):
    world = seed(live_app)
    login(page, world.elu_email)
    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Formations des élus").click()
    expect(page).to_have_url(re.compile(r"/formations/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Formations des élus")
    expect(page.get_by_role("link", name="À venir")).to_have_attribute("aria-current", "page")
    expect(page.locator("table.table tbody tr")).to_have_count(2)  # the started session is under "Passées"
    axe_audit.check(page, "liste des sessions")

    page.locator(f'a[href="/formations/sessions/{world.session_id}"]').click()
    expect(page).to_have_url(re.compile(rf"/formations/sessions/{world.session_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_text("Aucune inscription.")).to_be_visible()
    expect(field(page, "Élu")).to_have_value(re.compile(r"\d+"))
    axe_audit.check(page, "session avant l'inscription")

    page.get_by_role("button", name="M'inscrire").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Inscription confirmée : une invitation pour l'agenda est envoyée par courriel."
    )
    row = registrations_table(page).locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(world.elu_name)
    expect(row).to_contain_text("Inscrit")
    expect(page.get_by_text("Vous êtes déjà inscrit à cette session")).to_be_visible()
    assert live_registrations(live_app, world.session_id) == 1
    axe_audit.check(page, "session après l'inscription")

    page.get_by_role("navigation", name="Navigation principale").get_by_role("link", name="Mes formations").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes formations et mes droits")
    mine = page.get_by_role("table", name=re.compile("^Inscriptions aux formations")).locator("tbody tr")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(TITLE)
    expect(mine).to_contain_text("Inscrit")
    axe_audit.check(page, "mes formations")

    mine.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/formations/sessions/{world.session_id}$"))
    page.get_by_role("button", name=re.compile("^Annuler l'inscription")).click()
    expect(page.get_by_role("status")).to_contain_text("Inscription annulée.")
    expect(page.get_by_text("Aucune inscription.")).to_be_visible()
    expect(page.get_by_role("button", name="M'inscrire")).to_be_visible()
    assert live_registrations(live_app, world.session_id) == 0
    axe_audit.check(page, "session après l'annulation")
    axe_audit.assert_clean()


def test_secretary_puts_an_elu_on_the_waiting_list(page: Page, live_app):
    world = seed(live_app)
    login(page, world.secretary_email)
    page.goto(f"/formations/sessions/{world.full_id}")
    expect(page.get_by_role("heading", level=2, name="Inscrire un élu")).to_be_visible()
    expect(page.get_by_text("2 attribuées sur 2 ; 0 en liste d'attente")).to_be_visible()
    expect(page.get_by_text("Aucune inscription.")).to_be_visible()  # Pujols' élus are not hers to see
    assert_accessible(page, "session complète, vue de la secrétaire")

    field(page, "Élu").select_option(label="Paul Laffitte — Conseiller municipal, Sauvagnas")
    field(page, "Jours de congé de formation utilisés").fill("25")
    page.get_by_role("button", name="Inscrire", exact=True).click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Jours de congé de formation utilisés : Entre 0 et 24 jours.")
    expect(field(page, "Jours de congé de formation utilisés")).to_have_attribute("aria-invalid", "true")
    assert live_registrations(live_app, world.full_id) == 2
    assert_accessible(page, "inscription refusée (jours de congé)")

    field(page, "Jours de congé de formation utilisés").fill("1")
    field(page, "Frais de déplacement et de séjour prévus (€)").fill("12.5")
    page.get_by_role("button", name="Inscrire", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Session complète : inscription en liste d'attente.")
    row = registrations_table(page).locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Paul Laffitte")
    expect(row).to_contain_text("En liste d'attente — position 1 sur la liste d'attente")
    expect(page.get_by_text("2 attribuées sur 2 ; 1 en liste d'attente")).to_be_visible()
    assert live_registrations(live_app, world.full_id) == 3
    assert_accessible(page, "élu en liste d'attente")


def test_staff_training_pages_are_accessible(page: Page, live_app, axe_audit: AxeAudit):
    world = seed(live_app)
    login(page, world.staff_email)
    year = NOW.astimezone(PARIS).year
    pages = [
        ("/formations/catalogue", "Formations et organismes", "AGR-2024-17"),
        ("/formations/sessions/nouvelle", "Nouvelle session", "Début (heure de Paris)"),
        (f"/formations/sessions/{world.session_id}/modifier", "Modifier la session", "Annuler la session"),
        (f"/formations/sessions/{world.started_id}/emargement", "Feuille d'émargement", "Élu de Pujols 1"),
        (
            f"/collectivites/{world.commune_id}/formations?annee={year}",
            f"Formation des élus de Sauvagnas en {year}",
            "Minimum légal des crédits votés (2\u202f%)400\u202f€",
        ),
        ("/formations/communes-sans-elu-forme", "Communes sans élu formé", "Pujols"),
    ]
    for path, heading, text in pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{path} : {response and response.status}"
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        expect(page.locator("main")).to_contain_text(text)
        axe_audit.check(page, path)

    # Attendance: one present, the other absent; the sheet says so and stays accessible.
    page.goto(f"/formations/sessions/{world.started_id}/emargement")
    page.get_by_role("checkbox", name="Élu de Pujols 0").check()
    page.get_by_role("button", name="Enregistrer l'émargement").click()
    expect(page.get_by_role("status")).to_contain_text("Émargement enregistré")
    rows = page.get_by_role("table", name="Participants inscrits").locator("tbody tr")
    expect(rows.nth(0)).to_contain_text("Présent")
    expect(rows.nth(1)).to_contain_text("Absent")
    axe_audit.check(page, "émargement enregistré")

    # A session form with an error: the summary and the field's message are accessible too.
    page.goto("/formations/sessions/nouvelle")
    field(page, "Formation").select_option(label=TITLE)
    field(page, "Début (heure de Paris)").fill(f"{NOW.year + 1}-03-12T09:00")
    field(page, "Fin (heure de Paris)").fill(f"{NOW.year + 1}-03-12T08:00")
    field(page, "Date limite d'inscription (heure de Paris)").fill(f"{NOW.year + 1}-03-05T12:00")
    field(page, "Nombre de places").fill("12")
    field(page, "Lieu").fill("Agen")
    page.get_by_role("button", name="Enregistrer la session").click()
    expect(page.locator(".error-summary")).to_contain_text("La fin de la session doit suivre son début.")
    axe_audit.check(page, "nouvelle session refusée")
    axe_audit.assert_clean()
