"""Rates (with their legal caps), payrolls, a body's statement (HTML and PDF) and the year's CSV."""

import csv
import html
import io
import re
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from portal.catalogue.models import ContributionRate
from portal.common.clock import PARIS
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.statements import services as statements
from portal.subscriptions import rules as subscription_rules
from portal.subscriptions import services as subscriptions
from tests import factories

# The amounts below are computed by hand for one calendar (a socle commun that starts on
# 1 December of a 365-day year), so this module lives on 15 November 2026, whatever the suite's date.
Y = 2026


@pytest.fixture(autouse=True)
def _mid_november():
    with time_machine.travel(datetime(Y, 11, 15, 12, 0, tzinfo=PARIS), tick=True):
        yield


@pytest.fixture
def world(app):
    catalogue = {s.code: s for s in load_catalogue(Y)}  # rates of Y: 0.80 % and 0.20 %
    staff = factories.user("staff", email="staff@cdg47.fr")
    a = factories.collectivite("Sauvagnas")
    b = factories.collectivite("Pujols")
    big = factories.collectivite("Agen")
    factories.declare(a, Y - 1, 4)
    factories.declare(b, Y - 1, 20)
    factories.declare(big, Y - 1, 420)
    factories.user("secretary", email="sec.a@mairie.fr", collectivites=[a])
    factories.user("secretary", email="sec.b@mairie.fr", collectivites=[b])
    statements.set_payroll(a, Y, "250000", staff)
    statements.set_payroll(a, Y - 1, "240000", staff)
    statements.set_payroll(big, Y, "12000000", staff)
    db.session.add(ContributionRate(year=Y - 1, kind="cotisation", rate_percent=Decimal("0.75"), deliberation_ref="D"))
    subscription = subscriptions.request_subscription(
        a,
        catalogue["gestion-personnels"],
        subscriptions.RequestInput(start_date=date(Y, 11, 15), quantities={"agents": 6}),
        staff,
    )
    subscriptions.transition(subscription, subscription_rules.Action.VALIDATE, staff)
    prevention = subscriptions.request_subscription(
        a,
        catalogue["medecine-preventive"],
        subscriptions.RequestInput(start_date=date(Y, 11, 15), quantities={"agents": 6}),
        staff,
    )
    subscriptions.transition(prevention, subscription_rules.Action.VALIDATE, staff)
    socle = subscriptions.request_subscription(
        big, catalogue["socle-commun"], subscriptions.RequestInput(start_date=date(Y, 12, 1)), staff
    )
    subscriptions.transition(socle, subscription_rules.Action.VALIDATE, staff)
    db.session.commit()
    return {"a": a, "b": b, "big": big}


def test_statements_in_bulk(world):
    by_name = {s.name: s.statement for s in statements.statements_for(Y)}
    sauvagnas = by_name["Sauvagnas"]
    assert sauvagnas.total_of("cotisation") == Decimal("2000.00")  # 250 000 × 0.8 %, affiliated since 1 January Y-1
    assert [i.amount for i in sauvagnas.instalments] == [Decimal("600.00"), Decimal("1400.00")]  # ⅓ of 1 800
    assert sauvagnas.total_of("service") > 0
    prevention = next(line for line in sauvagnas.lines if line.label == "Médecine préventive")
    assert prevention.amount is not None and prevention.amount > 0  # 0.33 % of the declared payroll, pro rata
    assert not any("Médecine préventive" in warning for warning in sauvagnas.warnings)
    agen = by_name["Agen"]
    assert agen.total_of("cotisation") == 0
    assert agen.total_of("socle") == Decimal("2038.36")  # 24 000 × 31 / 365
    assert any("non déclarée" in w for w in by_name["Pujols"].warnings)


def test_rate_above_the_cap_is_refused_in_french(client, auth, world):
    auth.login("staff@cdg47.fr")
    refused = auth.post(
        "/cotisations",
        {
            "year": Y + 1,
            "kind": "cotisation",
            "rate_percent": "0,85",
            "deliberation_ref": "Délibération 2026-50",
            "deliberation_date": f"{Y}-11-12",
        },
    )
    assert refused.status_code == 422
    assert "ne peut pas dépasser 0,8\u202f% de la masse salariale" in refused.get_data(as_text=True)
    accepted = auth.post(
        "/cotisations",
        {
            "year": Y + 1,
            "kind": "cotisation",
            "rate_percent": "0,8",
            "deliberation_ref": "Délibération 2026-50",
            "deliberation_date": f"{Y}-11-12",
        },
    )
    assert accepted.status_code == 302
    rate = db.session.scalar(select(ContributionRate).where(ContributionRate.year == Y + 1))
    assert rate.rate_percent == Decimal("0.8") and rate.deliberation_date == date(Y, 11, 12)
    page = " ".join(html.unescape(client.get("/cotisations").get_data(as_text=True)).split())
    assert "Délibération 2026-50 du 12 novembre 2026" in page


def test_a_rate_voted_after_30_november_is_refused_for_next_year(client, auth, world):
    auth.login("staff@cdg47.fr")
    data = {"year": Y, "kind": "cotisation", "rate_percent": "0,7", "deliberation_ref": "Délibération 2026-51"}
    before = db.session.scalar(select(ContributionRate.rate_percent).where(ContributionRate.year == Y))
    refused = auth.post("/cotisations", {**data, "deliberation_date": f"{Y}-03-10"})
    assert refused.status_code == 422
    page = " ".join(html.unescape(refused.get_data(as_text=True)).split())
    assert (
        "Une délibération du 10 mars 2026 ne peut pas fixer le taux de cotisation de 2026 : il doit être voté au plus "
        "tard le 30 novembre 2025. Ce taux peut s'appliquer au plus tôt en 2027." in page
    )
    missing = auth.post("/cotisations", data)
    assert missing.status_code == 422 and "Indiquez la date de la délibération." in missing.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(ContributionRate.rate_percent).where(ContributionRate.year == Y)) == before


def test_statement_page_pdf_and_payroll_form(client, auth, world):
    a = world["a"]
    auth.login("staff@cdg47.fr")
    url = f"/collectivites/{a.id}/releve/{Y}"
    html = client.get(url).get_data(as_text=True)
    assert "Cotisation obligatoire" in html and "Échéancier de la cotisation" in html
    bad = auth.post(url, {"year": Y, "amount": "beaucoup"})
    assert bad.status_code == 422 and "Saisissez un nombre en chiffres" in bad.get_data(as_text=True)
    good = auth.post(url, {"year": Y, "amount": "300 000,00"})
    assert good.status_code == 302
    pdf = client.get(f"{url}.pdf")
    assert pdf.status_code == 200
    text = " ".join(
        "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
        .replace("\u202f", " ")
        .replace("\xa0", " ")
        .split()
    )
    assert f"Relevé {Y} : Sauvagnas" in text
    deliberation = "Délibération fictive n° 2025-DEMO-90 du conseil d'administration du 25 novembre 2025"
    assert f"300 000,00 € × 0,8 % (année entière) — {deliberation} 2 400,00 €" in text


def test_year_csv_is_streamed_for_staff_only(client, auth, world):
    auth.login("sec.a@mairie.fr")
    assert client.get(f"/cotisations/{Y}/releves.csv").status_code == 403
    assert client.get(f"/collectivites/{world['b'].id}/releve/{Y}").status_code == 404
    assert client.get(f"/collectivites/{world['a'].id}/releve/{Y}").status_code == 200
    auth.logout()
    auth.login("staff@cdg47.fr")
    response = client.get(f"/cotisations/{Y}/releves.csv")
    assert response.status_code == 200 and response.is_streamed
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    by_name = {r["Collectivité"]: r for r in rows}
    # For people: French headers, the type's name, decimal commas and dates as a French spreadsheet shows them.
    sauvagnas = by_name["Sauvagnas"]
    assert sauvagnas["Type"] == "Commune" and sauvagnas["Cotisation obligatoire (€)"] == "2000,00"
    assert sauvagnas["Acompte (€)"] == "600,00" and re.fullmatch(r"\d\d/\d\d/\d{4}", sauvagnas["Échéance du solde"])
    assert by_name["Agen"]["Socle commun (€)"] == "2038,36"
