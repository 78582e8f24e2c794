"""Issue 14's journey, in a real browser: a CDG agent imports a secretaries file for 20 communes (dry run, then the
import job), the invitations reach the SMTP sink, a secretary follows her link and chooses her password, finds her
commune's council as imported from the national register of élus, invites one élu and registers another, who has
no account, for a training session. Every page on the way is checked with axe-core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal.accounts.models import Person
from portal.extensions import db
from portal.people import services as people
from portal.training.models import Registration
from tests import factories
from tests.conftest import DATA_47
from tests.e2e.conftest import AxeAudit, field, login

pytestmark = pytest.mark.e2e

DATA = Path(__file__).resolve().parent.parent / "data"
SECRETARIES = DATA / "secretaires" / "secretaires-20-communes.csv"
RNE_SAMPLE = DATA / "rne" / "conseillers-municipaux-sample.csv"
PASSWORD = "la bastide de Laroque au soleil"
SECRETARY = "secretariat@laroque-timbaut.example"


def _seed(app, tmp_path: Path) -> tuple[str, Path]:
    """The Lot-et-Garonne registry, the élus of the RNE sample, a training session, a CDG agent; and the
    secretaries file, with Laroque-Timbaut (a commune of the RNE sample) in place of Beauville: 20 communes."""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["registry", "import", str(DATA_47), "--departement", "47"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        people.import_rne(RNE_SAMPLE, departements=["47"])
        factories.training_session(factories.training())
        staff = factories.user("staff", email="agent@cdg47.fr")
        db.session.commit()
        staff_email = staff.email
    text = SECRETARIES.read_text(encoding="utf-8-sig")
    assert "accueil@beauville.example;Isabelle Perrin;47025" in text
    upload = tmp_path / "secretaires.csv"
    upload.write_text(
        text.replace("accueil@beauville.example;Isabelle Perrin;47025", f"{SECRETARY};Isabelle Perrin;47138"),
        encoding="utf-8-sig",
    )
    return staff_email, upload


def _message_to(smtp_sink, address: str):
    return next(m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == address)


def test_from_the_secretaries_file_to_an_elu_registered_by_his_secretary(
    page: Page, browser: Browser, live_app, live_server, smtp_sink, tmp_path, axe_audit: AxeAudit
):
    staff_email, upload = _seed(live_app, tmp_path)

    # The agent: dry run, then the import job.
    login(page, staff_email)
    page.get_by_role("link", name="Comptes", exact=True).click()
    page.get_by_role("link", name="Importer un fichier de secrétaires").click()
    axe_audit.check(page, "import des secrétaires")
    field(page, "Fichier des secrétaires").set_input_files(str(upload))
    page.get_by_role("button", name="Simuler l'import").click()
    expect(page.get_by_role("heading", name="Simulation de l'import des secrétaires")).to_be_visible()
    axe_audit.check(page, "simulation")
    assert smtp_sink.messages == []  # a dry run sends nothing
    page.get_by_role("button", name="Confirmer l'import").click()
    expect(page.get_by_role("status").last).to_contain_text("16")
    expect(page.locator("#import-progress-bar")).to_have_attribute("value", "16")
    axe_audit.check(page, "suivi de l'import")
    invited = sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages)
    assert len(invited) == 16 and SECRETARY in invited

    # The secretary of Laroque-Timbaut, in her own browser.
    context = browser.new_context(base_url=live_server, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        own = context.new_page()
        text = _message_to(smtp_sink, SECRETARY).get_body(("plain",)).get_content()
        own.goto(re.search(r"https?://\S+(/invitation/\S+)", text).group(1))
        axe_audit.check(own, "invitation")
        field(own, "Mot de passe").fill(PASSWORD)
        field(own, "Confirmation du mot de passe").fill(PASSWORD)
        own.get_by_label("J'ai lu et j'accepte les conditions d'utilisation du portail.").check()
        own.get_by_role("button", name="Activer mon compte").click()
        login(own, SECRETARY, PASSWORD)

        own.get_by_role("navigation", name="Navigation principale").get_by_role(
            "link", name="Conseils municipaux"
        ).click()
        axe_audit.check(own, "conseils municipaux")
        own.get_by_role("link", name="Conseil de Laroque-Timbaut").click()
        expect(own.get_by_role("heading", name="Élus de Laroque-Timbaut")).to_be_visible()
        rows = own.locator("table tbody tr")
        expect(rows.first).to_contain_text("Frédéric JOLY")
        expect(rows.first).to_contain_text("Maire")
        expect(rows.nth(1)).to_contain_text("1re adjointe au maire")
        axe_audit.check(own, "conseil municipal")

        # She invites the maire, who wants an account.
        own.get_by_role("link", name="Frédéric JOLY", exact=True).click()
        field(own, "Adresse électronique de l'élu").fill("frederic.joly@laroque-timbaut.example")
        own.get_by_role("button", name="Enregistrer l'adresse").click()
        own.get_by_role("button", name="Inviter l'élu à créer son compte").click()
        expect(own.get_by_role("status").first).to_be_visible()
        axe_audit.check(own, "fiche de l'élu invité")
        invitation = _message_to(smtp_sink, "frederic.joly@laroque-timbaut.example")
        assert "/invitation/" in invitation.get_body(("plain",)).get_content()

        # She registers a conseillère, who has no account, for the session.
        own.get_by_role("navigation", name="Navigation principale").get_by_role(
            "link", name="Conseils municipaux"
        ).click()
        own.get_by_role("link", name="Conseil de Laroque-Timbaut").click()
        own.get_by_role("link", name="Élodie MARTINEZ", exact=True).click()
        axe_audit.check(own, "fiche d'une élue sans compte")
        session_select = field(own, "Session de formation")
        session_select.select_option(index=1)
        own.get_by_role("button", name="Inscrire").click()
        expect(own.get_by_role("status").first).to_be_visible()
        axe_audit.check(own, "inscription faite par la secrétaire")
    finally:
        context.close()

    with live_app.app_context():
        martinez = db.session.scalar(select(Person).where(Person.family_name == "MARTINEZ"))
        assert martinez.user is None
        [registration] = db.session.scalars(select(Registration)).all()
        assert registration.mandate.person_id == martinez.id
    # Her convocation went to her secretary, who has the portal (she has no address of her own).
    assert any(
        m["To"].addresses[0].addr_spec == SECRETARY and "MARTINEZ" in m.get_body(("plain",)).get_content()
        for m in smtp_sink.messages
    )
    axe_audit.assert_clean()
