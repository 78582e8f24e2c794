"""Every input bounded (issue 12, items 1 and 2): years in URLs and query strings, money, rates and counts, dates,
the length of free text and control characters, on the web pages. The same rules hold on SQLite and PostgreSQL
(the suite runs on the database named by ``DATABASE_URL``); PostgreSQL is the stricter one: it refuses NUL in text
and a string longer than its column, where SQLite stores anything."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.catalogue.models import ContributionRate, PayrollDeclaration, Tariff
from portal.common.clock import paris_today
from portal.common.inputs import YEAR_MIN, year_max
from portal.conventions.models import Convention
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.registry.models import HeadcountDeclaration
from portal.subscriptions.models import Subscription
from portal.training.models import TrainingBudget, TrainingSession
from tests import factories

STAFF, SECRETARY = "staff@cdg47.fr", "sec@sauvagnas.fr"


@pytest.fixture
def world(app):
    catalogue = {s.code: s for s in load_catalogue(paris_today().year)}
    commune = factories.collectivite("Sauvagnas")
    factories.declare(commune, paris_today().year, 4)
    factories.user("staff", email=STAFF)
    factories.user("secretary", email=SECRETARY, collectivites=[commune])
    training = factories.training()
    partners = [
        factories.PartnerFactory(name=name, kind="cdg").id
        for name in ("Centre de gestion de Lot-et-Garonne", "Commune de Sauvagnas")
    ]
    db.session.commit()
    return {"commune": commune.id, "catalogue": catalogue, "training": training.id, "partners": partners}


def text(response) -> str:
    return response.get_data(as_text=True).replace("&#39;", "'").replace("&amp;", "&")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# Item 1: years in URLs and query strings -------------------------------------------------------------


def year_urls(commune: int, year: int) -> list[str]:
    return [
        f"/collectivites/{commune}/releve/{year}",
        f"/collectivites/{commune}/releve/{year}.pdf",
        f"/collectivites/{commune}/formations/{year}.csv",
        f"/collectivites/{commune}/formations/{year}.xlsx",
        f"/cotisations/{year}/releves.csv",
        f"/collectivites/{commune}/formations?annee={year}",
    ]


@pytest.mark.parametrize("year", [0, 1999, 99999, 10**12, "year_max+1"])
def test_a_year_outside_the_portal_range_is_a_french_404_before_any_export_starts(client, auth, world, year):
    year = year_max() + 1 if year == "year_max+1" else year
    auth.login(STAFF)
    for url in year_urls(world["commune"], year):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page introuvable" in text(response), url  # an HTML error page, not the start of a file
        assert not response.is_streamed, url


@pytest.mark.parametrize("year", [YEAR_MIN, "year_max"])
def test_the_first_and_last_years_of_the_range_are_served(client, auth, world, year):
    year = year_max() if year == "year_max" else year
    auth.login(STAFF)
    for url in year_urls(world["commune"], year):
        response = client.get(url)
        assert response.status_code == 200, url
        response.get_data()  # the whole stream reads to its end


def test_the_staff_export_of_registrations_takes_the_same_years(client, auth, world):
    auth.login(STAFF)
    assert client.get(f"/formations/inscriptions.csv?annee={year_max()}").status_code == 200
    assert client.get(f"/formations/inscriptions.csv?annee={year_max() + 1}").status_code == 400
    assert client.get(f"/formations/inscriptions.csv?annee={YEAR_MIN - 1}").status_code == 400
    assert client.get(f"/formations/inscriptions.csv?annee={'9' * 5000}").status_code == 400
    assert client.get(f"/formations/inscriptions.csv?collectivite={'9' * 5000}").status_code == 400


@pytest.mark.parametrize("digits", ["\u0662\u0660\u0662\u0666", "\uff12\uff10\uff12\uff16"])
def test_a_year_in_other_digits_is_not_a_year(client, auth, world, digits):
    auth.login(STAFF)
    assert client.get(f"/collectivites/{world['commune']}/releve/{digits}").status_code == 404
    assert client.get(f"/collectivites/{world['commune']}/formations?annee={digits}").status_code == 404


# Item 1: money, rates and counts ---------------------------------------------------------------------

NOT_NUMBERS = [
    "NaN",
    "sNaN",
    "Infinity",
    "-Infinity",
    "1e-30",
    "1e30",
    "\u0663",  # Arabic-Indic 3
    "\uff13",  # full-width 3
]


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_a_rate_must_be_written_in_digits(client, auth, world, value):
    auth.login(STAFF)
    before = count(ContributionRate)
    data = {"year": paris_today().year + 1, "kind": "cotisation", "rate_percent": value, "deliberation_ref": "D-1"}
    response = auth.post("/cotisations", data)
    assert response.status_code == 422
    page = text(response)
    assert "Saisissez un nombre en chiffres, par exemple 12,5." in page
    assert f'value="{value}"' in page  # what was typed stays in the field
    assert count(ContributionRate) == before


@pytest.mark.parametrize("value", NOT_NUMBERS)
def test_a_payroll_must_be_written_in_digits(client, auth, world, value):
    auth.login(STAFF)
    url = f"/collectivites/{world['commune']}/releve/{paris_today().year}"
    response = auth.post(url, {"year": paris_today().year, "amount": value})
    assert response.status_code == 422
    assert "Saisissez un nombre en chiffres, par exemple 12,5." in text(response)
    assert count(PayrollDeclaration) == 0


def test_money_is_refused_beyond_its_column_or_its_cents(client, auth, world):
    auth.login(STAFF)
    url = f"/collectivites/{world['commune']}/releve/{paris_today().year}"
    too_precise = auth.post(url, {"year": paris_today().year, "amount": "250000,001"})
    assert too_precise.status_code == 422 and "Au plus 2 chiffres après la virgule." in text(too_precise)
    accepted = auth.post(url, {"year": paris_today().year, "amount": "250 000,50"})
    assert accepted.status_code == 302
    assert db.session.scalar(select(PayrollDeclaration.amount)) == pytest.approx(250000.50)

    service = world["catalogue"]["gestion-personnels"]
    page = f"/catalogue/{service.id}"
    tariff = {
        "tarif-year": paris_today().year + 1,
        "tarif-deliberation_ref": "D-2",
        "tarif-deliberation_date": paris_today().isoformat(),
        "tarif-submit_tariff": "y",
    }
    before = count(Tariff)
    for huge in ("1e30", "100000000", "123456789012"):  # Numeric(12, 4): 8 digits before the point
        response = auth.post(page, {**tariff, "tarif-unit_amount": huge})
        assert response.status_code == 422, huge
        assert "Nombre trop grand : au plus 8 chiffres avant la virgule." in text(response) or huge == "1e30"
    assert count(Tariff) == before
    assert auth.post(page, {**tariff, "tarif-unit_amount": "99999999,9999"}).status_code == 302


@pytest.mark.parametrize("value", ["\u0663", "\uff13", "3e0", "1_0", "3.0", "2147483648"])
def test_a_headcount_is_counted_in_digits(client, auth, world, value):
    auth.login(SECRETARY)
    commune = world["commune"]
    counts = {"titulaires_temps_complet": value, "titulaires_temps_non_complet": "0", "contractuels": "0"}
    response = auth.post(
        f"/collectivites/{commune}/effectifs", {"year": paris_today().year, **counts}, f"/collectivites/{commune}"
    )
    assert response.status_code == 422
    page = text(response)
    assert "Saisissez un nombre entier en chiffres" in page or "Nombre trop grand" in page
    assert count(HeadcountDeclaration) == 1  # the one of the fixture


@pytest.mark.parametrize("value", ["\uff11\uff12", "NaN", "Infinity", "1e-30"])
def test_a_training_budget_is_written_in_digits(client, auth, world, value):
    auth.login(SECRETARY)
    url = f"/collectivites/{world['commune']}/formations"
    response = auth.post(url, {"year": paris_today().year, "amount": value})
    assert response.status_code == 422
    assert "Saisissez un nombre en chiffres" in text(response)
    assert count(TrainingBudget) == 0


# Item 1: dates ---------------------------------------------------------------------------------------


def range_message() -> str:
    return f"La date doit être comprise entre le 1er janvier 1950 et le 31 décembre {paris_today().year + 50}."


@pytest.mark.parametrize("day", ["9999-03-12", "0001-03-12"])
def test_a_session_in_year_9999_or_year_1_is_refused_with_the_range(client, auth, world, day):
    auth.login(STAFF)
    before = count(TrainingSession)
    data = {
        "training_id": str(world["training"]),
        "starts_at": f"{day}T09:00",
        "ends_at": f"{day}T17:00",
        "registration_deadline": f"{day}T08:00",
        "capacity": "12",
        "place": "Agen",
        "published": "y",
    }
    response = auth.post("/formations/sessions/nouvelle", data)
    assert response.status_code == 422
    assert range_message() in text(response)
    assert count(TrainingSession) == before


@pytest.mark.parametrize("field", ["signed_on", "start_date", "end_date"])
def test_a_convention_dated_year_1_or_9999_is_refused_with_the_range(client, auth, world, field):
    auth.login(STAFF)
    partners = world["partners"]
    data = {
        "title": "Convention de test",
        "kind": "partenariat",
        "signed_on": "2024-01-10",
        "start_date": "2024-02-01",
        "end_date": "2026-01-31",
        "parties-0-partner": str(partners[0]),
        "parties-1-partner": str(partners[1]),
        "axes-0-title": "Formation",
    }
    for day in ("0001-01-01", "9999-12-31"):
        response = auth.post("/conventions/nouvelle", {**data, field: day})
        assert response.status_code == 422, (field, day)
        assert range_message() in text(response)
    assert count(Convention) == 0


def test_a_subscription_starting_on_31_december_9999_is_refused_with_the_range(client, auth, world):
    auth.login(SECRETARY)
    url = f"/collectivites/{world['commune']}/services/gestion-personnels/demande"
    response = auth.post(url, {"start_date": "9999-12-31", "agents": "3"})
    assert response.status_code == 422 and range_message() in text(response)
    assert count(Subscription) == 0
    accepted = auth.post(url, {"start_date": (paris_today() + timedelta(days=20)).isoformat(), "agents": "3"})
    assert accepted.status_code == 302


def test_an_agrement_at_the_edges_of_the_range(client, auth, world):
    auth.login(STAFF)
    data = {
        "name": "Institut des élus",
        "agrement_number": "AGR-1",
        "agrement_from": "2024-01-01",
        "agrement_until": f"{paris_today().year + 51}-01-01",
    }
    response = auth.post("/formations/organismes/nouveau", data)
    assert response.status_code == 422 and range_message() in text(response)
    last_day = date(paris_today().year + 50, 12, 31).isoformat()  # the last date of the range is accepted
    accepted = auth.post("/formations/organismes/nouveau", {**data, "agrement_until": last_day})
    assert accepted.status_code == 302


# Item 2: length of free text and control characters ----------------------------------------------------


def declare_headcount(auth, commune: int, comment: str):
    counts = {"titulaires_temps_complet": "5", "titulaires_temps_non_complet": "0", "contractuels": "0"}
    return auth.post(
        f"/collectivites/{commune}/effectifs",
        {"year": paris_today().year, **counts, "comment": comment},
        f"/collectivites/{commune}",
    )


def test_a_comment_longer_than_its_column_is_refused_and_kept_in_the_form(client, auth, world):
    auth.login(SECRETARY)
    comment = "Agents du CCAS compris. " * 417  # 10 008 characters for a 500-character column
    response = declare_headcount(auth, world["commune"], comment)
    assert response.status_code == 422
    page = text(response)
    assert "Le champ ne peut pas contenir plus de 500 caractères." in page
    assert comment.strip() in page  # what was typed is still there, to be shortened
    assert count(HeadcountDeclaration) == 1
    assert declare_headcount(auth, world["commune"], comment[:500]).status_code == 302


def test_control_characters_are_removed_from_text_on_both_databases(client, auth, world):
    """PostgreSQL refuses NUL in text (a 500 before the fix); SQLite stored it. Either way it must not reach the
    database: the forms remove it, and the other C0 controls, keeping tab and line breaks."""
    auth.login(SECRETARY)
    response = declare_headcount(auth, world["commune"], "Agents\x00 du CCAS\x1b compris\r\nà compter de mars\x07")
    assert response.status_code == 302
    stored = db.session.scalar(select(HeadcountDeclaration.comment).where(HeadcountDeclaration.comment.is_not(None)))
    assert stored == "Agents du CCAS compris\r\nà compter de mars"


@pytest.mark.parametrize(
    "url",
    [
        "/collectivites?q=Sauva%00gnas",
        "/formations/sessions/{session}?elus_de=%00",
    ],
)
def test_a_nul_in_a_search_is_not_a_server_error(client, auth, world, url):
    """A search reaches the database as a bound parameter: PostgreSQL refused the NUL (500); on SQLite the
    registry's search found nothing."""
    session = factories.training_session(factories.training(title="Autre formation"))
    db.session.commit()
    auth.login(STAFF)
    response = client.get(url.format(session=session.id))
    assert response.status_code == 200
    if url.startswith("/collectivites"):
        assert "Sauvagnas" in text(response)  # the NUL is removed, the search still finds the commune
