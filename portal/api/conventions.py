"""Partner conventions: the list with the filters of the web page, and a convention's detail.

Readers as on the web: staff see every convention, a secretary those of her collectivités, an elected
official none (403). The same queries: ``conventions.services.search`` and ``get_visible``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from portal.api.paging import envelope, of_list
from portal.api.problems import ApiProblem
from portal.api.schemas import PageModel, PageQuery, ResponseModel
from portal.api.spec import operation
from portal.common.clock import paris_today
from portal.common.routing import MAX_ID
from portal.conventions import rules, services

TAG = "Conventions"
KINDS = tuple(k.value for k in rules.Kind)
STATES = tuple(s.value for s in rules.State)


class ConventionQuery(PageQuery):
    q: str = Field("", max_length=100, description="Texte cherché dans le titre, l'objet et les partenaires.")
    partenaire: int | None = Field(None, ge=1, le=MAX_ID, description="Identifiant d'un partenaire.")
    type: Literal[KINDS] | None = None
    etat: Literal[STATES] | None = None
    echeance: int | None = Field(None, ge=0, le=3650, description="Échéance dans les N jours.")


class ConventionSummary(ResponseModel):
    id: int
    titre: str
    type: str
    type_libelle: str
    etat: str
    etat_libelle: str
    signee_le: date | None
    date_debut: date | None
    fin_periode_en_cours: date | None
    jours_restants: int | None
    partenaires: list[str]


class ConventionPage(PageModel):
    items: list[ConventionSummary]


class PartyModel(ResponseModel):
    partenaire: str
    representant: str | None
    deliberation: str | None


class SignatoryModel(ResponseModel):
    nom: str
    qualite: str | None


class AxisModel(ResponseModel):
    numero: int
    titre: str
    description: str | None


class ConventionDetail(ConventionSummary):
    objet: str | None
    date_fin: date | None
    duree_mois: int | None
    reconduction_tacite: bool
    preavis_mois: int | None
    resiliee_le: date | None
    deliberations: str | None
    suivi: str | None
    convention_cadre_id: int | None
    parties: list[PartyModel]
    signataires: list[SignatoryModel]
    axes: list[AxisModel]


def summary_fields(row: services.Row) -> dict:
    convention = row.convention
    return {
        "id": convention.id,
        "titre": convention.title,
        "type": convention.kind,
        "type_libelle": convention.kind_label,
        "etat": str(row.state),
        "etat_libelle": row.state_label,
        "signee_le": convention.signed_on,
        "date_debut": convention.start_date,
        "fin_periode_en_cours": row.term_end,
        "jours_restants": row.days_left,
        "partenaires": [p.partner.name for p in convention.parties],
    }


def _reader_required(user) -> None:
    if not (user.is_staff or user.is_secretary):
        raise ApiProblem(403, "Les conventions sont réservées au CDG et aux secrétaires des collectivités partenaires.")


@operation(
    "GET",
    "/conventions",
    summary="Lister les conventions",
    tag=TAG,
    query=ConventionQuery,
    response=ConventionPage,
    errors=(403,),
)
def list_conventions(user, query: ConventionQuery):
    _reader_required(user)
    filters = services.Filters(
        q=query.q or None,
        partner_id=query.partenaire,
        kind=query.type,
        state=query.etat,
        expiring_within=query.echeance,
    )
    page = of_list(services.search(user, filters), query)
    return ConventionPage(items=[ConventionSummary(**summary_fields(r)) for r in page.items], **envelope(page))


@operation(
    "GET",
    "/conventions/<int:convention_id>",
    summary="Détail d'une convention",
    tag=TAG,
    response=ConventionDetail,
    errors=(403,),
)
def get_convention(user, convention_id: int):
    _reader_required(user)
    convention = services.get_visible(user, convention_id)
    if convention is None:
        raise ApiProblem(404)
    row = services.rows(convention, paris_today())
    return ConventionDetail(
        **summary_fields(row),
        objet=convention.object,
        date_fin=convention.end_date,
        duree_mois=convention.duration_months,
        reconduction_tacite=bool(convention.tacit_renewal),
        preavis_mois=convention.notice_months,
        resiliee_le=convention.terminated_on,
        deliberations=convention.deliberation_refs,
        suivi=convention.follow_up,
        convention_cadre_id=convention.parent_id,
        parties=[
            PartyModel(partenaire=p.partner.name, representant=p.representative, deliberation=p.deliberation_ref)
            for p in convention.parties
        ],
        signataires=[SignatoryModel(nom=s.name, qualite=s.role) for s in convention.signatories],
        axes=[AxisModel(numero=a.position, titre=a.title, description=a.description) for a in convention.axes],
    )
