"""The CDG that runs the portal is named by configuration (CDG_NAME, CDG_ACRONYM, CDG_TERRITORY), in one place:
another CDG sets its own names and no page, email or document says « Lot-et-Garonne »."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.common import cdg
from portal.extensions import db
from tests import factories
from tests.conftest import Auth

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
GERS = {
    "CDG_NAME": "Centre de gestion de la fonction publique territoriale du Gers",
    "CDG_ACRONYM": "CDG 32",
    "CDG_TERRITORY": "du Gers",
    "CDG_DEPARTEMENTS": "32",
    "CDG_ADDRESS": "Maison des communes | 1 place du Foirail |  | 32000 Auch",
    "CDG_CONTACT": "05 62 00 00 00 · contact@cdg32.example",
}


@pytest.fixture
def gers(app_factory):
    app = app_factory(CELERY_TASK_ALWAYS_EAGER="1", **GERS)
    with app.app_context():
        yield app
        db.session.remove()
        from tests.conftest import clean_tables

        clean_tables()


def test_the_identity_reads_the_configuration(gers):
    identity = cdg.identity()
    assert identity.name == GERS["CDG_NAME"]
    assert (identity.short_name, identity.portal_name) == ("CDG du Gers", "Portail CDG 32")


def test_pages_and_emails_name_the_configured_cdg(gers, smtp_sink):
    client = gers.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    assert "Portail CDG 32" in page and "Centre de gestion de la fonction publique territoriale du Gers" in page
    assert "élus des collectivités du Gers" in page
    assert "Lot-et-Garonne" not in page and "CDG 47" not in page

    factories.user("secretary", email="secretariat@mairie32.fr", collectivites=[factories.collectivite("Auch")])
    db.session.commit()
    gers.config["MAIL_PORT"] = smtp_sink.port
    Auth(client).post("/mot-de-passe/oubli", {"email": "secretariat@mairie32.fr"})
    message = smtp_sink.messages[-1]
    assert message["Subject"] == "Réinitialisation de votre mot de passe — Portail CDG 32"
    text = message.get_body(("plain",)).get_content()
    assert "portail du CDG du Gers" in text and "Portail CDG 32 — message automatique" in text
    assert "Lot-et-Garonne" not in text


def test_documents_carry_the_configured_letterhead(gers):
    """The CDG's address and contact head its documents, under its name (here an élu's rights, as staff read it)."""
    from tests.pdf_text import pdf_lines

    client = gers.test_client()
    auch = factories.collectivite("Auch")
    elu = factories.elu(auch, "Anne Durand")
    factories.user("staff", email="agent@cdg32.example")
    db.session.commit()
    Auth(client).login("agent@cdg32.example")
    response = client.get(f"/formations/elus/{elu.mandate.id}/droits.pdf")
    assert response.status_code == 200
    assert pdf_lines(response.data)[:3] == [
        GERS["CDG_NAME"],
        "Maison des communes, 1 place du Foirail, 32000 Auch",  # blank lines of the setting dropped
        "05 62 00 00 00 · contact@cdg32.example",
    ]


def test_without_an_address_the_letterhead_is_the_name_alone(app):
    identity = cdg.identity(app)
    assert (identity.address, identity.contact) == ((), "")


def test_no_template_names_a_cdg_by_itself():
    named = []
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in {".html", ".txt"} or "demo" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"Lot-et-Garonne|CDG 47|cdg47", line):
                named.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert not named, f"the CDG's names come from configuration (cdg.*): {named}"
