"""Training of elected officials: sessions, registrations, and an élu registering, cancelling or confirming an
offered seat through the API.

The same authorisation and the same services as the web pages (``portal.training.visibility`` and
``portal.training.registrations``): sessions through ``sessions_visible_to`` and ``visible_session`` (staff every
session, others the published ones and a cancelled one only if it concerned them), élus through ``mandates_for``,
registrations through ``registrations_visible_to``; writes through ``register``, ``cancel`` and ``accept_offer``,
which take the roster lock and audit them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from portal.accounts.models import Mandate
from portal.api.collectivites import EpciRef as CollectiviteRef
from portal.api.paging import envelope, rows
from portal.api.problems import ApiProblem
from portal.api.schemas import PageModel, PageQuery, RequestModel, ResponseModel
from portal.api.spec import operation
from portal.common.clock import utcnow
from portal.common.errors import ConflictError, DomainError
from portal.common.i18n import ngettext
from portal.common.routing import MAX_ID
from portal.extensions import db
from portal.training import registrations as training_registrations
from portal.training import rights_rules, rules, visibility
from portal.training import roster as training_roster
from portal.training.models import Registration, TrainingSession
from portal.training.rights_rules import FUNDING_LABELS, Funding
from portal.training.rules import Status

TAG = "Formations des élus"
STATUSES = tuple(s.value for s in Status)
FUNDINGS = tuple(f.value for f in Funding)
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]

# Service field names (``DomainError.field``) -> the request body's.
FIELD_POINTERS = {
    "funding": "/financement",
    "dife_amount": "/part_dife",
    "travel_cost": "/frais_deplacement",
    "leave_days": "/jours_conge",
    "mandate_id": "/mandat",
}


# Queries ----------------------------------------------------------------------------------------


class SessionQuery(PageQuery):
    periode: Literal["a_venir", "passees"] | None = Field(
        None, description="« a_venir » : sessions qui commencent maintenant ou plus tard ; « passees » : les autres."
    )
    formation: int | None = Field(None, ge=1, le=MAX_ID, description="Identifiant de la formation.")
    places_libres: bool | None = Field(
        None, description="true : seulement les sessions qui ont une place libre ; false : seulement les complètes."
    )


class RegistrationQuery(PageQuery):
    session: int | None = Field(None, ge=1, le=MAX_ID, description="Identifiant de la session.")
    statut: Literal[STATUSES] | None = Field(
        None,
        description="registered (inscrit), waiting (liste d'attente), offered (place proposée), cancelled, "
        "present, absent.",
    )


# Responses --------------------------------------------------------------------------------------


class TrainingBodyRef(ResponseModel):
    id: int
    nom: str
    agrement: str = Field(description="Numéro d'agrément du ministère.")
    agrement_debut: date
    agrement_fin: date


class TrainingRef(ResponseModel):
    id: int
    intitule: str
    heures: float = Field(description="Durée de la formation, en heures.")
    cout_par_participant: float = Field(description="Coût pédagogique par participant, en euros.")
    organisme: TrainingBodyRef


class TrainingSessionSummary(ResponseModel):
    id: int
    formation: TrainingRef
    debut: datetime = Field(description="Début (UTC, ISO 8601).")
    fin: datetime = Field(description="Fin (UTC, ISO 8601).")
    lieu: str | None
    lien_distance: str | None = Field(description="Lien de connexion pour suivre la session à distance.")
    capacite: int
    places_prises: int = Field(description="Inscrits, places proposées, présents et absents.")
    places_libres: int
    en_attente: int = Field(description="Nombre d'élus en liste d'attente.")
    quota_par_collectivite: int | None
    date_limite_inscription: datetime
    publiee: bool
    annulee: bool
    annulee_le: datetime | None


class TrainingSessionPage(PageModel):
    items: list[TrainingSessionSummary]


class TrainingSessionDetail(TrainingSessionSummary):
    objectifs: str
    programme: str
    inscriptions_ouvertes: bool
    motif_fermeture: str | None = Field(description="Pourquoi l'inscription n'est pas possible, en français.")


class SessionRef(ResponseModel):
    id: int
    formation: str = Field(description="Intitulé de la formation.")
    debut: datetime
    fin: datetime


class EluRef(ResponseModel):
    mandat: int = Field(description="Identifiant du mandat de l'élu.")
    nom: str
    fonction: str


class RegistrationModel(ResponseModel):
    id: int
    session: SessionRef
    elu: EluRef
    collectivite: CollectiviteRef
    statut: Literal[STATUSES]
    statut_libelle: str
    position_attente: int | None = Field(description="Position sur la liste d'attente (1 : la prochaine place).")
    offre_expire_le: datetime | None = Field(description="Place proposée : à confirmer avant cette date.")
    demandee_le: datetime
    inscrit_le: datetime | None
    annulee_le: datetime | None
    motif_annulation: str | None
    financement: Literal[FUNDINGS]
    financement_libelle: str
    cout_pedagogique: float
    frais_deplacement: float
    part_dife: float
    part_commune: float
    jours_conge: float
    delegation: bool = Field(description="L'élu détenait une délégation à l'inscription.")
    premiere_annee: bool = Field(description="Formation due dans la première année du mandat (élu avec délégation).")


class RegistrationPage(PageModel):
    items: list[RegistrationModel]


# Requests ---------------------------------------------------------------------------------------


def _within(low: int, high: int):
    """Bounds of a number, checked after parsing so that the French message shows them as typed (« 18 », not
    « 18.0 » as pydantic's float bounds do); published in the schema as minimum and maximum."""

    def check(value: float) -> float:
        if value < low:
            raise PydanticCustomError("greater_than_equal", "too small", {"ge": low})
        if value > high:
            raise PydanticCustomError("less_than_equal", "too large", {"le": high})
        return value

    return AfterValidator(check)


def _number(low: int, high: int, description: str):
    return Annotated[
        float,
        Field(
            strict=True,
            allow_inf_nan=False,
            description=description,
            json_schema_extra={"minimum": low, "maximum": high},
        ),
        _within(low, high),
    ]


class RegistrationRequest(RequestModel):
    mandat: Id = Field(
        description="Mandat de l'élu à inscrire (« elu.mandat » d'une inscription ; pour un élu, « mandat » de /moi)."
    )
    financement: Literal[FUNDINGS] = Field(
        "commune", description="commune (budget de la commune), dife (DIFE, Mon compte élu) ou both (les deux)."
    )
    part_dife: _number(0, 800, "Part DIFE en euros (financement both), deux décimales au plus.") = 0
    frais_deplacement: _number(0, 10_000, "Frais de déplacement et de séjour en euros, deux décimales au plus.") = 0
    jours_conge: _number(0, 24, "Jours de congé de formation (24 par mandat), une décimale au plus.") = 0
    liste_attente: bool = Field(
        True,
        strict=True,
        description="Session complète : true, l'élu est mis en liste d'attente ; false, la demande est refusée (409).",
    )


class CancellationRequest(RequestModel):
    motif: str | None = Field(None, max_length=500, description="Motif de l'annulation (facultatif).")


# Building the responses -------------------------------------------------------------------------


def _session_fields(session: TrainingSession, counts: training_roster.Roster) -> dict:
    training, body = session.training, session.training.body
    return {
        "id": session.id,
        "formation": TrainingRef(
            id=training.id,
            intitule=training.title,
            heures=float(training.duration_hours),
            cout_par_participant=float(training.cost_per_participant),
            organisme=TrainingBodyRef(
                id=body.id,
                nom=body.name,
                agrement=body.agrement_number,
                agrement_debut=body.agrement_from,
                agrement_fin=body.agrement_until,
            ),
        ),
        "debut": session.starts_at,
        "fin": session.ends_at,
        "lieu": session.place,
        "lien_distance": session.remote_url,
        "capacite": session.capacity,
        "places_prises": counts.seats_taken,
        "places_libres": max(session.capacity - counts.seats_taken, 0),
        "en_attente": counts.waiting,
        "quota_par_collectivite": session.quota_per_collectivite,
        "date_limite_inscription": session.registration_deadline,
        "publiee": session.published,
        "annulee": session.cancelled_at is not None,
        "annulee_le": session.cancelled_at,
    }


def registration_model(registration: Registration, position: int | None = None) -> RegistrationModel:
    session, mandate, body = registration.session, registration.mandate, registration.collectivite
    return RegistrationModel(
        id=registration.id,
        session=SessionRef(
            id=session.id, formation=session.training.title, debut=session.starts_at, fin=session.ends_at
        ),
        elu=EluRef(mandat=mandate.id, nom=mandate.person.full_name, fonction=mandate.function_label),
        collectivite=CollectiviteRef(id=body.id, nom=body.name),
        statut=registration.status,
        statut_libelle=registration.status_label,
        position_attente=position if registration.status == Status.WAITING else None,
        offre_expire_le=registration.offer_expires_at if registration.status == Status.OFFERED else None,
        demandee_le=registration.created_at,
        inscrit_le=registration.registered_at,
        annulee_le=registration.cancelled_at,
        motif_annulation=registration.cancel_reason,
        financement=registration.funding,
        financement_libelle=FUNDING_LABELS.get(registration.funding, registration.funding),
        cout_pedagogique=float(registration.tuition_cost),
        frais_deplacement=float(registration.travel_cost),
        part_dife=float(registration.dife_amount),
        part_commune=float(
            rights_rules.commune_share(
                funding=registration.funding,
                tuition=registration.tuition_cost,
                travel=registration.travel_cost,
                dife_amount=registration.dife_amount,
            )
        ),
        jours_conge=float(registration.leave_days),
        delegation=registration.delegation_held,
        premiere_annee=registration.first_year,
    )


def _with_position(registration: Registration) -> RegistrationModel:
    position = None
    if registration.status == Status.WAITING:
        position = training_roster.waiting_positions(registration.session).get(registration.id)
    return registration_model(registration, position)


def _visible_registration(user, registration_id: int) -> Registration:
    statement = visibility.registrations_visible_to(user).where(Registration.id == registration_id)
    registration = db.session.scalar(statement)
    if registration is None:
        raise ApiProblem(404)
    return registration


def _refused(exc: DomainError) -> ApiProblem:
    """A refusal of a service as a problem: 409 for a conflict with the current state, else 422."""
    db.session.rollback()
    if isinstance(exc, ConflictError):
        return ApiProblem(409, exc.message)
    return ApiProblem(
        422, exc.message, errors=[{"pointer": FIELD_POINTERS.get(exc.field or "", ""), "detail": exc.message}]
    )


def _amount(value: float, places: int, pointer: str, errors: list[dict]) -> Decimal:
    amount = Decimal(str(value))
    if amount.as_tuple().exponent < -places:
        errors.append(
            {"pointer": pointer, "detail": ngettext("Au plus %(num)s décimale.", "Au plus %(num)s décimales.", places)}
        )
    return amount


# Operations -------------------------------------------------------------------------------------


@operation(
    "GET",
    "/formations/sessions",
    summary="Lister les sessions de formation",
    tag=TAG,
    query=SessionQuery,
    response=TrainingSessionPage,
    description="Triées par début puis identifiant. Le CDG voit toutes les sessions ; les autres, les sessions "
    "publiées et non annulées.",
)
def list_training_sessions(user, query: SessionQuery):
    statement = visibility.sessions_visible_to(user)
    now = utcnow()
    if query.periode == "a_venir":
        statement = statement.where(TrainingSession.starts_at >= now)
    elif query.periode == "passees":
        statement = statement.where(TrainingSession.starts_at < now)
    if query.formation is not None:
        statement = statement.where(TrainingSession.training_id == query.formation)
    if query.places_libres is not None:
        seats = (
            select(func.count())
            .where(
                Registration.session_id == TrainingSession.id, Registration.status.in_(training_roster.SEAT_STATUSES)
            )
            .correlate(TrainingSession)
            .scalar_subquery()
        )
        statement = statement.where(
            TrainingSession.capacity > seats if query.places_libres else TrainingSession.capacity <= seats
        )
    page = rows(statement.order_by(TrainingSession.starts_at, TrainingSession.id), query)
    counts = training_roster.rosters([s.id for s in page.items])
    return TrainingSessionPage(
        items=[TrainingSessionSummary(**_session_fields(s, counts[s.id])) for s in page.items], **envelope(page)
    )


@operation(
    "GET",
    "/formations/sessions/<int:session_id>",
    summary="Détail d'une session de formation",
    tag=TAG,
    response=TrainingSessionDetail,
    description="Avec les objectifs et le programme de la formation, et si l'inscription est ouverte.",
)
def get_training_session(user, session_id: int):
    session = visibility.visible_session(user, session_id)
    if session is None:
        raise ApiProblem(404)
    closed = rules.registration_closed_reason(
        now=utcnow(),
        starts_at=session.starts_at,
        deadline=session.registration_deadline,
        published=session.published,
        cancelled=session.cancelled_at is not None,
    )
    return TrainingSessionDetail(
        **_session_fields(session, training_roster.roster(session.id)),
        objectifs=session.training.objectives or "",
        programme=session.training.programme or "",
        inscriptions_ouvertes=closed is None,
        motif_fermeture=closed,
    )


@operation(
    "GET",
    "/formations/inscriptions",
    summary="Lister les inscriptions",
    tag=TAG,
    query=RegistrationQuery,
    response=RegistrationPage,
    description="Les inscriptions visibles par l'appelant : un élu les siennes, une secrétaire celles des élus de "
    "ses collectivités, le CDG toutes. Triées par identifiant.",
)
def list_training_registrations(user, query: RegistrationQuery):
    statement = visibility.registrations_visible_to(user).options(
        joinedload(Registration.session),
        joinedload(Registration.mandate).joinedload(Mandate.user),
        joinedload(Registration.collectivite),
    )
    if query.session is not None:
        statement = statement.where(Registration.session_id == query.session)
    if query.statut is not None:
        statement = statement.where(Registration.status == query.statut)
    page = rows(statement.order_by(Registration.id), query)
    positions = training_roster.waiting_positions_of({r.session for r in page.items if r.status == Status.WAITING})
    return RegistrationPage(items=[registration_model(r, positions.get(r.id)) for r in page.items], **envelope(page))


@operation(
    "GET",
    "/formations/inscriptions/<int:registration_id>",
    summary="Détail d'une inscription",
    tag=TAG,
    response=RegistrationModel,
)
def get_training_registration(user, registration_id: int):
    return _with_position(_visible_registration(user, registration_id))


@operation(
    "POST",
    "/formations/sessions/<int:session_id>/inscriptions",
    summary="Inscrire un élu à une session",
    tag=TAG,
    body=RegistrationRequest,
    response=RegistrationModel,
    status=201,
    write=True,
    errors=(409,),
    description="Un élu s'inscrit lui-même (son « mandat » est donné par /moi) ; une secrétaire inscrit les élus "
    "de ses collectivités, le CDG tout élu. Une place si elle est libre, sinon la liste "
    "d'attente (« liste_attente »: false : 409 plutôt que la liste d'attente). 404 pour un mandat que "
    "l'appelant ne peut pas inscrire ; 409 si l'élu est déjà inscrit ou si la session est complète sans liste "
    "d'attente ; 422 si l'inscription est fermée (date limite dépassée, session commencée, passée, annulée ou "
    "non publiée) ou si une donnée est refusée (financement, congé de formation au-delà de 24 jours…).",
)
def register_to_training_session(user, session_id: int, body: RegistrationRequest):
    session = visibility.visible_session(user, session_id)
    if session is None:
        raise ApiProblem(404)
    mandate = db.session.scalar(visibility.mandates_for(user).where(Mandate.id == body.mandat))
    if mandate is None:
        raise ApiProblem(404, "Aucun élu avec ce mandat parmi ceux que vous pouvez inscrire.")
    errors: list[dict] = []
    data = training_registrations.RegistrationInput(
        funding=body.financement,
        dife_amount=_amount(body.part_dife, 2, "/part_dife", errors),
        travel_cost=_amount(body.frais_deplacement, 2, "/frais_deplacement", errors),
        leave_days=_amount(body.jours_conge, 1, "/jours_conge", errors),
    )
    if errors:
        raise ApiProblem(422, errors=errors)
    try:
        registration = training_registrations.register(
            session, mandate, user, data, waiting_list_allowed=body.liste_attente
        )
    except DomainError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return _with_position(registration)


@operation(
    "POST",
    "/formations/inscriptions/<int:registration_id>/annulation",
    summary="Annuler une inscription ou décliner une place proposée",
    tag=TAG,
    body=CancellationRequest,
    response=RegistrationModel,
    write=True,
    errors=(409,),
    description='Corps : {} ou {"motif": "…"}. Jusqu\'à la date limite d\'inscription (le CDG : jusqu\'au début '
    "de la session ; une place proposée se décline jusqu'au début). La place libérée est proposée à la liste "
    "d'attente. 409 si l'inscription est déjà annulée ou l'émargement fait ; 422 après la date limite.",
)
def cancel_training_registration(user, registration_id: int, body: CancellationRequest):
    registration = _visible_registration(user, registration_id)
    try:  # without a reason, the service writes the usual one (a declined offer, a cancellation by someone)
        training_registrations.cancel(registration, user, body.motif or "")
    except DomainError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return _with_position(registration)


@operation(
    "POST",
    "/formations/inscriptions/<int:registration_id>/confirmation",
    summary="Confirmer une place proposée",
    tag=TAG,
    response=RegistrationModel,
    write=True,
    errors=(409,),
    description="Accepte la place proposée à un élu de la liste d'attente, avant l'expiration de l'offre. 409 si "
    "aucune place n'est proposée ou si le délai est dépassé.",
)
def confirm_training_registration(user, registration_id: int):
    registration = _visible_registration(user, registration_id)
    try:
        training_registrations.accept_offer(registration, user)
    except DomainError as exc:
        raise _refused(exc) from None
    db.session.commit()
    return _with_position(registration)
