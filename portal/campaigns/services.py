"""Campaign use cases: open (tasks and opening message), remind, follow progress, close and reopen, answer a step.

Whether a task is answered is never stored: each step's condition (``definitions.Step.done_condition``) is read
in the query, so a headcount declared on the collectivité's page, through the API or in the campaign's form
answers the task the moment it is committed. Each message to a task (the opening, each reminder) is recorded
under a unique (task, code) key before its email is queued, in the same transaction: a job that runs twice, or
two beats at once, never sends the same reminder twice.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.dates import format_date
from flask import current_app
from sqlalchemy import func, insert, literal, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from portal.accounts.models import Role, User, secretary_collectivite
from portal.audit import services as audit

# The built-in kinds of campaign register themselves when imported.
from portal.campaigns import definitions, headcount, rules  # noqa: F401 - headcount registers itself
from portal.campaigns.models import Campaign, CampaignAnswer, CampaignMessage, CampaignTask
from portal.common import cdg, stored_files
from portal.common.clock import paris_today, utcnow
from portal.common.errors import DomainError
from portal.common.files import clean_upload_name
from portal.common.formatting import decimal_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.inputs import year_problem
from portal.common.labels import N_
from portal.extensions import db
from portal.notifications.services import queue_email
from portal.registry.kinds import COMMUNE_ATTACHED_KINDS, label
from portal.registry.models import Collectivite

EPCI = aliased(Collectivite)
PARENT = aliased(Collectivite)


def day_fr(value: date) -> str:
    """ "1er janvier 2027", "15 mars 2027": the French way, ordinal on the first of the month."""
    text = format_date(value, "d MMMM y", locale="fr_FR")
    return "1er" + text[1:] if value.day == 1 else text


def reminders() -> tuple[rules.Reminder, ...]:
    return rules.parse_reminders(",".join(current_app.config["CAMPAIGN_REMINDERS"]))


def definition_of(campaign: Campaign) -> definitions.Definition:
    definition = definitions.get(campaign.kind)
    if definition is None:  # a kind removed from the code: its campaigns stay readable, not actionable
        raise DomainError(_("Le type de campagne « %(kind)s » n'est plus défini.", kind=campaign.kind))
    return definition


# Opening ------------------------------------------------------------------------------------------------------


@dataclass
class OpenInput:
    kind: str
    year: int
    deadline: date
    message: str = ""
    scope_kinds: tuple[str, ...] | None = None  # None: the definition's


def scope_statement(kinds: list[str], departements: list[str]):
    """The ids of the bodies in scope: of ``kinds``, seated in the CDG's départements (every one when empty)."""
    statement = select(Collectivite.id).where(Collectivite.kind.in_(kinds))
    if departements:
        statement = statement.where(Collectivite.departement_code.in_(departements))
    return statement


def open_campaign(data: OpenInput, actor: User | None, today: date | None = None) -> Campaign:
    """Open a campaign: one task per body in scope, the opening email to the secretaries of those not answered.
    Refused (DomainError naming the field, nothing written): an unknown kind, a year outside the portal's
    range, a deadline in the past or before the reference date, a second campaign of a yearly kind, a scope
    with no body."""
    today = today or paris_today()
    definition = definitions.get(data.kind)
    if definition is None:
        raise DomainError(_("Choisissez un type de campagne de la liste."), "kind")
    problem = year_problem(data.year, latest=today.year + 1)
    if problem:
        raise DomainError(problem, "year")
    reference = definition.reference_date(data.year)
    dates = rules.dates_problem(reference_date=reference, deadline=data.deadline, today=today)
    if dates:
        raise DomainError(dates[1], dates[0])
    if definition.one_per_year and db.session.scalar(
        select(Campaign.id).where(Campaign.kind == definition.code, Campaign.year == data.year)
    ):
        raise DomainError(
            _(
                "La campagne « %(title)s » existe déjà : rouvrez-la si elle est close.",
                title=definition.campaign_title(data.year),
            ),
            "year",
        )
    kinds = [k for k in (data.scope_kinds or definition.scope_kinds) if k in definition.scope_kinds]
    if not kinds:
        raise DomainError(_("Choisissez au moins un type de collectivité."), "scope_kinds")
    departements = list(cdg.departements())
    campaign = Campaign(
        kind=definition.code,
        year=data.year,
        title=definition.campaign_title(data.year),
        reference_date=reference,
        deadline=data.deadline,
        message=(data.message or "").strip(),
        scope={"kinds": kinds, "departements": departements},
        state=rules.State.OPEN,
        opened_on=today,
        opened_by_id=getattr(actor, "id", None),
    )
    db.session.add(campaign)
    db.session.flush()
    # One INSERT … SELECT, whatever the number of bodies (a national federation: 36,000).
    created_at = literal(utcnow(), CampaignTask.__table__.c.created_at.type)
    db.session.execute(
        insert(CampaignTask).from_select(
            ["campaign_id", "collectivite_id", "created_at"],
            select(literal(campaign.id), Collectivite.id, created_at).where(
                Collectivite.id.in_(scope_statement(kinds, departements))
            ),
        )
    )
    count = db.session.scalar(select(func.count()).where(CampaignTask.campaign_id == campaign.id))
    if not count:
        raise DomainError(_("Aucune collectivité du registre n'entre dans cette campagne."), "scope_kinds")
    audit.record(
        "campaign.open",
        ngettext(
            "Ouverture de la campagne « %(title)s » (%(count)s collectivité, date limite %(deadline)s)",
            "Ouverture de la campagne « %(title)s » (%(count)s collectivités, date limite %(deadline)s)",
            count,
            title=campaign.title,
            count=decimal_fr(count),
            deadline=day_fr(data.deadline),
        ),
        actor=actor,
        obj=campaign,
        details={"kind": campaign.kind, "year": campaign.year, "tasks": count, "deadline": data.deadline.isoformat()},
    )
    unanswered = [task_id for task_id, answered in _task_states(campaign, definition) if not answered]
    _send(campaign, definition, dict.fromkeys(unanswered, rules.OPENING))
    return campaign


# Answered or not ----------------------------------------------------------------------------------------------


def _task_states(campaign: Campaign, definition: definitions.Definition) -> list[tuple[int, bool]]:
    answered = definitions.answered_condition(definition)
    return list(
        db.session.execute(
            select(CampaignTask.id, answered).where(CampaignTask.campaign_id == campaign.id).order_by(CampaignTask.id)
        ).all()
    )


def is_answered(task: CampaignTask) -> bool:
    definition = definition_of(task.campaign)
    return bool(db.session.scalar(select(definitions.answered_condition(definition)).where(CampaignTask.id == task.id)))


def step_states(task: CampaignTask) -> list[tuple[definitions.Step, bool]]:
    definition = definition_of(task.campaign)
    conditions = [step.done_condition() for step in definition.steps]
    row = db.session.execute(select(*conditions).where(CampaignTask.id == task.id)).one()
    return list(zip(definition.steps, (bool(v) for v in row), strict=True))


# Who answers ------------------------------------------------------------------------------------------------


def recipients_by_task(campaign: Campaign, definition: definitions.Definition) -> dict[int, list[User]]:
    """The active secretaries who answer each task: the body's own, and for a kind that takes attached bodies
    with their commune, the commune's secretaries for its CCAS and caisse des écoles. Two queries."""
    own = (
        select(CampaignTask.id.label("task_id"), secretary_collectivite.c.user_id.label("user_id"))
        .join(secretary_collectivite, secretary_collectivite.c.collectivite_id == CampaignTask.collectivite_id)
        .where(CampaignTask.campaign_id == campaign.id)
    )
    pairs = own
    if definition.with_attached_bodies:
        via_parent = (
            select(CampaignTask.id.label("task_id"), secretary_collectivite.c.user_id.label("user_id"))
            .join(Collectivite, Collectivite.id == CampaignTask.collectivite_id)
            .join(secretary_collectivite, secretary_collectivite.c.collectivite_id == Collectivite.parent_id)
            .where(
                CampaignTask.campaign_id == campaign.id,
                Collectivite.kind.in_([k.value for k in COMMUNE_ATTACHED_KINDS]),
            )
        )
        pairs = union(own, via_parent)
    pairs = pairs.subquery()
    rows = db.session.execute(
        select(pairs.c.task_id, pairs.c.user_id)
        .join(User, User.id == pairs.c.user_id)
        .where(User.role == Role.SECRETARY, User.active.is_(True))
    ).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({user_id for _t, user_id in rows})))}
    result: dict[int, list[User]] = defaultdict(list)
    for task_id, user_id in sorted(rows):
        result[task_id].append(users[user_id])
    return result


# Messages ---------------------------------------------------------------------------------------------------


def _send(campaign: Campaign, definition: definitions.Definition, codes: dict[int, str]) -> int:
    """Record each (task, code) and queue one email per secretary listing her bodies; returns emails queued.
    A task nobody answers on the portal gets no record: its first secretary will get the next reminder."""
    if not codes:
        return 0
    recipients = recipients_by_task(campaign, definition)
    tasks = {
        t.id: t
        for t in db.session.scalars(
            select(CampaignTask)
            .options(joinedload(CampaignTask.collectivite))
            .where(CampaignTask.id.in_([i for i in codes if recipients.get(i)]))
        )
    }
    by_user: dict[int, tuple[User, list[CampaignTask], set[str]]] = {}
    for task_id, task in tasks.items():
        db.session.add(CampaignMessage(task_id=task_id, code=codes[task_id]))
        for user in recipients[task_id]:
            entry = by_user.setdefault(user.id, (user, [], set()))
            entry[1].append(task)
            entry[2].add(codes[task_id])
    db.session.flush()  # the unique (task, code) key: a second run fails here, before any email is queued
    base_url = current_app.config["PORTAL_BASE_URL"]
    for user, user_tasks, user_codes in by_user.values():
        opening = user_codes == {rules.OPENING}
        user_tasks.sort(key=lambda t: t.collectivite.name_normalised)
        queue_email(
            template="campaign",
            category=definition.email_category,
            to_user=user,
            context={
                "full_name": user.full_name,
                "opening": opening,
                "title": campaign.title,
                "description": str(definition.description),  # a lazy text: the context is stored as JSON
                "message": campaign.message,
                "deadline": day_fr(campaign.deadline),
                "bodies": [t.collectivite.name for t in user_tasks],
                "link": f"/campagnes/{campaign.id}/taches/{user_tasks[0].id}" if len(user_tasks) == 1 else "/",
                "base_url": base_url,
            },
        )
    return len(by_user)


def run_reminders(today: date | None = None) -> int:
    """The daily job: for each open campaign, the reminder due today to each body that has not answered
    (:func:`rules.due_reminder`). Safe to run twice: what was sent is recorded under a unique key."""
    today = today or paris_today()
    planned = reminders()
    sent = 0
    for campaign in db.session.scalars(
        select(Campaign).where(Campaign.state == rules.State.OPEN).order_by(Campaign.id)
    ):
        definition = definitions.get(campaign.kind)
        if definition is None:
            continue
        already: dict[int, set[str]] = defaultdict(set)
        for task_id, code in db.session.execute(
            select(CampaignMessage.task_id, CampaignMessage.code)
            .join(CampaignTask, CampaignTask.id == CampaignMessage.task_id)
            .where(CampaignTask.campaign_id == campaign.id)
        ):
            already[task_id].add(code)
        codes = {}
        for task_id, answered in _task_states(campaign, definition):
            due = rules.due_reminder(
                planned,
                opened_on=campaign.opened_on,
                deadline=campaign.deadline,
                today=today,
                answered=bool(answered),
                sent=already[task_id],
            )
            if due is not None:
                codes[task_id] = due.code
        sent += _send(campaign, definition, codes)
    return sent


def run_reminders_once(today: date | None = None) -> int:
    """:func:`run_reminders` in a savepoint: a concurrent run that recorded the same reminders first (unique
    key) makes this one send nothing, instead of failing."""
    try:
        with db.session.begin_nested():
            return run_reminders(today)
    except IntegrityError:
        current_app.logger.info("Campagnes : relances déjà envoyées par une autre exécution.")
        return 0


# Progress ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MissingRow:
    task_id: int
    collectivite_id: int
    name: str
    kind: str
    insee_code: str | None
    siren: str | None
    epci: str | None
    secretaries: list[str]
    reminders: list[str]

    @property
    def kind_label(self) -> str:
        return label(self.kind)


def _rows(campaign: Campaign, definition: definitions.Definition):
    answered = definitions.answered_condition(definition).label("answered")
    return db.session.execute(
        select(
            CampaignTask.id,
            answered,
            Collectivite.id.label("collectivite_id"),
            Collectivite.name,
            Collectivite.kind,
            Collectivite.insee_code,
            Collectivite.siren,
            EPCI.name.label("epci"),
        )
        .join(Collectivite, Collectivite.id == CampaignTask.collectivite_id)
        .outerjoin(PARENT, PARENT.id == Collectivite.parent_id)
        # A CCAS or a caisse des écoles counts in the EPCI of its commune.
        .outerjoin(EPCI, EPCI.id == func.coalesce(Collectivite.epci_id, PARENT.epci_id))
        .where(CampaignTask.campaign_id == campaign.id)
        .order_by(Collectivite.name_normalised, Collectivite.id)
    ).all()


def progress(campaign: Campaign) -> tuple[rules.Progress, list[MissingRow]]:
    """The campaign's progress (overall, by EPCI, by kind) and the bodies that have not answered, by name.
    Three queries whatever the number of bodies."""
    definition = definition_of(campaign)
    rows = _rows(campaign, definition)
    recipients = recipients_by_task(campaign, definition)
    sent: dict[int, list[str]] = defaultdict(list)
    for task_id, code in db.session.execute(
        select(CampaignMessage.task_id, CampaignMessage.code)
        .join(CampaignTask, CampaignTask.id == CampaignMessage.task_id)
        .where(CampaignTask.campaign_id == campaign.id, CampaignMessage.code != rules.OPENING)
        .order_by(CampaignMessage.sent_at, CampaignMessage.id)
    ):
        sent[task_id].append(code)
    tally = rules.progress([rules.TaskRow(bool(r.answered), r.kind, r.epci, bool(recipients.get(r.id))) for r in rows])
    missing = [
        MissingRow(
            r.id,
            r.collectivite_id,
            r.name,
            r.kind,
            r.insee_code,
            r.siren,
            r.epci,
            [u.email for u in recipients.get(r.id, [])],
            sent[r.id],
        )
        for r in rows
        if not r.answered
    ]
    return tally, missing


MISSING_HEADER = (
    N_("Collectivité"),
    N_("Type"),
    N_("Code INSEE"),
    N_("SIREN"),
    N_("EPCI"),
    N_("Secrétaires sur le portail"),
    N_("Relances envoyées"),
)


def missing_csv_rows(missing: list[MissingRow]):
    for row in missing:
        yield (
            row.name,
            row.kind_label,
            row.insee_code or "",
            row.siren or "",
            row.epci or "",
            ", ".join(row.secretaries) if row.secretaries else "sans secrétaire sur le portail",
            ", ".join(row.reminders) if row.reminders else "aucune",
        )


def list_campaigns() -> list[tuple[Campaign, rules.Tally]]:
    """Every campaign, the latest first, with its answered/total (one query per campaign: there are few)."""
    result = []
    for campaign in db.session.scalars(select(Campaign).order_by(Campaign.opened_at.desc(), Campaign.id.desc())):
        definition = definitions.get(campaign.kind)
        if definition is None:
            continue
        states = _task_states(campaign, definition)
        result.append((campaign, rules.Tally(sum(1 for _i, a in states if a), len(states))))
    return result


# Closing and reopening ----------------------------------------------------------------------------------------


def close(campaign: Campaign, actor: User) -> None:
    if not campaign.is_open:
        raise DomainError(_("La campagne est déjà close."))
    campaign.state = rules.State.CLOSED
    campaign.closed_at = utcnow()
    campaign.closed_by_id = actor.id
    db.session.flush()
    audit.record("campaign.close", f"Clôture de la campagne « {campaign.title} »", actor=actor, obj=campaign)


def reopen(campaign: Campaign, deadline: date, actor: User, today: date | None = None) -> None:
    """Reopen a closed campaign with a deadline to come. Reminders already sent are not sent again."""
    if campaign.is_open:
        raise DomainError(_("La campagne est déjà en cours."))
    dates = rules.dates_problem(reference_date=campaign.reference_date, deadline=deadline, today=today or paris_today())
    if dates:
        raise DomainError(dates[1], dates[0])
    campaign.state = rules.State.OPEN
    campaign.deadline = deadline
    campaign.closed_at = None
    campaign.closed_by_id = None
    db.session.flush()
    audit.record(
        "campaign.reopen",
        f"Réouverture de la campagne « {campaign.title} » jusqu'au {day_fr(deadline)}",
        actor=actor,
        obj=campaign,
        details={"deadline": deadline.isoformat()},
    )


# A body's tasks ---------------------------------------------------------------------------------------------


def _managed_ids(user) -> list[int]:
    return [c.id for c in user.collectivites]


def can_answer(user, task: CampaignTask, definition: definitions.Definition) -> bool:
    """Staff answer for any body; a secretary for hers, and for a kind that takes them, for the CCAS and caisse
    des écoles of her communes."""
    if user.role == Role.STAFF:
        return True
    if user.role != Role.SECRETARY:
        return False
    ids = set(_managed_ids(user))
    body = task.collectivite
    if body.id in ids:
        return True
    return definition.with_attached_bodies and body.kind in COMMUNE_ATTACHED_KINDS and body.parent_id in ids


def get_task_or_404(user, campaign_id: int, task_id: int) -> CampaignTask:
    from flask import abort

    task = db.session.get(CampaignTask, task_id)
    if task is None or task.campaign_id != campaign_id:
        abort(404)
    definition = definitions.get(task.campaign.kind)
    if definition is None or not can_answer(user, task, definition):
        abort(404)
    return task


@dataclass(frozen=True)
class OpenTask:
    task_id: int
    campaign: Campaign
    body_name: str
    answered: bool


def tasks_for(user) -> list[OpenTask]:
    """A secretary's tasks in the open campaigns: her bodies' and, where the kind takes them, those of the CCAS
    and caisse des écoles of her communes. One query per open campaign."""
    ids = _managed_ids(user)
    if not ids:
        return []
    result = []
    for campaign in db.session.scalars(
        select(Campaign).where(Campaign.state == rules.State.OPEN).order_by(Campaign.deadline)
    ):
        definition = definitions.get(campaign.kind)
        if definition is None:
            continue
        condition = Collectivite.id.in_(ids)
        if definition.with_attached_bodies:
            condition = condition | (
                Collectivite.parent_id.in_(ids) & Collectivite.kind.in_([k.value for k in COMMUNE_ATTACHED_KINDS])
            )
        rows = db.session.execute(
            select(CampaignTask.id, Collectivite.name, definitions.answered_condition(definition))
            .join(Collectivite, Collectivite.id == CampaignTask.collectivite_id)
            .where(CampaignTask.campaign_id == campaign.id, condition)
            .order_by(Collectivite.name_normalised)
        ).all()
        result += [OpenTask(task_id, campaign, name, bool(answered)) for task_id, name, answered in rows]
    return result


# Documents ----------------------------------------------------------------------------------------------------


def storage_dir(task: CampaignTask) -> Path:
    """Outside the web root, under the instance folder: served only through an authorised view."""
    return Path(current_app.instance_path) / "campaigns" / str(task.campaign_id) / str(task.id)


def document_path(answer: CampaignAnswer) -> Path:
    return storage_dir(answer.task) / answer.stored_name


def add_document(task: CampaignTask, step_code: str, filename: str, stream, actor: User) -> CampaignAnswer:
    """Answer a document step (a deliberation): a PDF, not empty, at most ``CAMPAIGN_MAX_UPLOAD_MB``. Refused with
    a French message naming the file (nothing written) otherwise, or when the campaign is closed."""
    definition = definition_of(task.campaign)
    step = next((s for s in definition.steps if s.code == step_code), None)
    if step is None or step.kind != definitions.StepKind.DOCUMENT:
        raise DomainError(_("Cette étape n'attend pas de document."), "file")
    if not task.campaign.is_open:
        raise DomainError(_("La campagne est close : elle n'attend plus de réponse."), "file")
    limit = current_app.config["CAMPAIGN_MAX_UPLOAD_MB"] * 1024 * 1024
    data = stream.read(limit + 1)
    name = clean_upload_name(filename, CampaignAnswer.__table__.c.filename.type.length)
    problem = rules.document_problem(name, data[:8], len(data), limit)
    if problem:
        raise DomainError(problem, "file")
    answer = CampaignAnswer(
        task_id=task.id,
        step=step.code,
        answered_by_id=actor.id,
        filename=name,
        stored_name=secrets.token_hex(16) + ".pdf",
        size=len(data),
    )
    db.session.add(answer)
    db.session.flush()
    directory = storage_dir(task)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / answer.stored_name
    path.write_bytes(data)
    stored_files.written_in_transaction(path)
    audit.record(
        "campaign.answer",
        _(
            "%(step)s de %(body)s pour « %(campaign)s » : « %(name)s »",
            step=step.label,
            body=task.collectivite.name,
            campaign=task.campaign.title,
            name=name,
        ),
        actor=actor,
        obj=task.collectivite,
        details={"campaign_id": task.campaign_id, "step": step.code, "size": len(data)},
    )
    return answer


def answers(task: CampaignTask) -> dict[str, CampaignAnswer]:
    """The latest answer of each step."""
    latest: dict[str, CampaignAnswer] = {}
    for answer in db.session.scalars(
        select(CampaignAnswer).where(CampaignAnswer.task_id == task.id).order_by(CampaignAnswer.id)
    ):
        latest[answer.step] = answer
    return latest
