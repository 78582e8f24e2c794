"""Affiliation use cases: declare headcounts, evaluate statuses, open and record decisions.

The status in force only changes through a recorded line of history: an initial status
when a body is first evaluated, then decisions taken by CDG staff. A threshold crossing
found in the declarations opens a decision and notifies; it never changes the status itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, bindparam, func, select

from portal.accounts.models import Role, User
from portal.affiliation import rules
from portal.affiliation.models import AffiliationDecision, AffiliationStatusChange
from portal.audit import services as audit
from portal.common.clock import paris_today, utcnow
from portal.common.errors import DomainError
from portal.common.formatting import date_fr
from portal.common.i18n import gettext as _
from portal.common.inputs import year_problem
from portal.common.labels import N_, Labels
from portal.extensions import db
from portal.registry.kinds import COMMUNE_ATTACHED_KINDS, Kind
from portal.registry.models import Collectivite, HeadcountDeclaration

MAX_PLAUSIBLE_AGENTS = 100_000  # more than the largest French collectivité employs


class DecisionKind:
    CROSSING = "crossing"
    VOLUNTARY_AFFILIATION = "voluntary_affiliation"
    WITHDRAWAL = "withdrawal"


DECISION_KIND_LABELS = Labels(
    {
        DecisionKind.CROSSING: N_("Franchissement du seuil de 350"),
        DecisionKind.VOLUNTARY_AFFILIATION: N_("Affiliation volontaire"),
        DecisionKind.WITHDRAWAL: N_("Retrait d'une affiliation volontaire"),
    }
)


def today() -> date:
    return paris_today()


# Declarations ------------------------------------------------------------------------------------


def declaration_in_force(collectivite_id: int, year: int) -> HeadcountDeclaration | None:
    """The latest declaration for ``year``, or failing that for the most recent earlier year."""
    return db.session.scalar(
        select(HeadcountDeclaration)
        .where(HeadcountDeclaration.collectivite_id == collectivite_id, HeadcountDeclaration.year <= year)
        .order_by(
            HeadcountDeclaration.year.desc(), HeadcountDeclaration.declared_at.desc(), HeadcountDeclaration.id.desc()
        )
        .limit(1)
    )


def validate_counts(year: int, values: dict[str, object]) -> dict[str, int]:
    """Check a declaration's figures; DomainError (French, with the field) on the first bad one."""
    labels = {
        "titulaires_temps_complet": _("fonctionnaires titulaires et stagiaires à temps complet"),
        "titulaires_temps_non_complet": _("fonctionnaires à temps non complet"),
        "contractuels": _("contractuels"),
    }
    problem = year_problem(year, latest=today().year + 1)  # declared for next year at the latest
    if problem:
        raise DomainError(problem, "year")
    cleaned = {}
    for name, label in labels.items():
        value = values.get(name)
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            raise DomainError(_("Le nombre de %(label)s doit être un nombre entier.", label=label), name)
        if value < 0:
            raise DomainError(_("Le nombre de %(label)s ne peut pas être négatif.", label=label), name)
        if value > MAX_PLAUSIBLE_AGENTS:
            raise DomainError(
                _(
                    "Le nombre de %(label)s (%(value)s) n'est pas plausible : vérifiez la saisie.",
                    label=label,
                    value=value,
                ),
                name,
            )
        cleaned[name] = value
    return cleaned


def record_declaration(
    collectivite: Collectivite,
    year: int,
    counts: dict[str, object],
    actor: User | None,
    *,
    is_synthetic: bool = False,
    comment: str | None = None,
    notify: bool = True,
) -> HeadcountDeclaration:
    """Add a declaration (earlier ones are kept), then evaluate the statuses it affects."""
    return record_declarations(
        [(collectivite, counts)], year, actor, is_synthetic=is_synthetic, comment=comment, notify=notify
    )[0]


def record_declarations(
    entries: list[tuple[Collectivite, dict[str, object]]],
    year: int,
    actor: User | None,
    *,
    is_synthetic: bool = False,
    comment: str | None = None,
    notify: bool = True,
) -> list[HeadcountDeclaration]:
    """Add the declarations of several bodies for ``year`` (a commune with its CCAS and caisse des écoles, in one
    form), then evaluate each affected body once, with every figure in: a commune and its CCAS crossing 350
    together open one decision, and no intermediate state opens one. All figures are checked before any is
    written (DomainError naming the field on the first bad one)."""
    cleaned_entries = [(collectivite, validate_counts(year, counts)) for collectivite, counts in entries]
    declarations = []
    affected: dict[int, Collectivite] = {}
    for collectivite, cleaned in cleaned_entries:
        declaration = HeadcountDeclaration(
            collectivite=collectivite,
            year=year,
            declared_by_id=getattr(actor, "id", None),
            is_synthetic=is_synthetic,
            comment=comment,
            **cleaned,
        )
        db.session.add(declaration)
        declarations.append(declaration)
        if actor is not None:
            audit.record(
                "headcount.declare",
                f"Déclaration d'effectifs {year} pour {collectivite.name} : {cleaned['titulaires_temps_complet']} "
                f"titulaires à temps complet",
                actor=actor,
                obj=collectivite,
                details={"year": year, **cleaned},
            )
    db.session.flush()
    for collectivite, _cleaned in cleaned_entries:
        for body in affected_bodies(collectivite):
            affected.setdefault(body.id, body)
    for body in affected.values():
        evaluate(body, year, notify=notify)
    return declarations


# Evaluation ----------------------------------------------------------------------------------------


def attached_bodies(commune: Collectivite) -> list[Collectivite]:
    return list(
        db.session.scalars(
            select(Collectivite)
            .where(
                Collectivite.parent_id == commune.id, Collectivite.kind.in_([k.value for k in COMMUNE_ATTACHED_KINDS])
            )
            .order_by(Collectivite.kind, Collectivite.name)
        )
    )


def affected_bodies(collectivite: Collectivite) -> list[Collectivite]:
    """A commune, its CCAS and caisse des écoles share one headcount: a declaration affects all three."""
    if collectivite.kind in COMMUNE_ATTACHED_KINDS and collectivite.parent is not None:
        commune = collectivite.parent
    elif collectivite.kind == Kind.COMMUNE:
        commune = collectivite
    else:
        return [collectivite]
    return [commune, *attached_bodies(commune)]


def _headcount(declaration: HeadcountDeclaration | Row | None) -> rules.Headcount | None:
    if declaration is None:
        return None
    return rules.Headcount(
        declaration.titulaires_temps_complet, declaration.titulaires_temps_non_complet, declaration.contractuels
    )


@dataclass
class Evaluation:
    collectivite: Collectivite
    year: int
    result: rules.StatusResult
    declaration: HeadcountDeclaration | Row | None  # a row when read by :func:`body_facts`


def voluntary_affiliation_in_force(collectivite_id: int, on: date) -> bool:
    """True when the latest status recorded by a decision, effective on ``on``, is *volontaire*."""
    latest = db.session.scalar(
        select(AffiliationStatusChange.status)
        .where(AffiliationStatusChange.collectivite_id == collectivite_id, AffiliationStatusChange.effective_date <= on)
        .order_by(AffiliationStatusChange.effective_date.desc(), AffiliationStatusChange.id.desc())
        .limit(1)
    )
    return latest == rules.Status.VOLONTAIRE


def reference_date(year: int) -> date:
    now = today()
    return now if year >= now.year else date(year, 12, 31)


def compute(collectivite: Collectivite, year: int) -> Evaluation:
    """The status the law gives ``collectivite`` for ``year``, from the declarations in force."""
    family = affected_bodies(collectivite)
    ids = [collectivite.id] + [body.id for body in family if body.id != collectivite.id]
    in_force = {body_id: declaration_in_force(body_id, year) for body_id in ids}
    voluntary = voluntary_affiliation_in_force(collectivite.id, reference_date(year))
    return _evaluate(collectivite, year, family, in_force, voluntary)


def _evaluate(
    collectivite: Collectivite,
    year: int,
    family: list[Collectivite],
    in_force: dict[int, HeadcountDeclaration | Row | None],
    voluntary: bool,
) -> Evaluation:
    """:func:`compute` once its facts are read: the bodies sharing the headcount (:func:`affected_bodies`), the
    declaration in force of each (and of ``collectivite``), and whether a voluntary affiliation is in force."""
    commune = family[0] if collectivite.kind in ({Kind.COMMUNE} | COMMUNE_ATTACHED_KINDS) and len(family) else None
    own_declaration = in_force.get(collectivite.id)
    if commune is not None and commune.kind == Kind.COMMUNE:
        declarations = {body.id: in_force.get(body.id) for body in family}
        commune_declaration = declarations[commune.id]
        if commune_declaration is None:
            counted = None
        else:
            counted = rules.counted_headcount(
                _headcount(commune_declaration),
                [_headcount(d) for bid, d in declarations.items() if bid != commune.id and d is not None],
            )
        others = [b.name for b in family if declarations.get(b.id) is not None]
        aggregated_with = tuple(others) if len(others) > 1 else ()
        own = _headcount(own_declaration) if collectivite.kind == Kind.COMMUNE else None
    else:
        counted = own_declaration.titulaires_temps_complet if own_declaration else None
        aggregated_with = ()
        own = _headcount(own_declaration)
    result = rules.affiliation_status(
        collectivite.kind, counted, voluntary, own=own, aggregated_with=aggregated_with, year=year
    )
    return Evaluation(collectivite, year, result, own_declaration)


@dataclass
class BodyFacts:
    """What the page of a collectivité shows of its headcounts and status, as plain rows (the page only reads them:
    no ORM objects to build)."""

    evaluation: Evaluation  # its ``declaration`` a row of :func:`_declaration_rows`
    declarations: list[Row]  # the body's own, newest first, with ``declared_by_name`` (:func:`_declaration_rows`)
    history: list[Row]  # newest first (:func:`history`)
    attached: list[Row]  # a commune's CCAS, caisse des écoles… (id, kind, name), by name (empty for any other body)


@functools.cache
def _children_statement():
    """The bodies attached to a commune (id, kind, name), by name. Built once per process, like the statements
    below: building one costs about as much as running it."""
    return (
        select(Collectivite.id, Collectivite.kind, Collectivite.name)
        .where(Collectivite.parent_id == bindparam("commune_id"))
        .order_by(Collectivite.name_normalised)
    )


@functools.cache
def _declarations_statement():
    """Every declaration of the bodies ``ids``, newest first, with the declarant's name (``declared_by_id`` set
    when there is one: the declarant's account still exists)."""
    return (
        select(
            HeadcountDeclaration.id,
            HeadcountDeclaration.collectivite_id,
            HeadcountDeclaration.year,
            HeadcountDeclaration.titulaires_temps_complet,
            HeadcountDeclaration.titulaires_temps_non_complet,
            HeadcountDeclaration.contractuels,
            HeadcountDeclaration.declared_at,
            HeadcountDeclaration.declared_by_id,
            HeadcountDeclaration.is_synthetic,
            HeadcountDeclaration.comment,
            User.full_name.label("declared_by_name"),
        )
        .outerjoin(User, User.id == HeadcountDeclaration.declared_by_id)
        .where(HeadcountDeclaration.collectivite_id.in_(bindparam("ids", expanding=True)))
        .order_by(
            HeadcountDeclaration.year.desc(), HeadcountDeclaration.declared_at.desc(), HeadcountDeclaration.id.desc()
        )
    )


def body_facts(collectivite: Collectivite, year: int) -> BodyFacts:
    """:func:`compute` and the lists of the page in three queries, whatever the family: the bodies attached to the
    commune, every declaration of the bodies sharing the headcount, the history of statuses (``collectivite``'s
    ``parent`` loaded by the caller for a CCAS). ``collectivite`` may be anything read like one (the page passes a
    ``registry.services.BodySheet``): its id, kind and name, its parent's id, kind and name are read."""
    commune = None
    if collectivite.kind == Kind.COMMUNE:
        commune = collectivite
    elif collectivite.kind in COMMUNE_ATTACHED_KINDS and collectivite.parent is not None:
        commune = collectivite.parent
    children: list[Row] = []
    family = [collectivite]
    if commune is not None:
        children = list(db.session.execute(_children_statement(), {"commune_id": commune.id}))
        # affected_bodies's order: the commune, then its attached bodies by kind and name.
        attached = [c for c in children if c.kind in COMMUNE_ATTACHED_KINDS]
        family = [commune, *sorted(attached, key=lambda c: (c.kind, c.name))]
    ids = sorted({body.id for body in family} | {collectivite.id})
    declarations = list(db.session.execute(_declarations_statement(), {"ids": ids}))
    in_force: dict[int, Row | None] = {}
    for declaration in declarations:  # declaration_in_force: the latest of the year or of the latest year before
        if declaration.year <= year:
            in_force.setdefault(declaration.collectivite_id, declaration)
    changes = history(collectivite.id)
    on = reference_date(year)
    latest = next((change.status for change in changes if change.effective_date <= on), None)
    evaluation = _evaluate(collectivite, year, family, in_force, latest == rules.Status.VOLONTAIRE)
    return BodyFacts(
        evaluation=evaluation,
        declarations=[d for d in declarations if d.collectivite_id == collectivite.id],
        history=changes,
        attached=children if collectivite.kind == Kind.COMMUNE else [],
    )


def _open_decision(collectivite_id: int, kind: str) -> AffiliationDecision | None:
    return db.session.scalar(
        select(AffiliationDecision).where(
            AffiliationDecision.collectivite_id == collectivite_id,
            AffiliationDecision.kind == kind,
            AffiliationDecision.state == "open",
        )
    )


def _previous_count(collectivite: Collectivite, year: int) -> int | None:
    previous = compute(collectivite, year - 1).result
    return previous.counted


def evaluate(collectivite: Collectivite, year: int, *, notify: bool = True) -> AffiliationDecision | None:
    """Record the initial status, or open (or close) a crossing decision. Never changes a status otherwise."""
    evaluation = compute(collectivite, year)
    result = evaluation.result
    if collectivite.affiliation_status is None:
        if result.status != rules.Status.INDETERMINE:
            add_status_change(
                collectivite,
                result.status,
                date(year, 1, 1),
                _(
                    "Statut initial établi à partir de la déclaration %(year)s. %(explanation)s",
                    year=year,
                    explanation=result.explanation,
                ),
            )
        return None
    crossing = rules.detect_crossing(collectivite.affiliation_status, result, _previous_count(collectivite, year), year)
    existing = _open_decision(collectivite.id, DecisionKind.CROSSING)
    if crossing is None:
        if existing is not None and existing.year == year:
            existing.state = "obsolete"
            existing.decision_note = _("Sans objet : la déclaration a été corrigée et le seuil n'est plus franchi.")
            existing.decided_at = utcnow()
        return None
    if existing is not None:
        existing.year, existing.counted_headcount = crossing.year, crossing.new_count
        existing.previous_headcount, existing.proposed_status = crossing.previous_count, crossing.proposed_status
        existing.reason = crossing.description
        return existing
    decision = AffiliationDecision(
        collectivite=collectivite,
        kind=DecisionKind.CROSSING,
        state="open",
        year=crossing.year,
        counted_headcount=crossing.new_count,
        previous_headcount=crossing.previous_count,
        status_before=crossing.status_before,
        proposed_status=crossing.proposed_status,
        reason=crossing.description,
    )
    db.session.add(decision)
    db.session.flush()
    if notify:
        _notify_crossing(decision)
    return decision


def _notify_crossing(decision: AffiliationDecision) -> None:
    from portal.notifications.services import notify

    body = decision.collectivite
    title = _("Franchissement du seuil de 350 agents : %(name)s", name=body.name)
    recipients = list(db.session.scalars(select(User).where(User.role == Role.STAFF, User.active.is_(True))))
    recipients += [
        u
        for u in db.session.scalars(select(User).where(User.role == Role.SECRETARY, User.active.is_(True)))
        if any(c.id == body.id for c in u.collectivites)
    ]
    for user in recipients:
        link = f"/affiliation/decisions/{decision.id}" if user.is_staff else f"/collectivites/{body.id}"
        notify(user, category="affiliation", title=title, body=decision.reason, link=link)


def add_status_change(
    collectivite: Collectivite,
    status: str,
    effective: date,
    explanation: str,
    *,
    decision: AffiliationDecision | None = None,
    deliberation_ref: str | None = None,
    actor: User | None = None,
) -> AffiliationStatusChange:
    change = AffiliationStatusChange(
        collectivite_id=collectivite.id,
        status=status,
        effective_date=effective,
        explanation=explanation,
        decision=decision,
        deliberation_ref=deliberation_ref,
        recorded_by_id=getattr(actor, "id", None),
    )
    db.session.add(change)
    db.session.flush()
    refresh_status_in_force(collectivite)
    return change


def status_in_force(collectivite_id: int, on: date) -> str | None:
    return db.session.scalar(
        select(AffiliationStatusChange.status)
        .where(AffiliationStatusChange.collectivite_id == collectivite_id, AffiliationStatusChange.effective_date <= on)
        .order_by(AffiliationStatusChange.effective_date.desc(), AffiliationStatusChange.id.desc())
        .limit(1)
    )


def refresh_status_in_force(collectivite: Collectivite, on: date | None = None) -> bool:
    """Align the denormalised status with the history (for decisions that take effect later)."""
    status = status_in_force(collectivite.id, on or today())
    if status != collectivite.affiliation_status:
        collectivite.affiliation_status = status
        return True
    return False


def apply_due_changes(on: date | None = None) -> int:
    """Daily job: statuses whose decided effective date has come. Idempotent."""
    on = on or today()
    ids = db.session.scalars(
        select(AffiliationStatusChange.collectivite_id).where(AffiliationStatusChange.effective_date <= on).distinct()
    )
    changed = 0
    for collectivite_id in list(ids):
        body = db.session.get(Collectivite, collectivite_id)
        if body is not None and refresh_status_in_force(body, on):
            changed += 1
    db.session.flush()
    return changed


@functools.cache
def _history_statement():
    return (
        select(
            AffiliationStatusChange.id,
            AffiliationStatusChange.status,
            AffiliationStatusChange.effective_date,
            AffiliationStatusChange.explanation,
            AffiliationStatusChange.deliberation_ref,
        )
        .where(AffiliationStatusChange.collectivite_id == bindparam("collectivite_id"))
        .order_by(AffiliationStatusChange.effective_date.desc(), AffiliationStatusChange.id.desc())
    )


def history(collectivite_id: int) -> list[Row]:
    """A body's statuses, newest first: rows of id, status, effective_date, explanation and deliberation_ref."""
    return list(db.session.execute(_history_statement(), {"collectivite_id": collectivite_id}))


# Decisions ----------------------------------------------------------------------------------------


def open_decisions_query():
    return (
        select(AffiliationDecision)
        .where(AffiliationDecision.state == "open")
        .order_by(AffiliationDecision.opened_at, AffiliationDecision.id)
    )


def voluntary_since(collectivite_id: int) -> date | None:
    """The date the current run of *volontaire* statuses began, if the body is voluntary now."""
    changes = history(collectivite_id)
    since = None
    for change in changes:  # newest first
        if change.effective_date > today():
            continue
        if change.status != rules.Status.VOLONTAIRE:
            break
        since = change.effective_date
    return since


def affiliated_totals(year: int) -> tuple[int, int]:
    """Number of affiliated bodies and their fonctionnaires à temps complet (latest declaration per body)."""
    affiliated = list(
        db.session.scalars(
            select(Collectivite.id).where(
                Collectivite.affiliation_status.in_([rules.Status.OBLIGATOIRE, rules.Status.VOLONTAIRE])
            )
        )
    )
    latest_year = (
        select(HeadcountDeclaration.collectivite_id, func.max(HeadcountDeclaration.id).label("last_id"))
        .where(HeadcountDeclaration.year <= year, HeadcountDeclaration.collectivite_id.in_(affiliated))
        .group_by(HeadcountDeclaration.collectivite_id)
        .subquery()
    )
    agents = db.session.scalar(
        select(func.coalesce(func.sum(HeadcountDeclaration.titulaires_temps_complet), 0)).join(
            latest_year, HeadcountDeclaration.id == latest_year.c.last_id
        )
    )
    return len(affiliated), int(agents or 0)


def decide(
    decision: AffiliationDecision,
    *,
    decided_status: str,
    effective_date: date,
    deliberation_ref: str,
    note: str | None,
    actor: User,
) -> AffiliationStatusChange | None:
    """Record a staff decision on an open decision; the status changes from its effective date."""
    if decision.state != "open":
        raise DomainError(_("Cette décision a déjà été enregistrée."))
    if decided_status not in {rules.Status.OBLIGATOIRE, rules.Status.VOLONTAIRE, rules.Status.NON_AFFILIEE}:
        raise DomainError(_("Statut décidé inconnu."), "decided_status")
    deliberation_ref = (deliberation_ref or "").strip()
    if not deliberation_ref:
        raise DomainError(_("La référence de la délibération ou de l'arrêté est obligatoire."), "deliberation_ref")
    body = decision.collectivite
    evaluation = compute(body, decision.year or effective_date.year)
    if decided_status == rules.Status.OBLIGATOIRE and rules.voluntary_only(body.kind):
        raise DomainError(
            _(
                "%(subject)s, quel que soit son effectif : l'affiliation ne peut pas être obligatoire (%(basis)s).",
                subject=rules.VOLUNTARY_ONLY_SUBJECTS[body.kind],
                basis=rules.LEGAL_BASIS_VOLUNTARY_ONLY,
            ),
            "decided_status",
        )
    if decided_status == rules.Status.OBLIGATOIRE and (evaluation.result.counted or 0) >= rules.THRESHOLD:
        raise DomainError(
            _(
                "L'effectif décompté (%(counted)s) atteint le seuil de %(threshold)s : l'affiliation ne "
                "peut pas être obligatoire.",
                counted=evaluation.result.counted,
                threshold=rules.THRESHOLD,
            ),
            "decided_status",
        )
    if (
        decided_status != rules.Status.OBLIGATOIRE
        and evaluation.result.counted is not None
        and evaluation.result.counted < rules.THRESHOLD
        and not rules.voluntary_only(body.kind)
    ):
        raise DomainError(
            _(
                "L'effectif décompté (%(counted)s) est inférieur à %(threshold)s : l'affiliation est "
                "obligatoire de droit.",
                counted=evaluation.result.counted,
                threshold=rules.THRESHOLD,
            ),
            "decided_status",
        )

    decision.state = "decided"
    decision.decided_status = decided_status
    decision.effective_date = effective_date
    decision.deliberation_ref = deliberation_ref
    decision.decision_note = (note or "").strip() or None
    decision.decided_at = utcnow()
    decision.decided_by_id = actor.id
    explanation = _(
        "Décision du CDG (%(kind)s) : %(status)s à compter du %(date)s.",
        kind=DECISION_KIND_LABELS.get(decision.kind, decision.kind),
        status=rules.status_label(decided_status),
        date=date_fr(effective_date),
    )
    if decision.decision_note:
        explanation += f" {decision.decision_note}"
    change = add_status_change(
        body,
        decided_status,
        effective_date,
        explanation,
        decision=decision,
        deliberation_ref=deliberation_ref,
        actor=actor,
    )
    audit.record(
        "affiliation.decide",
        f"Décision d'affiliation pour {body.name} : {rules.status_label(decided_status)}",
        actor=actor,
        obj=body,
        details={
            "decision_id": decision.id,
            "status": decided_status,
            "effective_date": effective_date.isoformat(),
            "deliberation_ref": deliberation_ref,
        },
    )
    return change


@dataclass
class VoluntaryRequest:
    kind: str  # voluntary_affiliation or withdrawal
    effective_date: date
    deliberation_ref: str
    opposing_bodies: int
    opposing_fonctionnaires: int
    note: str | None = None


def record_voluntary_decision(body: Collectivite, request: VoluntaryRequest, actor: User) -> AffiliationDecision:
    """A voluntary affiliation or a withdrawal, with the right of opposition of the affiliated bodies.

    Refused when the law forbids it (below 350, or a withdrawal before 6 years). When the
    opposition reaches one of the two majorities, the decision is kept with its reason and
    the status does not change.
    """
    year = request.effective_date.year
    evaluation = compute(body, year)
    counted = evaluation.result.counted
    if not rules.voluntary_only(body.kind) and (counted is None or counted < rules.THRESHOLD):
        raise DomainError(
            _(
                "Cette collectivité compte moins de 350 fonctionnaires à temps complet (ou n'a pas déclaré ses "
                "effectifs) : son affiliation est obligatoire, ni affiliation volontaire ni retrait ne sont possibles."
            )
        )
    if request.kind == DecisionKind.VOLUNTARY_AFFILIATION:
        if body.affiliation_status == rules.Status.VOLONTAIRE:
            raise DomainError(_("Cette collectivité est déjà affiliée volontairement."))
        target = rules.Status.VOLONTAIRE
    elif request.kind == DecisionKind.WITHDRAWAL:
        if body.affiliation_status != rules.Status.VOLONTAIRE:
            raise DomainError(_("Seule une collectivité affiliée volontairement peut se retirer."))
        since = voluntary_since(body.id)
        if since is not None and not rules.withdrawal_allowed(since, request.effective_date):
            raise DomainError(
                _(
                    "Le retrait n'est possible qu'après six ans d'affiliation volontaire, soit à partir du %(date)s.",
                    date=date_fr(rules.withdrawal_allowed_from(since)),
                ),
                "effective_date",
            )
        target = rules.Status.NON_AFFILIEE
    else:
        raise DomainError(_("Type de décision inconnu."), "kind")
    if not request.deliberation_ref.strip():
        raise DomainError(_("La référence de la délibération est obligatoire."), "deliberation_ref")

    bodies, agents = affiliated_totals(year)
    if body.affiliation_status in rules.AFFILIATED:  # the body itself does not vote on its own withdrawal
        bodies = max(0, bodies - 1)
        agents = max(0, agents - (counted or 0))
    if request.opposing_bodies > bodies or request.opposing_fonctionnaires > agents:
        raise DomainError(
            _(
                "L'opposition ne peut dépasser le total des collectivités affiliées (%(bodies)s) et de "
                "leurs fonctionnaires (%(agents)s).",
                bodies=bodies,
                agents=agents,
            ),
            "opposing_bodies",
        )
    opposition = rules.opposition_blocks(bodies, request.opposing_bodies, agents, request.opposing_fonctionnaires)
    decision = AffiliationDecision(
        collectivite=body,
        kind=request.kind,
        state="open",
        year=year,
        counted_headcount=counted,
        status_before=body.affiliation_status,
        proposed_status=target,
        reason=_(
            "%(kind)s demandée. %(explanation)s",
            kind=DECISION_KIND_LABELS[request.kind],
            explanation=opposition.explanation,
        ),
    )
    db.session.add(decision)
    db.session.flush()
    if opposition.blocked:
        decision.state = "decided"
        decision.decided_status = body.affiliation_status
        decision.effective_date = request.effective_date
        decision.deliberation_ref = request.deliberation_ref.strip()
        decision.decision_note = _("Refusée : %(explanation)s", explanation=opposition.explanation)
        decision.decided_at = utcnow()
        decision.decided_by_id = actor.id
        audit.record(
            "affiliation.opposition",
            f"{DECISION_KIND_LABELS[request.kind]} de {body.name} bloquée par opposition",
            actor=actor,
            obj=body,
            details={"decision_id": decision.id},
        )
        return decision
    decide(
        decision,
        decided_status=target,
        effective_date=request.effective_date,
        deliberation_ref=request.deliberation_ref,
        note=(request.note or "") + " " + opposition.explanation,
        actor=actor,
    )
    return decision


@functools.cache
def _decisions_statement():
    return (
        select(
            AffiliationDecision.id,
            AffiliationDecision.state,
            AffiliationDecision.reason,
            AffiliationDecision.opened_at,
            AffiliationDecision.decided_status,
            AffiliationDecision.effective_date,
            AffiliationDecision.deliberation_ref,
            AffiliationDecision.decision_note,
        )
        .where(AffiliationDecision.collectivite_id == bindparam("collectivite_id"))
        .order_by(AffiliationDecision.opened_at.desc(), AffiliationDecision.id.desc())
    )


def decisions_for(collectivite_id: int) -> list[Row]:
    """A body's decisions, newest first, as the page of the body lists them: rows of id, state, reason, opened_at,
    decided_status, effective_date, deliberation_ref and decision_note."""
    return list(db.session.execute(_decisions_statement(), {"collectivite_id": collectivite_id}))
