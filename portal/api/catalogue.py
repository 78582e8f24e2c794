"""The catalogue of the CDG's services (active services), for any authenticated caller."""

from __future__ import annotations

from pydantic import Field
from sqlalchemy import select

from portal.api.schemas import ResponseModel
from portal.api.spec import operation
from portal.catalogue.models import Service
from portal.extensions import db

TAG = "Services et abonnements"


class ServiceModel(ResponseModel):
    code: str
    nom: str
    description: str
    groupe: str
    groupe_libelle: str
    eligibilite: str
    eligibilite_libelle: str
    modele_tarifaire: str
    modele_tarifaire_libelle: str
    sur_demande: bool = Field(description="Faux pour les missions obligatoires, comprises dans l'affiliation.")
    champs_demande: list[str] = Field(description="Quantités à indiquer dans une demande d'adhésion.")


class ServiceList(ResponseModel):
    items: list[ServiceModel]


def service_model(service: Service) -> ServiceModel:
    return ServiceModel(
        code=service.code,
        nom=service.name,
        description=service.description,
        groupe=service.group,
        groupe_libelle=service.group_label,
        eligibilite=service.eligibility,
        eligibilite_libelle=service.eligibility_label,
        modele_tarifaire=service.tariff_model,
        modele_tarifaire_libelle=service.tariff_label,
        sur_demande=service.subscribable,
        champs_demande=list(service.request_fields or []),
    )


@operation("GET", "/services", summary="Catalogue des services", tag=TAG, response=ServiceList)
def list_services(user):
    services = db.session.scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.position, Service.id)
    )
    return ServiceList(items=[service_model(s) for s in services])
