"""Campaign pages: opening (bad dates refused in French), progress with its bar, the CSV of the missing bodies,
closing and reopening with confirmation, the secretary's dashboard and the family declaration form, a document
step of a second kind."""

from __future__ import annotations

import csv
import html
import io
from datetime import date

import pytest
from sqlalchemy import select

from portal.affiliation.models import AffiliationDecision
from portal.campaigns import definitions
from portal.campaigns.models import Campaign, CampaignTask
from portal.common.clock import paris_today
from portal.extensions import db
from portal.registry.models import HeadcountDeclaration
from tests import factories
from tests.conftest import csrf_from
from tests.integration.test_campaigns import GROUPEMENT

YEAR = paris_today().year + 1


@pytest.fixture
def world(app):
    epci = factories.collectivite("CA du Grand Test", "ca", siren="200000001")
    a = factories.collectivite("Astaffort", epci=epci)
    ccas_a = factories.collectivite("CCAS d'Astaffort", "ccas", parent=a, insee=None, siren="260000001")
    b = factories.collectivite("Boé", epci=epci)
    factories.collectivite("Cuq")
    factories.user("staff", email="agent@cdg47.fr")
    factories.user("secretary", email="mairie@astaffort.fr", collectivites=[a])
    factories.declare(a, YEAR - 1, 300, notify=False)
    db.session.commit()
    return {"a": a, "ccas_a": ccas_a, "b": b}


def open_form(client, auth, **changes):
    data = {
        "kind": "effectifs",
        "year": str(YEAR),
        "deadline": f"{YEAR}-03-31",
        "message": "Merci de répondre avant le conseil d'administration.",
        "scope_kinds": ["commune", "ccas", "ca"],
        **changes,
    }
    return auth.post("/campagnes/", data)


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_staff_opens_a_campaign_and_bad_dates_are_refused(client, auth, world):
    auth.login("agent@cdg47.fr")
    page = page_text(client.get("/campagnes/"))
    assert "Ouvrir une campagne" in page and "Recensement des effectifs" in page
    past = open_form(client, auth, year=str(YEAR - 1), deadline=f"{YEAR - 2}-12-31")
    assert past.status_code == 422
    assert "est déjà passée : choisissez une date à venir" in page_text(past)
    before_reference = open_form(client, auth, deadline=f"{YEAR - 1}-12-31")
    assert before_reference.status_code == 422
    assert f"précède la date de référence de la campagne (1er janvier {YEAR})" in page_text(before_reference)
    no_kind = open_form(client, auth, scope_kinds=[])
    assert no_kind.status_code == 422 and "Choisissez au moins un type de collectivité." in page_text(no_kind)
    assert db.session.scalar(select(Campaign.id)) is None  # nothing half-written
    opened = open_form(client, auth)
    assert opened.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    assert opened.headers["Location"].endswith(f"/campagnes/{campaign.id}")
    assert len(db.session.scalars(select(CampaignTask)).all()) == 5
    again = open_form(client, auth)
    assert again.status_code == 422 and "existe déjà" in page_text(again)


def test_progress_page_and_missing_csv(client, auth, world):
    auth.login("agent@cdg47.fr")
    open_form(client, auth)
    campaign = db.session.scalar(select(Campaign))
    factories.declare(world["b"], YEAR, 12)
    db.session.commit()
    page = page_text(client.get(f"/campagnes/{campaign.id}"))
    assert "1 collectivité a répondu sur 5 (20 %)." in page
    assert '<progress id="progression" max="5" value="1"' in page
    assert "CA du Grand Test" in page and "Hors EPCI" in page
    assert "sans secrétaire sur le portail" in page
    assert "Sans réponse (4)" in page
    response = client.get(f"/campagnes/{campaign.id}/manquants.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert rows[0] == [
        "Collectivité",
        "Type",
        "Code INSEE",
        "SIREN",
        "EPCI",
        "Secrétaires sur le portail",
        "Relances envoyées",
    ]
    assert [r[0] for r in rows[1:]] == ["Astaffort", "CA du Grand Test", "CCAS d'Astaffort", "Cuq"]
    astaffort = rows[1]
    assert astaffort[1] == "Commune" and astaffort[4] == "CA du Grand Test"
    assert astaffort[5] == "mairie@astaffort.fr" and astaffort[6] == "aucune"
    assert rows[3][4] == "CA du Grand Test"  # the CCAS in its commune's EPCI
    assert rows[4][5] == "sans secrétaire sur le portail"


def test_close_and_reopen_with_confirmation(client, auth, world):
    auth.login("agent@cdg47.fr")
    open_form(client, auth)
    campaign = db.session.scalar(select(Campaign))
    closed = auth.post(f"/campagnes/{campaign.id}/cloture", {}, page_url=f"/campagnes/{campaign.id}")
    assert closed.status_code == 302
    db.session.refresh(campaign)
    assert not campaign.is_open
    assert "Rouvrir la campagne" in page_text(client.get(f"/campagnes/{campaign.id}"))
    url = f"/campagnes/{campaign.id}/reouverture"
    unconfirmed = auth.post(url, {"deadline": f"{YEAR}-04-30"})
    assert unconfirmed.status_code == 422
    assert "Cochez la case pour confirmer la réouverture." in page_text(unconfirmed)
    db.session.refresh(campaign)
    assert not campaign.is_open
    past = auth.post(url, {"deadline": "2020-01-01", "confirm": "y"})
    assert past.status_code == 422 and "déjà passée" in page_text(past)
    reopened = auth.post(url, {"deadline": f"{YEAR}-04-30", "confirm": "y"})
    assert reopened.status_code == 302
    db.session.refresh(campaign)
    assert campaign.is_open and campaign.deadline == date(YEAR, 4, 30)


def test_secretary_declares_her_commune_and_its_ccas_in_one_form(client, auth, world):
    auth.login("agent@cdg47.fr")
    open_form(client, auth)
    auth.logout()
    campaign = db.session.scalar(select(Campaign))
    task = db.session.scalar(select(CampaignTask).where(CampaignTask.collectivite_id == world["a"].id))
    auth.login("mairie@astaffort.fr")
    dashboard = page_text(client.get("/tableau-de-bord"))
    assert "Ce que le CDG vous demande" in dashboard
    assert f"Effectifs au 1er janvier {YEAR} — Astaffort : à faire avant le 31 mars {YEAR}." in dashboard
    assert "CCAS d'Astaffort : à faire" in dashboard
    url = f"/campagnes/{campaign.id}/taches/{task.id}"
    page = page_text(client.get(url))
    assert f"Astaffort : agents au 1er janvier {YEAR}" in page
    assert f"CCAS d'Astaffort : agents au 1er janvier {YEAR}" in page
    assert f"Déclaration {YEAR - 1} pour mémoire : 300 à temps complet" in page
    a, ccas = world["a"].id, world["ccas_a"].id
    data = {
        f"c{a}-titulaires_temps_complet": "330",
        f"c{a}-titulaires_temps_non_complet": "2",
        f"c{a}-contractuels": "9",
        f"c{ccas}-titulaires_temps_complet": "-1",
        f"c{ccas}-titulaires_temps_non_complet": "0",
        f"c{ccas}-contractuels": "1",
    }
    bad = auth.post(f"{url}/etapes/declaration", data, page_url=url)
    assert bad.status_code == 422
    assert "Indiquez un nombre entier entre 0 et 100 000." in page_text(bad)
    assert db.session.scalar(select(HeadcountDeclaration.id).where(HeadcountDeclaration.year == YEAR)) is None
    data[f"c{ccas}-titulaires_temps_complet"] = "25"
    good = auth.post(f"{url}/etapes/declaration", data, page_url=url)
    assert good.status_code == 302
    years = db.session.execute(
        select(HeadcountDeclaration.collectivite_id, HeadcountDeclaration.titulaires_temps_complet).where(
            HeadcountDeclaration.year == YEAR
        )
    ).all()
    assert sorted(years) == sorted([(a, 330), (ccas, 25)])
    # 330 + 25 = 355: the affiliation decision is opened for the CDG, as from the collectivité's page.
    assert db.session.scalar(select(AffiliationDecision.id).where(AffiliationDecision.collectivite_id == a))
    dashboard = page_text(client.get("/tableau-de-bord"))
    assert "Astaffort : réponse reçue." in dashboard and "CCAS d'Astaffort : réponse reçue." in dashboard
    assert "Déclaration des effectifs — faite" in page_text(client.get(url))


def test_a_closed_campaign_takes_no_answer(client, auth, world):
    auth.login("agent@cdg47.fr")
    open_form(client, auth)
    campaign = db.session.scalar(select(Campaign))
    auth.post(f"/campagnes/{campaign.id}/cloture", {}, page_url=f"/campagnes/{campaign.id}")
    task = db.session.scalar(select(CampaignTask).where(CampaignTask.collectivite_id == world["b"].id))
    url = f"/campagnes/{campaign.id}/taches/{task.id}"
    token = csrf_from(client.get("/mon-profil").get_data(as_text=True))
    data = {f"c{world['b'].id}-{name}": "1" for name in ("titulaires_temps_complet", "titulaires_temps_non_complet")}
    response = client.post(f"{url}/etapes/declaration", data={**data, "csrf_token": token})
    assert response.status_code == 422 and "La campagne est close" in page_text(response)


@pytest.fixture
def groupement():
    definitions.register(GROUPEMENT)
    yield GROUPEMENT
    definitions.unregister(GROUPEMENT.code)


def test_document_step_of_a_second_kind(client, auth, world, groupement, app, tmp_path):
    app.instance_path = str(tmp_path)
    auth.login("agent@cdg47.fr")
    response = open_form(client, auth, kind="groupement-test", scope_kinds=["commune"])
    assert response.status_code == 302
    auth.logout()
    campaign = db.session.scalar(select(Campaign))
    task = db.session.scalar(select(CampaignTask).where(CampaignTask.collectivite_id == world["a"].id))
    auth.login("mairie@astaffort.fr")
    url = f"/campagnes/{campaign.id}/taches/{task.id}"
    page = page_text(client.get(url))
    assert "Délibération d'adhésion — à faire" in page
    token = csrf_from(page)
    step = f"{url}/etapes/deliberation"
    wrong = client.post(
        step,
        data={"csrf_token": token, "deliberation-file": (io.BytesIO(b"PK\x03\x04"), "deliberation.docx")},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422 and "Seuls les fichiers PDF sont acceptés." in page_text(wrong)
    sent = client.post(
        step,
        data={"csrf_token": token, "deliberation-file": (io.BytesIO(b"%PDF-1.7 fake"), "Délibération 12.pdf")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    page = page_text(client.get(url))
    assert "Délibération d'adhésion — faite" in page and "Délibération 12.pdf" in page
    link = next(part.split('"')[0] for part in page.split('href="') if "/documents/" in part)
    download = client.get(link)
    assert download.status_code == 200 and download.data == b"%PDF-1.7 fake"
    auth.logout()
    auth.login("agent@cdg47.fr")
    assert "Sans réponse (2)" in page_text(client.get(f"/campagnes/{campaign.id}"))
