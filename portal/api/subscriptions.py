"""Subscriptions: the list and a subscription's detail (staff: all; a secretary: her collectivités'), and the
request of a subscription by a collectivité, through the same service as the web form."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy import select

from portal.api.collectivites import EpciRef as CollectiviteRef
from portal.api.paging import envelope, rows
from portal.api.problems import ApiProblem
from portal.api.schemas import PageModel, PageQuery, PortalDate, RequestModel, ResponseModel
from portal.api.spec import operation
from portal.catalogue.models import Service
from portal.common.errors import DomainError
from portal.extensions import db
from portal.registry.visibility import get_managed_collectivite_or_404
from portal.subscriptions import services
from portal.subscriptions.models import Subscription
from portal.subscriptions.rules import State

TAG = "Services et abonnements"
STATES = tuple(s.value for s in State)


class SubscriptionQuery(PageQuery):
    etat: Literal[STATES + (services.TO_PROCESS,)] | None = Field(
        None, description="État ; « a_traiter » : demandes et demandes d'informations en attente."
    )


class ServiceRef(ResponseModel):
    code: str
    nom: str


class SubscriptionSummary(ResponseModel):
    id: int
    collectivite: CollectiviteRef
    service: ServiceRef
    etat: str
    etat_libelle: str
    demandee_le: datetime
    date_debut: date | None
    date_fin: date | None


class SubscriptionPage(PageModel):
    items: list[SubscriptionSummary]


class SchoolModel(ResponseModel):
    uai: str
    nom: str
    classes: int
    eleves: int


class EventModel(ResponseModel):
    action: str
    etat_avant: str | None
    etat_apres: str
    commentaire: str | None
    le: datetime


class SubscriptionDetail(SubscriptionSummary):
    quantites: dict[str, int]
    message: str | None
    message_cdg: str | None
    fin_demandee_le: date | None
    ecoles: list[SchoolModel]
    historique: list[EventModel]


Quantity = Annotated[int, Field(strict=True, ge=0, le=services.MAX_QUANTITY)]


class SchoolInput(RequestModel):
    uai: str = Field(min_length=1, max_length=8, description="Code UAI : 7 chiffres et une lettre.")
    nom: str = Field(min_length=1, max_length=200)
    classes: int = Field(strict=True, ge=1, le=services.MAX_CLASSES_PER_SCHOOL)
    eleves: int = Field(strict=True, ge=0, le=services.MAX_PUPILS_PER_SCHOOL)
    directeur: str | None = Field(None, max_length=200)


class SubscriptionRequest(RequestModel):
    service: str = Field(min_length=1, max_length=40, description="Code du service demandé (voir /services).")
    date_debut: PortalDate = Field(description="Date de début souhaitée (AAAA-MM-JJ), aujourd'hui ou plus tard.")
    quantites: dict[Literal["agents", "pupils", "hours", "days"], Quantity] = Field(
        default_factory=dict, description="Quantités demandées par le service (champs_demande)."
    )
    message: str | None = Field(None, max_length=2000)
    ecoles: list[SchoolInput] = Field(default_factory=list, max_length=200, description="Écoles (service ENT).")


def summary_fields(subscription: Subscription) -> dict:
    return {
        "id": subscription.id,
        "collectivite": CollectiviteRef(id=subscription.collectivite.id, nom=subscription.collectivite.name),
        "service": ServiceRef(code=subscription.service.code, nom=subscription.service.name),
        "etat": subscription.state,
        "etat_libelle": subscription.state_label,
        "demandee_le": subscription.requested_at,
        "date_debut": subscription.start_date,
        "date_fin": subscription.end_date,
    }


def detail(subscription: Subscription) -> SubscriptionDetail:
    details = subscription.details or {}
    return SubscriptionDetail(
        **summary_fields(subscription),
        quantites={k: int(v) for k, v in (details.get("quantities") or {}).items()},
        message=details.get("message"),
        message_cdg=subscription.staff_message,
        fin_demandee_le=subscription.end_requested_on,
        ecoles=[SchoolModel(uai=s.uai, nom=s.name, classes=s.classes, eleves=s.pupils) for s in subscription.schools],
        historique=[
            EventModel(
                action=e.action, etat_avant=e.from_state, etat_apres=e.to_state, commentaire=e.comment, le=e.occurred_at
            )
            for e in subscription.events
        ],
    )


def _reader_required(user) -> None:
    if not (user.is_staff or user.is_secretary):
        raise ApiProblem(403, "Les demandes et abonnements sont réservés au CDG et aux secrétaires des collectivités.")


@operation(
    "GET",
    "/abonnements",
    summary="Lister les demandes et abonnements",
    tag=TAG,
    query=SubscriptionQuery,
    response=SubscriptionPage,
    errors=(403,),
    description="Du plus récent au plus ancien ; le CDG voit tout, une secrétaire ceux de ses collectivités.",
)
def list_subscriptions(user, query: SubscriptionQuery):
    _reader_required(user)
    page = rows(services.visible_statement(user, query.etat or ""), query)
    return SubscriptionPage(items=[SubscriptionSummary(**summary_fields(s)) for s in page.items], **envelope(page))


@operation(
    "GET",
    "/abonnements/<int:subscription_id>",
    summary="Détail d'une demande ou d'un abonnement",
    tag=TAG,
    response=SubscriptionDetail,
)
def get_subscription(user, subscription_id: int):
    subscription = services.get_visible(user, subscription_id)
    if subscription is None:
        raise ApiProblem(404)
    return detail(subscription)


@operation(
    "POST",
    "/collectivites/<int:collectivite_id>/abonnements",
    summary="Demander l'adhésion à un service",
    tag=TAG,
    body=SubscriptionRequest,
    response=SubscriptionDetail,
    status=201,
    write=True,
    errors=(409,),
    description="Par la secrétaire de la collectivité ou par le CDG. 409 si une demande ou un abonnement est "
    "déjà en cours pour ce service.",
)
def request_subscription(user, collectivite_id: int, body: SubscriptionRequest):
    collectivite = get_managed_collectivite_or_404(user, collectivite_id)
    service = db.session.scalar(select(Service).where(Service.code == body.service))
    if service is None:
        raise ApiProblem(422, errors=[{"pointer": "/service", "detail": "Aucun service ne porte ce code."}])
    existing = services.open_subscriptions(collectivite.id).get(service.id)
    if existing is not None:
        raise ApiProblem(
            409,
            f"{collectivite.name} a déjà une demande ou un abonnement en cours pour ce service "
            f"(n° {existing.id}, état : {existing.state_label.lower()}).",
        )
    data = services.RequestInput(
        start_date=body.date_debut,
        quantities=dict(body.quantites),
        message=body.message,
        schools=[
            services.SchoolInput(uai=s.uai, name=s.nom, classes=s.classes, pupils=s.eleves, director=s.directeur)
            for s in body.ecoles
        ],
    )
    try:
        subscription = services.request_subscription(collectivite, service, data, user)
    except DomainError as exc:
        db.session.rollback()
        pointer = {"start_date": "/date_debut", "schools": "/ecoles"}.get(exc.field or "", "")
        if not pointer and exc.field:
            pointer = f"/quantites/{exc.field}"
        raise ApiProblem(422, errors=[{"pointer": pointer, "detail": exc.message}]) from None
    db.session.commit()
    return detail(subscription)
