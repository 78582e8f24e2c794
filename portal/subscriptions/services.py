"""Subscription use cases: the catalogue as it applies to a collectivité, requests, transitions, activation.

Every transition goes through :func:`portal.subscriptions.rules.next_state`, is recorded as an
event, audited and notified. Services only flush; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import Role, User
from portal.affiliation.services import declaration_in_force
from portal.audit import services as audit
from portal.catalogue import rules as catalogue_rules
from portal.catalogue.models import PayrollDeclaration, Service
from portal.common.clock import paris_today, utcnow
from portal.common.errors import DomainError
from portal.common.formatting import date_fr, money_fr, percent_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import lazy_gettext as _l
from portal.common.jobs import enqueue_after_commit
from portal.common.labels import N_, Labels
from portal.extensions import db
from portal.registry.models import Collectivite
from portal.registry.visibility import visible_collectivites
from portal.subscriptions import rules
from portal.subscriptions.models import School, Subscription, SubscriptionEvent
from portal.subscriptions.rules import Action, State

DOCUMENTS_TASK = "subscriptions.generate_documents"
MAX_QUANTITY = 1_000_000
MAX_PUPILS_PER_SCHOOL = 2_000
MAX_CLASSES_PER_SCHOOL = 60

QUANTITY_LABELS = Labels(
    {
        "agents": N_("Nombre d'agents concernés"),
        "pupils": N_("Nombre d'élèves"),
        "schools": N_("Nombre d'écoles"),
        "hours": N_("Nombre d'heures par an"),
        "days": N_("Nombre de jours par an"),
    }
)


# The catalogue as it applies to one collectivité ------------------------------------------------


@dataclass
class CatalogueEntry:
    service: Service
    eligibility: catalogue_rules.EligibilityResult
    estimate: Decimal | None
    estimate_basis: str
    subscription: Subscription | None
    tariff: object | None = None


def known_quantities(body: Collectivite, year: int) -> dict[str, Decimal | int | None]:
    """What the portal already knows about a body: agents declared, payroll, pupils and schools of its ENT."""
    quantities: dict[str, Decimal | int | None] = {}
    declaration = declaration_in_force(body.id, year)
    if declaration is not None:
        quantities["agents"] = (
            declaration.titulaires_temps_complet + declaration.titulaires_temps_non_complet + declaration.contractuels
        )
    payroll = db.session.scalar(
        select(PayrollDeclaration.amount)
        .where(PayrollDeclaration.collectivite_id == body.id, PayrollDeclaration.year <= year)
        .order_by(PayrollDeclaration.year.desc())
        .limit(1)
    )
    if payroll is not None:
        quantities["payroll"] = payroll
    return quantities


def open_subscriptions(body_id: int) -> dict[int, Subscription]:
    rows = db.session.scalars(
        select(Subscription).where(
            Subscription.collectivite_id == body_id, Subscription.state.in_([s.value for s in rules.OPEN_STATES])
        )
    )
    return {s.service_id: s for s in rows}


def estimate(service: Service, year: int, quantities: dict) -> tuple[Decimal | None, str, object | None]:
    tariff = service.tariff_for(year)
    if service.tariff_model == catalogue_rules.TariffModel.INCLUDED:
        return Decimal("0.00"), _("Compris dans la cotisation d'affiliation."), tariff
    if tariff is None:
        return None, _("Aucun tarif voté pour cette année."), None
    amount = catalogue_rules.yearly_amount(service.tariff_model, tariff.unit_amount, quantities)
    if amount is None:
        key = catalogue_rules.QUANTITY_OF[catalogue_rules.TariffModel(service.tariff_model)]
        missing = catalogue_rules.MISSING_QUANTITY_LABELS[key]
        return (
            None,
            _(
                "Estimation impossible sans %(missing)s ; elle sera calculée à partir de votre demande.",
                missing=missing,
            ),
            tariff,
        )
    if service.tariff_model == "payroll_rate":
        basis = _("%(rate)s de la masse salariale déclarée", rate=percent_fr(tariff.unit_amount))
    elif service.tariff_model == "per_agent":
        basis = _(
            "%(agents)s agents déclarés × %(amount)s",
            agents=quantities.get("agents"),
            amount=money_fr(tariff.unit_amount),
        )
    elif service.tariff_model == "flat":
        basis = _("Forfait annuel")
    else:
        basis = _("Tarif %(year)s : %(amount)s l'unité", year=year, amount=money_fr(tariff.unit_amount))
    return amount, _("%(basis)s (délibération %(ref)s).", basis=basis, ref=tariff.deliberation_ref), tariff


def catalogue_for(body: Collectivite, year: int) -> list[CatalogueEntry]:
    services = db.session.scalars(
        select(Service)
        .options(selectinload(Service.tariffs))
        .where(Service.active.is_(True))
        .order_by(Service.position, Service.name)
    )
    quantities = known_quantities(body, year)
    subscriptions = open_subscriptions(body.id)
    entries = []
    for service in services:
        amount, basis, tariff = estimate(service, year, quantities)
        entries.append(
            CatalogueEntry(
                service,
                catalogue_rules.eligibility(service.eligibility, body.affiliation_status),
                amount,
                basis,
                subscriptions.get(service.id),
                tariff,
            )
        )
    return entries


# Lists ----------------------------------------------------------------------------------------------

TO_PROCESS = "a_traiter"


def visible_statement(user, state: str = "") -> Select:
    """The subscriptions of the collectivités ``user`` sees, newest request first (id last: a stable order).

    ``state``: ``a_traiter`` (requested or waiting for information), one state, or empty for all."""
    visible_ids = visible_collectivites(user, select(Collectivite.id))
    statement = (
        select(Subscription)
        .options(joinedload(Subscription.collectivite), joinedload(Subscription.service))
        .where(Subscription.collectivite_id.in_(visible_ids))
        .order_by(Subscription.requested_at.desc(), Subscription.id.desc())
    )
    if state == TO_PROCESS:
        statement = statement.where(Subscription.state.in_([State.REQUESTED, State.INFO_NEEDED]))
    elif state in State.__members__.values():
        statement = statement.where(Subscription.state == state)
    return statement


def get_visible(user, subscription_id: int) -> Subscription | None:
    """Staff see every subscription; a secretary those of her collectivités; anyone else none."""
    if user.role not in (Role.STAFF, Role.SECRETARY):
        return None
    visible_ids = visible_collectivites(user, select(Collectivite.id))
    return db.session.scalar(
        select(Subscription).where(Subscription.id == subscription_id, Subscription.collectivite_id.in_(visible_ids))
    )


# Requests -----------------------------------------------------------------------------------------


@dataclass
class SchoolInput:
    uai: str
    name: str
    classes: int
    pupils: int
    director: str | None = None


@dataclass
class RequestInput:
    start_date: date
    quantities: dict[str, int] = field(default_factory=dict)
    message: str | None = None
    schools: list[SchoolInput] = field(default_factory=list)


def _validate_schools(schools: list[SchoolInput]) -> list[SchoolInput]:
    if not schools:
        raise DomainError(_("Indiquez au moins une école (code UAI, nom, nombre de classes et d'élèves)."), "schools")
    seen = set()
    for index, school in enumerate(schools, start=1):
        where = _("École n° %(index)s", index=index)
        problem = catalogue_rules.uai_problem(school.uai)
        if problem:
            raise DomainError(_("%(where)s : %(problem)s", where=where, problem=problem), "schools")
        uai = school.uai.strip().upper()
        if uai in seen:
            raise DomainError(
                _("%(where)s : le code UAI %(uai)s figure deux fois dans la demande.", where=where, uai=uai), "schools"
            )
        seen.add(uai)
        school.uai = uai
        if not school.name or not school.name.strip():
            raise DomainError(_("%(where)s : indiquez le nom de l'école.", where=where), "schools")
        if not (1 <= school.classes <= MAX_CLASSES_PER_SCHOOL):
            raise DomainError(
                _(
                    "%(where)s : le nombre de classes doit être compris entre 1 et %(max)s.",
                    where=where,
                    max=MAX_CLASSES_PER_SCHOOL,
                ),
                "schools",
            )
        if not (0 <= school.pupils <= MAX_PUPILS_PER_SCHOOL):
            raise DomainError(
                _(
                    "%(where)s : le nombre d'élèves doit être compris entre 0 et %(max)s.",
                    where=where,
                    max=MAX_PUPILS_PER_SCHOOL,
                ),
                "schools",
            )
    return schools


def request_subscription(
    body: Collectivite, service: Service, data: RequestInput, actor: User, today: date | None = None
) -> Subscription:
    """A collectivité asks for a service. Refused: inactive or included services, ineligible bodies,
    a second open request for the same service, bad quantities or schools, a start date in the past."""
    today = today or paris_today()
    if not service.active or not service.subscribable:
        raise DomainError(_("Le service « %(name)s » ne fait pas l'objet d'une demande d'adhésion.", name=service.name))
    verdict = catalogue_rules.eligibility(service.eligibility, body.affiliation_status)
    if not verdict.eligible:
        raise DomainError(
            _("%(name)s n'est pas éligible à ce service : %(reason)s", name=body.name, reason=verdict.reason)
        )
    existing = open_subscriptions(body.id).get(service.id)
    if existing is not None:
        raise DomainError(
            _(
                "%(name)s a déjà une demande ou un abonnement en cours pour ce service (état : %(state_label)s).",
                name=body.name,
                state_label=existing.state_label.lower(),
            )
        )
    if data.start_date < today:
        raise DomainError(_("La date de début souhaitée ne peut pas être passée."), "start_date")
    quantities = {}
    for name in service.request_fields:
        if name in QUANTITY_LABELS:
            value = data.quantities.get(name)
            if (
                value is None
                or isinstance(value, bool)
                or not isinstance(value, int)
                or value < 0
                or value > MAX_QUANTITY
            ):
                raise DomainError(
                    _(
                        "%(label)s : indiquez un nombre entier entre 0 et %(max)s.",
                        label=QUANTITY_LABELS[name],
                        max=MAX_QUANTITY,
                    ),
                    name,
                )
            quantities[name] = value
    schools = _validate_schools(data.schools) if "ent_schools" in service.request_fields else []
    if schools:
        quantities["schools"] = len(schools)
        quantities["pupils"] = sum(s.pupils for s in schools)

    subscription = Subscription(
        collectivite=body,
        service=service,
        state=State.REQUESTED,
        requested_by_id=actor.id,
        start_date=data.start_date,
        details={"quantities": quantities, "message": (data.message or "").strip() or None},
    )
    for school in schools:
        subscription.schools.append(
            School(
                uai=school.uai,
                name=school.name.strip(),
                classes=school.classes,
                pupils=school.pupils,
                director=(school.director or "").strip() or None,
                joined_on=data.start_date,
            )
        )
    db.session.add(subscription)
    db.session.flush()
    _record(subscription, "request", None, State.REQUESTED, actor, data.message)
    audit.record(
        "subscription.request",
        f"Demande d'adhésion de {body.name} au service « {service.name} »",
        actor=actor,
        obj=subscription,
        details={"quantities": quantities},
    )
    _notify_staff(
        subscription,
        _("Nouvelle demande : %(service)s pour %(body)s", service=service.name, body=body.name),
        _(
            "%(actor)s demande l'adhésion de %(body)s au service « %(service)s » à compter du %(date)s.",
            actor=actor.full_name,
            body=body.name,
            service=service.name,
            date=date_fr(data.start_date),
        ),
    )
    if not service.requires_validation:
        transition(subscription, Action.VALIDATE, None, "Validation automatique (service sans instruction).")
    return subscription


# Transitions --------------------------------------------------------------------------------------


def _record(subscription, action, from_state, to_state, actor, comment):
    subscription.events.append(
        SubscriptionEvent(
            action=str(action),
            from_state=from_state,
            to_state=str(to_state),
            comment=comment,
            actor_id=getattr(actor, "id", None),
        )
    )


def _secretaries_of(body_id: int) -> list[User]:
    return [
        u
        for u in db.session.scalars(select(User).where(User.role == Role.SECRETARY, User.active.is_(True)))
        if any(c.id == body_id for c in u.collectivites)
    ]


def _notify_staff(subscription: Subscription, title: str, body: str) -> None:
    from portal.notifications.services import notify

    for user in db.session.scalars(select(User).where(User.role == Role.STAFF, User.active.is_(True))):
        notify(user, category="subscriptions", title=title, body=body, link=f"/abonnements/{subscription.id}")


def _notify_body(subscription: Subscription, title: str, body: str) -> None:
    from portal.notifications.services import notify

    for user in _secretaries_of(subscription.collectivite_id):
        notify(user, category="subscriptions", title=title, body=body, link=f"/abonnements/{subscription.id}")


# Lazy: the messages are written in the language of the moment they are sent, with %(name)s placeholders.
MESSAGES = {
    Action.VALIDATE: (
        _l("Demande validée : %(service)s"),
        _l(
            "La demande d'adhésion de %(body)s au service « %(service)s » est "
            "validée. La convention d'adhésion est disponible dans le portail."
        ),
    ),
    Action.REFUSE: (
        _l("Demande refusée : %(service)s"),
        _l("La demande d'adhésion de %(body)s au service « %(service)s » est refusée. Motif : %(comment)s"),
    ),
    Action.ASK_INFO: (
        _l("Informations demandées : %(service)s"),
        _l(
            "Le CDG demande des informations complémentaires sur la demande de %(body)s (« %(service)s ») : %(comment)s"
        ),
    ),
    Action.ACTIVATE: (
        _l("Service actif : %(service)s"),
        _l("Le service « %(service)s » est actif pour %(body)s depuis le %(start)s."),
    ),
    Action.SUSPEND: (
        _l("Service suspendu : %(service)s"),
        _l("Le service « %(service)s » est suspendu pour %(body)s. %(comment)s"),
    ),
    Action.RESUME: (
        _l("Service repris : %(service)s"),
        _l("Le service « %(service)s » est de nouveau actif pour %(body)s."),
    ),
    Action.END: (
        _l("Service résilié : %(service)s"),
        _l("L'adhésion de %(body)s au service « %(service)s » prend fin le %(end)s. %(comment)s"),
    ),
}


def transition(
    subscription: Subscription,
    action: str,
    actor: User | None,
    comment: str | None = None,
    *,
    start_date: date | None = None,
    end_date: date | None = None,
) -> Subscription:
    """Apply one action of the state machine; ``actor`` None is the portal itself (scheduled jobs)."""
    action = Action(action) if action in Action.__members__.values() else action
    if actor is not None:
        permitted = rules.STAFF_ACTIONS if actor.is_staff else rules.SECRETARY_ACTIONS
        if action not in permitted:
            raise DomainError(_("Cette action est réservée au centre de gestion."))
    comment = (comment or "").strip() or None
    if action in (Action.REFUSE, Action.ASK_INFO) and not comment:
        raise DomainError(_("Indiquez le motif : il est transmis à la collectivité."), "comment")
    if action == Action.END and actor is not None and not comment:
        raise DomainError(_("Indiquez le motif de la résiliation : il est transmis à la collectivité."), "comment")
    before = subscription.state
    after = rules.next_state(before, action)
    if action == Action.VALIDATE:
        subscription.start_date = start_date or subscription.start_date or paris_today()
        subscription.documents_state = "pending"
        subscription.documents_error = None
        subscription.documents_requested_at = utcnow()
        enqueue_after_commit(DOCUMENTS_TASK, subscription.id)
    if action in (Action.REFUSE, Action.ASK_INFO) or (action == Action.END and comment):
        subscription.staff_message = comment
    if action == Action.END:
        subscription.end_date = end_date or subscription.end_date or paris_today()
        if subscription.start_date and subscription.end_date < subscription.start_date:
            raise DomainError(_("La date de fin ne peut pas précéder la date de début."), "end_date")
    subscription.state = after
    _record(subscription, action, before, after, actor, comment)
    audit.record(
        f"subscription.{action}",
        f"{rules.ACTION_LABELS[action]} : « {subscription.service.name} » pour {subscription.collectivite.name}",
        actor=actor,
        obj=subscription,
        details={"from": before, "to": str(after), "comment": comment},
    )
    db.session.flush()
    if action in MESSAGES:
        title, body = MESSAGES[action]
        values = {
            "service": subscription.service.name,
            "body": subscription.collectivite.name,
            "comment": comment or "",
            "start": date_fr(subscription.start_date) if subscription.start_date else "",
            "end": date_fr(subscription.end_date) if subscription.end_date else "",
        }
        _notify_body(subscription, str(title) % values, (str(body) % values).strip())
    elif action in (Action.PROVIDE_INFO, Action.WITHDRAW):
        verb = _("complète sa demande") if action == Action.PROVIDE_INFO else _("retire sa demande")
        _notify_staff(
            subscription,
            _(
                "%(body)s %(verb)s : %(service)s",
                body=subscription.collectivite.name,
                verb=verb,
                service=subscription.service.name,
            ),
            _(
                "%(actor)s %(verb)s. %(comment)s",
                actor=actor.full_name if actor else _("Le portail"),
                verb=verb,
                comment=comment or "",
            ).strip(),
        )
    return subscription


def request_end(subscription: Subscription, actor: User, today: date | None = None) -> date:
    """The collectivité asks to end an active subscription; it ends after the service's notice."""
    today = today or paris_today()
    if subscription.state not in (State.ACTIVE, State.SUSPENDED, State.VALIDATED):
        raise DomainError(_("Seul un abonnement validé ou actif peut être résilié."))
    if subscription.end_requested_on is not None:
        raise DomainError(
            _("La résiliation est déjà demandée : fin prévue le %(end_date)s.", end_date=date_fr(subscription.end_date))
        )
    notice = rules.earliest_end(today, subscription.service.notice_months, subscription.start_date)
    subscription.end_requested_on = today
    subscription.end_date = notice.earliest_end
    _record(subscription, "request_end", subscription.state, subscription.state, actor, notice.explanation)
    audit.record(
        "subscription.request_end",
        f"Demande de résiliation de « {subscription.service.name} » pour {subscription.collectivite.name}",
        actor=actor,
        obj=subscription,
        details={"end_date": notice.earliest_end.isoformat()},
    )
    _notify_staff(
        subscription,
        _("Demande de résiliation : %(service)s", service=subscription.service.name),
        _(
            "%(body)s demande la résiliation. %(explanation)s",
            body=subscription.collectivite.name,
            explanation=notice.explanation,
        ),
    )
    db.session.flush()
    return notice.earliest_end


def run_daily(today: date | None = None) -> tuple[int, int]:
    """Scheduled: activate validated subscriptions on their start date, end those whose end date has passed.
    Idempotent: a second run finds nothing to do."""
    today = today or paris_today()
    activated = ended = 0
    for subscription in db.session.scalars(
        select(Subscription).where(Subscription.state == State.VALIDATED, Subscription.start_date <= today)
    ):
        transition(subscription, Action.ACTIVATE, None)
        activated += 1
    for subscription in db.session.scalars(
        select(Subscription).where(
            Subscription.state.in_([State.ACTIVE, State.SUSPENDED]),
            Subscription.end_date.is_not(None),
            Subscription.end_date < today,
        )
    ):
        transition(subscription, Action.END, None, "Fin du préavis de résiliation.")
        ended += 1
    return activated, ended


def retry_documents(subscription: Subscription, actor: User) -> None:
    if subscription.documents_state != "failed":
        raise DomainError(_("Seule une génération de documents en échec peut être relancée."))
    subscription.documents_state = "pending"
    subscription.documents_error = None
    subscription.documents_requested_at = utcnow()
    enqueue_after_commit(DOCUMENTS_TASK, subscription.id)
    audit.record(
        "subscription.documents_retry",
        f"Relance des documents de l'abonnement n° {subscription.id}",
        actor=actor,
        obj=subscription,
    )


def notify_documents_ready(subscription: Subscription, produced) -> None:
    """Tell the secretaries in the portal and by email, with the convention (and the ENT annex) attached."""
    from portal.notifications.services import notify

    attachments = [
        (filename, content_type.split(";")[0], data)
        for kind, filename, content_type, data in produced
        if kind in ("convention", "ent_annex")
    ]
    for user in _secretaries_of(subscription.collectivite_id):
        notify(
            user,
            category="subscriptions",
            attachments=attachments,
            title=_("Convention d'adhésion disponible : %(service)s", service=subscription.service.name),
            body=_(
                "La convention d'adhésion de %(body)s au service « %(service)s » est jointe à ce message et "
                "disponible dans le portail.",
                body=subscription.collectivite.name,
                service=subscription.service.name,
            ),
            link=f"/abonnements/{subscription.id}",
        )
