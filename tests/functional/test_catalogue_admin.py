"""Staff manage the catalogue: services, yearly tariffs with their délibération; bad input refused in French."""

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.catalogue.models import Service
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from tests import factories

Y = factories.THIS_YEAR


def service_form(**overrides):
    data = {
        "code": "paie-externalisee",
        "name": "Paie externalisée",
        "description": "Calcul de la paie.",
        "group": "facultative",
        "eligibility": "any",
        "tariff_model": "per_agent",
        "request_fields": ["agents"],
        "requires_validation": "y",
        "notice_months": "3",
        "position": "50",
        "active": "y",
        "submit": "1",
    }
    data.update(overrides)
    return data


def test_staff_create_a_service_and_vote_its_tariff(app, client, auth):
    load_catalogue(Y)
    factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    auth.login("staff@cdg47.fr")
    assert "ENT des écoles" in client.get("/catalogue/").get_data(as_text=True)
    clash = auth.post("/catalogue/nouveau", service_form(code="ent-ecoles"))
    assert clash.status_code == 422 and "déjà utilisé" in clash.get_data(as_text=True)
    wrong = auth.post("/catalogue/nouveau", service_form(group="obligatoire"))
    assert wrong.status_code == 422 and "comprises dans la cotisation" in wrong.get_data(as_text=True)
    created = auth.post("/catalogue/nouveau", service_form())
    assert created.status_code == 302
    service = db.session.scalar(select(Service).where(Service.code == "paie-externalisee"))
    assert service.request_fields == ["agents"] and service.active

    url = f"/catalogue/{service.id}"
    tariff = {
        "tarif-year": str(Y + 1),
        "tarif-unit_amount": "42,50",
        "tarif-deliberation_ref": "Délibération 2026-77",
        "tarif-deliberation_date": date.today().isoformat(),
        "tarif-submit_tariff": "1",
    }
    negative = auth.post(url, {**tariff, "tarif-unit_amount": "-3"})
    assert negative.status_code == 422 and "positif ou nul" in negative.get_data(as_text=True)
    assert auth.post(url, tariff).status_code == 302
    db.session.refresh(service)
    assert service.tariff_for(Y + 1).unit_amount == Decimal("42.5")
    assert "Tarif" in client.get("/journal").get_data(as_text=True)


def test_catalogue_management_is_staff_only(app, client, auth):
    load_catalogue(Y)
    commune = factories.collectivite()
    factories.user("secretary", email="sec@mairie.fr", collectivites=[commune])
    db.session.commit()
    auth.login("sec@mairie.fr")
    service_id = db.session.scalar(select(Service.id))
    for url in ("/catalogue/", "/catalogue/nouveau", f"/catalogue/{service_id}", "/cotisations"):
        assert client.get(url).status_code == 403, url
