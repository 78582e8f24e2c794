"""Exports of the staff lists (CSV parsed back, XLSX opened with openpyxl) and the public open data files."""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest

from portal.extensions import db
from tests import factories

Y = factories.THIS_YEAR


@pytest.fixture
def world(app):
    epci = factories.collectivite("CC du Fumélois", "cc", insee=None, siren="200000002")
    bodies = {
        "agen": factories.collectivite("Agen", insee="47001", siren="214700015", epci=epci),
        "big": factories.collectivite("Grande Ville", insee="47002", siren="214700023"),
        "small": factories.collectivite("Saint-Petit", insee="47003", siren="214700031", epci=epci),
        "none": factories.collectivite("Sans Déclaration", insee="47004"),
    }
    factories.declare(bodies["agen"], Y, 300)
    factories.declare(bodies["big"], Y, 400)
    factories.declare(bodies["small"], Y, 3)
    staff = factories.user("staff", email="staff@cdg47.fr")
    secretary = factories.user("secretary", email="sec@mairie.fr", collectivites=[bodies["small"]])
    db.session.commit()
    return {**bodies, "epci": epci, "staff": staff, "secretary": secretary}


def read_csv(response) -> list[list[str]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_collectivites_csv_respects_the_filters_of_the_page(client, auth, world):
    auth.login("staff@cdg47.fr")
    page = client.get("/collectivites?status=obligatoire&kind=commune").get_data(as_text=True)
    assert "/collectivites/export.csv?status=obligatoire&amp;kind=commune" in page
    response = client.get("/collectivites/export.csv?status=obligatoire&kind=commune")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="collectivites.csv"' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [
        "Nom",
        "Type",
        "Code INSEE",
        "SIREN",
        "Département",
        "Population",
        "EPCI",
        "Statut d'affiliation",
    ]
    assert [r[0] for r in rows[1:]] == ["Agen", "Saint-Petit"]  # sorted by name, like the page
    assert rows[1][6] == "CC du Fumélois" and rows[1][7] == "Affiliation obligatoire"


def test_collectivites_export_is_scoped_to_what_the_user_sees(client, auth, world):
    auth.login("sec@mairie.fr")
    rows = read_csv(client.get("/collectivites/export.csv"))
    assert [r[0] for r in rows[1:]] == ["Saint-Petit"]


def test_collectivites_xlsx(client, auth, world):
    auth.login("staff@cdg47.fr")
    response = client.get("/collectivites/export.xlsx?q=agen")
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    sheet = workbook.active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "Nom"
    assert values[1][:4] == ["Agen", "Commune", "47001", "214700015"]
    assert len(values) == 2


def test_exports_need_a_login_and_the_right_role(client, auth, world):
    assert client.get("/collectivites/export.csv").status_code == 302
    assert client.get("/collectivites/export.pdf").status_code == 404
    factories.user("elu", email="elu@mairie.fr", collectivites=[world["agen"]])
    db.session.commit()
    auth.login("elu@mairie.fr")
    assert client.get("/abonnements/export.csv").status_code == 403
    assert client.get("/conventions/export.xlsx").status_code == 403


def test_subscription_and_convention_exports(client, auth, world):
    auth.login("staff@cdg47.fr")
    subscriptions = read_csv(client.get("/abonnements/export.csv?etat=tous"))
    assert subscriptions[0][:4] == ["N°", "Collectivité", "Code INSEE / SIREN", "Service"]
    conventions = client.get("/conventions/export.xlsx")
    assert conventions.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(conventions.get_data()), read_only=True).active
    assert next(sheet.iter_rows(values_only=True))[1] == "Titre"
    page = client.get("/abonnements?etat=tous").get_data(as_text=True)
    assert "/abonnements/export.xlsx?etat=tous" in page


def test_open_data_is_public_and_lists_affiliated_bodies_only(client, world):
    page = client.get("/donnees-ouvertes/")
    assert page.status_code == 200
    assert "collectivites-affiliees.csv" in page.get_data(as_text=True)
    rows = read_csv(client.get("/donnees-ouvertes/collectivites-affiliees.csv"))
    assert rows[0] == ["Code INSEE", "SIREN", "Nom", "Type", "Libellé du type", "Département", "Affiliation"]
    assert [(r[2], r[6]) for r in rows[1:]] == [("Agen", "obligatoire"), ("Saint-Petit", "obligatoire")]
    document = json.loads(client.get("/donnees-ouvertes/collectivites-affiliees.json").get_data(as_text=True))
    names = [r["nom"] for r in document["collectivites"]]
    assert names == ["Agen", "Saint-Petit"]  # not the non-affiliated big city, nor the undetermined one
    fields = set(document["collectivites"][0])
    assert fields == {"code_insee", "siren", "nom", "type", "type_libelle", "departement", "affiliation"}
    text = json.dumps(document)
    assert "@" not in text and "sec@mairie.fr" not in text  # nothing personal


def test_open_data_counts_voluntary_affiliation(client, world, count_queries):
    page = client.get("/donnees-ouvertes/").get_data(as_text=True)
    assert "Affiliation volontaire : 0" in page
    with count_queries() as statements:
        client.get("/donnees-ouvertes/")
    assert not any("FROM collectivite" in s for s in statements)  # the counts are kept under the registry's token
    world["big"].affiliation_status = "volontaire"
    db.session.commit()
    assert "Affiliation volontaire : 1" in client.get("/donnees-ouvertes/").get_data(as_text=True)  # and never stale
    rows = read_csv(client.get("/donnees-ouvertes/collectivites-affiliees.csv"))
    assert ("Grande Ville", "volontaire") in [(r[2], r[6]) for r in rows[1:]]
