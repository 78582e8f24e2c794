"""Exports of the training registrations: a session's participants and the staff's export of every registration
(year of the session, status, collectivité), as CSV parsed back (``;``, BOM) and XLSX opened with openpyxl;
staff only, streamed, and a query count that does not grow with the rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from portal.extensions import db
from portal.registry.models import Collectivite
from portal.training import exports as training_exports
from portal.training.models import TrainingSession
from portal.training.registrations import RegistrationInput, register
from tests import factories

# The "march" session is two months ahead: within the first year of a mandate that starts today (so that a
# delegated élu's registration counts as first-year training) whatever the date the suite runs on.
_TODAY = date.today()
_MARCH_DAY = _TODAY + timedelta(days=60)
MARCH_START = datetime(_MARCH_DAY.year, _MARCH_DAY.month, _MARCH_DAY.day, 8, 0, tzinfo=UTC)
NEXT = MARCH_START.year
STAFF, SEC_A, ELU_A = "staff@cdg47.fr", "sec.a@mairie.fr", "elu.a@mairie.fr"


@pytest.fixture
def world(app):
    a = factories.collectivite("Sauvagnas", insee="47286")
    b = factories.collectivite("Pujols", insee="47215")
    staff = factories.user("staff", email=STAFF)
    factories.user("secretary", email=SEC_A, collectivites=[a])
    elu_a = factories.elu(a, "Jeanne Sauvagnas", email=ELU_A, delegation=True, mandate_start=date.today())
    elu_a2 = factories.elu(a, "Paul Laffitte")
    elu_b = factories.elu(b, "Marc Pujols")
    training = factories.training()
    march = factories.training_session(training, starts_at=MARCH_START, capacity=2)
    june = factories.training_session(training, starts_at=datetime(NEXT + 1, 6, 2, 7, 0, tzinfo=UTC))
    for elu in (elu_a, elu_b, elu_a2):  # the third waits
        register(march, elu.mandate, elu, RegistrationInput(travel_cost=12))
    register(june, elu_b.mandate, staff)
    db.session.commit()
    return {"a": a, "b": b, "a_id": a.id, "march": march.id, "june": june.id, "staff": staff}


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_participants_csv_and_xlsx(client, auth, world):
    auth.login(STAFF)
    url = f"/formations/sessions/{world['march']}/participants"
    rows = read_csv(client.get(f"{url}.csv"))
    assert [r["Élu"] for r in rows] == ["Jeanne Sauvagnas", "Marc Pujols", "Paul Laffitte"]
    assert list(rows[0]) == list(training_exports.PARTICIPANTS_HEADER)
    first, waiting = rows[0], rows[2]
    assert (first["Statut"], first["Collectivité"], first["Code INSEE"]) == ("Inscrit", "Sauvagnas", "47286")
    assert (first["Frais (€)"], first["Coût pédagogique (€)"], first["Première année"]) == ("12,00", "150,00", "oui")
    assert (waiting["Statut"], waiting["Position en liste d'attente"]) == ("En liste d'attente", "1")
    assert first["Position en liste d'attente"] == "" and first["Inscrit le"].count("/") == 2

    response = client.get(f"{url}.xlsx")
    assert f'filename="participants-session-{world["march"]}.xlsx"' in response.headers["Content-Disposition"]
    sheet = read_xlsx(response)
    assert tuple(sheet[0]) == training_exports.PARTICIPANTS_HEADER
    by_name = {row[0]: dict(zip(sheet[0], row, strict=True)) for row in sheet[1:]}
    assert set(by_name) == {"Jeanne Sauvagnas", "Marc Pujols", "Paul Laffitte"}
    assert by_name["Marc Pujols"]["Coût pédagogique (€)"] == 150 and by_name["Marc Pujols"]["Frais (€)"] == 12
    assert by_name["Paul Laffitte"]["Position en liste d'attente"] == 1
    assert isinstance(by_name["Jeanne Sauvagnas"]["Inscrit le"], datetime)


def test_the_session_page_links_both_formats(client, auth, world):
    auth.login(STAFF)
    page = client.get(f"/formations/sessions/{world['march']}").get_data(as_text=True)
    assert f"/formations/sessions/{world['march']}/participants.csv" in page
    assert f"/formations/sessions/{world['march']}/participants.xlsx" in page


def test_staff_export_respects_the_filters(client, auth, world):
    auth.login(STAFF)
    page = client.get("/formations/").get_data(as_text=True)
    year = date.today().year
    assert (
        f"/formations/inscriptions.csv?annee={year}" in page and f"/formations/inscriptions.xlsx?annee={year}" in page
    )

    everything = read_csv(client.get("/formations/inscriptions.csv"))
    assert [(r["N° session"], r["Élu"]) for r in everything] == [
        (str(world["march"]), "Jeanne Sauvagnas"),
        (str(world["march"]), "Marc Pujols"),
        (str(world["march"]), "Paul Laffitte"),
        (str(world["june"]), "Marc Pujols"),
    ]
    response = client.get(f"/formations/inscriptions.csv?annee={NEXT}")
    assert f'filename="inscriptions-formations-{NEXT}.csv"' in response.headers["Content-Disposition"]
    march = read_csv(response)
    assert {r["N° session"] for r in march} == {str(world["march"])} and len(march) == 3
    first = march[0]
    assert (first["Formation"], first["Heures"], first["Part commune (€)"]) == ("Élu Numérique Rural", "7,0", "162,00")
    assert first["Début"] == MARCH_START.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")
    assert first["Délégation"] == "oui" and first["Place obtenue le"]
    waiting = read_csv(client.get(f"/formations/inscriptions.csv?annee={NEXT}&statut=waiting"))
    assert [(r["Élu"], r["Statut"], r["Place obtenue le"]) for r in waiting] == [
        ("Paul Laffitte", "En liste d'attente", "")
    ]
    pujols = read_csv(client.get(f"/formations/inscriptions.csv?collectivite={world['b'].id}"))
    assert [r["N° session"] for r in pujols] == [str(world["march"]), str(world["june"])]
    assert read_csv(client.get(f"/formations/inscriptions.csv?annee={_TODAY.year + 5}")) == []  # the portal's last year

    sheet = read_xlsx(client.get(f"/formations/inscriptions.xlsx?annee={NEXT + 1}&statut=registered"))
    assert tuple(sheet[0]) == training_exports.REGISTRATIONS_HEADER
    assert len(sheet) == 2
    row = dict(zip(sheet[0], sheet[1], strict=True))
    assert (row["Élu"], row["Collectivité"], row["Code INSEE"]) == ("Marc Pujols", "Pujols", "47215")
    assert row["Heures"] == 7 and row["Coût pédagogique (€)"] == 150
    assert row["Début"] == datetime(NEXT + 1, 6, 2, 9, 0)  # 07:00 UTC is 09:00 in Paris in summer


@pytest.mark.parametrize("query", ["annee=deux-mille", "annee=1900", "statut=inconnu", "collectivite=-1"])
def test_a_filter_that_means_nothing_is_refused(client, auth, world, query):
    auth.login(STAFF)
    assert client.get(f"/formations/inscriptions.csv?{query}").status_code == 400


@pytest.mark.parametrize("email", [SEC_A, ELU_A])
def test_exports_are_for_staff_only(client, auth, world, email):
    auth.login(email)
    for url in (
        "/formations/inscriptions.csv",
        "/formations/inscriptions.xlsx",
        f"/formations/sessions/{world['march']}/participants.csv",
        f"/formations/sessions/{world['march']}/participants.xlsx",
    ):
        assert client.get(url).status_code == 403, url
    assert "/formations/inscriptions.csv" not in client.get("/formations/").get_data(as_text=True)


def test_anonymous_is_sent_to_the_login_page(client, world):
    for url in ("/formations/inscriptions.xlsx", f"/formations/sessions/{world['march']}/participants.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and "/connexion?next=" in response.location


def test_unknown_session_and_format(client, auth, world):
    auth.login(STAFF)
    assert client.get(f"/formations/sessions/{2**31 - 1}/participants.csv").status_code == 404
    assert client.get(f"/formations/sessions/{world['march']}/participants.pdf").status_code == 404
    assert client.get("/formations/inscriptions.json").status_code == 404


def test_export_query_count_does_not_grow(client, auth, world, count_queries):
    auth.login(STAFF)

    def measure() -> tuple[int, int]:
        db.session.expunge_all()
        with count_queries() as everything:
            assert client.get("/formations/inscriptions.csv").get_data()
        with count_queries() as participants:
            assert client.get(f"/formations/sessions/{world['june']}/participants.xlsx").get_data()
        return len(everything), len(participants)

    few = measure()
    session = db.session.get(TrainingSession, world["june"])
    body = db.session.get(Collectivite, world["a_id"])
    for n in range(12):
        elu = factories.elu(body, f"Élu {n}")
        register(session, elu.mandate, elu)
    db.session.commit()
    assert measure() == few
    assert len(read_csv(client.get("/formations/inscriptions.csv"))) == 4 + 12
