"""Collectivités: the filtered list, a body's detail (headcounts, status, history), headcount declarations.

The same queries and authorisation as the registry pages: ``list_collectivites``'s filters,
``get_visible_collectivite_or_404`` and ``can_manage_collectivite``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field
from sqlalchemy.orm import joinedload

from portal.affiliation import services as affiliation
from portal.affiliation.rules import status_label
from portal.api.paging import envelope, past_the_end
from portal.api.problems import ApiProblem
from portal.api.schemas import DeclarableYear, PageModel, PageQuery, RequestModel, ResponseModel
from portal.api.spec import operation, raw_json_response
from portal.common import page_cache
from portal.common.auth import Role
from portal.common.clock import paris_today
from portal.common.errors import DomainError
from portal.common.routing import MAX_ID
from portal.extensions import db
from portal.registry import services as registry
from portal.registry.kinds import Kind, label
from portal.registry.models import Collectivite
from portal.registry.visibility import can_manage_collectivite, get_visible_collectivite_or_404

TAG = "Collectivités"
KINDS = tuple(k.value for k in Kind)
StatusFilter = Literal["obligatoire", "volontaire", "non_affiliee", "aucun"]
Count = Annotated[int, Field(strict=True, ge=0, le=100_000)]


class CollectiviteQuery(PageQuery):
    q: str = Field("", max_length=100, description="Nom, code INSEE, SIREN ou code postal.")
    departement: str | None = Field(
        None, pattern=r"^(\d{2,3}|2[AB])$", description="Code INSEE du département (47, 2A, 971…)."
    )
    type: Literal[KINDS + ("epci",)] | None = Field(
        None, description="Type de collectivité ; « epci » : tous les EPCI."
    )
    epci: int | None = Field(
        None, ge=1, le=MAX_ID, description="Identifiant de l'EPCI dont la collectivité est membre."
    )
    statut: StatusFilter | None = Field(
        None, description="Statut d'affiliation en vigueur ; « aucun » : non déterminé."
    )


class EpciRef(ResponseModel):
    id: int
    nom: str


class CollectiviteSummary(ResponseModel):
    id: int
    nom: str
    type: str = Field(description="Type (commune, cc, ca, cu, metropole, ccas, caisse_ecoles, syndicat…).")
    type_libelle: str
    code_insee: str | None
    siren: str | None
    departement: str | None
    population: int | None
    epci: EpciRef | None
    statut_affiliation: str | None = Field(description="obligatoire, volontaire, non_affiliee, ou null.")
    statut_libelle: str


class CollectivitePage(PageModel):
    items: list[CollectiviteSummary]


class Declaration(ResponseModel):
    id: int
    annee: int
    titulaires_temps_complet: int
    titulaires_temps_non_complet: int
    contractuels: int
    declaree_le: datetime
    synthetique: bool = Field(description="Chiffres fictifs de démonstration.")
    commentaire: str | None


class StatusEvaluation(ResponseModel):
    annee: int
    statut: str
    libelle: str
    effectif_compte: int | None = Field(description="Titulaires et stagiaires à temps complet comptés pour le seuil.")
    explication: str
    base_legale: str


class StatusChange(ResponseModel):
    statut: str
    libelle: str
    date_effet: date
    explication: str
    deliberation: str | None


class CollectiviteDetail(CollectiviteSummary):
    postal_codes: list[str]
    rattachee_a: EpciRef | None = Field(description="Commune de rattachement d'un CCAS ou d'une caisse des écoles.")
    statut_calcule: StatusEvaluation = Field(description="Statut que donnent la loi et les déclarations en vigueur.")
    historique: list[StatusChange] = Field(description="Historique des statuts, le plus récent d'abord.")
    declarations: list[Declaration] = Field(description="Déclarations d'effectifs, la plus récente d'abord.")


class DeclarationList(ResponseModel):
    items: list[Declaration]


class DeclarationInput(RequestModel):
    annee: DeclarableYear = Field(description="Année déclarée (jusqu'à l'année prochaine).")
    titulaires_temps_complet: Count
    titulaires_temps_non_complet: Count = 0
    contractuels: Count = 0
    commentaire: str | None = Field(None, max_length=500)


def _ref(body: Collectivite | None) -> EpciRef | None:
    return EpciRef(id=body.id, nom=body.name) if body is not None else None


def summary_fields(source, epci: dict | None) -> dict:
    """The list fields of a collectivité, from an ORM object (detail) or a plain row of
    :func:`portal.registry.services.summary_rows` (list): both have the same column names."""
    return {
        "id": source.id,
        "nom": source.name,
        "type": source.kind,
        "type_libelle": label(source.kind),
        "code_insee": source.insee_code,
        "siren": source.siren,
        "departement": source.departement_code,
        "population": source.population,
        "epci": epci,
        "statut_affiliation": source.affiliation_status,
        "statut_libelle": status_label(source.affiliation_status),
    }


def _epci(epci_id: int | None, name: str | None) -> dict | None:
    return {"id": epci_id, "nom": name} if epci_id is not None else None


def declaration_model(declaration) -> Declaration:
    return Declaration(
        id=declaration.id,
        annee=declaration.year,
        titulaires_temps_complet=declaration.titulaires_temps_complet,
        titulaires_temps_non_complet=declaration.titulaires_temps_non_complet,
        contractuels=declaration.contractuels,
        declaree_le=declaration.declared_at,
        synthetique=declaration.is_synthetic,
        commentaire=declaration.comment,
    )


def filters_from(query: CollectiviteQuery) -> registry.ListFilters:
    return registry.ListFilters(
        q=query.q,
        kind=query.type or "",
        epci_id=query.epci,
        status=query.statut or "",
        departement=(query.departement or "").upper(),
        page=query.page,
    )


@operation(
    "GET",
    "/collectivites",
    summary="Lister les collectivités",
    tag=TAG,
    query=CollectiviteQuery,
    response=CollectivitePage,
    description="Les collectivités visibles par l'appelant (toutes pour le CDG ; les siennes pour une secrétaire "
    "ou un élu), triées par nom puis identifiant.",
)
def list_collectivites(user, query: CollectiviteQuery):
    if user.role == Role.STAFF:  # staff read the same list: kept under the registry's version (page_cache)
        return raw_json_response(page_cache.cached("api.collectivites", "staff", lambda: _list(user, query)))
    return raw_json_response(_list(user, query))


def _list(user, query: CollectiviteQuery) -> dict:
    filters = filters_from(query)
    page = past_the_end(registry.list_collectivites(user, filters, query.per_page), query)
    items = [summary_fields(row, _epci(row.epci_id, row.epci_name)) for row in page.items]
    return {"items": items, **envelope(page)}


@operation(
    "GET",
    "/collectivites/<int:collectivite_id>",
    summary="Détail d'une collectivité",
    tag=TAG,
    response=CollectiviteDetail,
)
def get_collectivite(user, collectivite_id: int):
    # As the web page: the body with its EPCI and commune, then body_facts (attached bodies, the declarations of the
    # bodies sharing its headcount, its history) — four queries, each row read once.
    body = get_visible_collectivite_or_404(
        user, collectivite_id, joinedload(Collectivite.epci), joinedload(Collectivite.parent)
    )
    year = paris_today().year
    facts = affiliation.body_facts(body, year)
    result = facts.evaluation.result
    return CollectiviteDetail(
        **summary_fields(body, _epci(body.epci_id, body.epci.name if body.epci else None)),
        postal_codes=(body.postal_codes or "").split(),
        rattachee_a=_ref(body.parent),
        statut_calcule=StatusEvaluation(
            annee=year,
            statut=str(result.status),
            libelle=status_label(result.status),
            effectif_compte=result.counted,
            explication=result.explanation,
            base_legale=result.legal_basis,
        ),
        historique=[
            StatusChange(
                statut=change.status,
                libelle=status_label(change.status),
                date_effet=change.effective_date,
                explication=change.explanation,
                deliberation=change.deliberation_ref,
            )
            for change in facts.history
        ],
        declarations=[declaration_model(d) for d in facts.declarations],
    )


@operation(
    "GET",
    "/collectivites/<int:collectivite_id>/declarations",
    summary="Déclarations d'effectifs",
    tag=TAG,
    response=DeclarationList,
)
def list_declarations(user, collectivite_id: int):
    body = get_visible_collectivite_or_404(user, collectivite_id)
    return DeclarationList(items=[declaration_model(d) for d in registry.declarations(body.id)])


@operation(
    "POST",
    "/collectivites/<int:collectivite_id>/declarations",
    summary="Déclarer les effectifs d'une année",
    tag=TAG,
    body=DeclarationInput,
    response=Declaration,
    status=201,
    write=True,
    errors=(403,),
    description="Par la secrétaire de la collectivité ou par le CDG. Les déclarations précédentes sont gardées ; "
    "un franchissement du seuil de 350 ouvre une décision du CDG.",
)
def declare(user, collectivite_id: int, body: DeclarationInput):
    collectivite = get_visible_collectivite_or_404(user, collectivite_id)
    if not can_manage_collectivite(user, collectivite):
        raise ApiProblem(403, "Seuls la secrétaire de la collectivité et le CDG déclarent ses effectifs.")
    counts = body.model_dump(include={"titulaires_temps_complet", "titulaires_temps_non_complet", "contractuels"})
    try:
        declaration = affiliation.record_declaration(collectivite, body.annee, counts, user, comment=body.commentaire)
    except DomainError as exc:
        db.session.rollback()
        field = {"year": "annee"}.get(exc.field or "", exc.field or "")
        raise ApiProblem(422, errors=[{"pointer": f"/{field}" if field else "", "detail": exc.message}]) from None
    db.session.commit()
    return declaration_model(declaration)
