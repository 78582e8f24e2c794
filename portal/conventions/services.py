"""Convention use cases: partners, conventions with their parties, signatories and axes, follow-up actions,
comité de suivi meetings, documents, what a user may see, the list's filters and the renewal alerts.

Rules come from :mod:`portal.conventions.rules`. Services only flush; the caller commits. Refusals are
:class:`DomainError` in French, raised before anything is written, so that nothing is saved half-way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import selectinload

from portal.accounts.models import Role, User
from portal.audit import services as audit
from portal.common import stored_files
from portal.common.clock import paris_today, utcnow
from portal.common.errors import DomainError
from portal.common.files import clean_upload_name
from portal.common.formatting import date_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.text import normalise
from portal.conventions import rules
from portal.conventions.models import (
    ACTION_STATUS_LABELS,
    PARTNER_KIND_LABELS,
    Axis,
    AxisAction,
    Convention,
    ConventionAlert,
    ConventionDocument,
    ConventionParty,
    Meeting,
    Partner,
    PartnerKind,
    Signatory,
)
from portal.extensions import db
from portal.registry.models import Collectivite
from portal.registry.visibility import attached_collectivite_ids

ALERT_TASK = "conventions.alerts"


def alert_days() -> int:
    return int(current_app.config.get("CONVENTION_ALERT_DAYS", rules.DEFAULT_ALERT_DAYS))


def max_upload_bytes() -> int:
    return int(float(current_app.config.get("CONVENTION_MAX_UPLOAD_MB", 10)) * 1024 * 1024)


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


# Partners -----------------------------------------------------------------------------------------


@dataclass
class PartnerInput:
    name: str
    kind: str
    representative_name: str | None = None
    representative_role: str | None = None
    collectivite_id: int | None = None


def create_partner(data: PartnerInput, actor: User | None) -> Partner:
    """A new partner. Refused: no name, an unknown kind, a name or a collectivité already recorded."""
    name = _clean(data.name)
    if not name:
        raise DomainError(_("Indiquez le nom du partenaire."), "name")
    if data.kind not in PARTNER_KIND_LABELS:
        raise DomainError(_("Choisissez le type de partenaire."), "kind")
    if db.session.scalar(select(Partner.id).where(Partner.name == name)) is not None:
        raise DomainError(_("Le partenaire « %(name)s » existe déjà.", name=name), "name")
    body = None
    if data.collectivite_id:
        body = db.session.get(Collectivite, data.collectivite_id)
        if body is None:
            raise DomainError(_("Collectivité inconnue."), "collectivite_id")
        if db.session.scalar(select(Partner.id).where(Partner.collectivite_id == body.id)) is not None:
            raise DomainError(_("%(name)s est déjà enregistrée comme partenaire.", name=body.name), "collectivite_id")
    partner = Partner(
        name=name,
        kind=PartnerKind.COLLECTIVITE if body is not None and data.kind == PartnerKind.OTHER else data.kind,
        collectivite=body,
        representative_name=_clean(data.representative_name),
        representative_role=_clean(data.representative_role),
    )
    db.session.add(partner)
    db.session.flush()
    audit.record("convention.partner_create", f"Nouveau partenaire : {name}", actor=actor, obj=partner)
    return partner


def partner_for_collectivite(body: Collectivite, actor: User | None = None) -> Partner:
    """The partner row of a collectivité of the registry, created on first use."""
    found = db.session.scalar(select(Partner).where(Partner.collectivite_id == body.id))
    if found is not None:
        return found
    return create_partner(PartnerInput(body.name, PartnerKind.COLLECTIVITE, collectivite_id=body.id), actor)


def all_partners() -> list[Partner]:
    return list(db.session.scalars(select(Partner).order_by(Partner.name)))


# Conventions --------------------------------------------------------------------------------------


@dataclass
class PartyInput:
    partner_id: int
    representative: str | None = None
    deliberation_ref: str | None = None


@dataclass
class SignatoryInput:
    name: str
    role: str | None = None
    partner_id: int | None = None


@dataclass
class AxisInput:
    title: str
    description: str | None = None


@dataclass
class ConventionInput:
    title: str
    kind: str
    object: str | None = None
    signed_on: date | None = None
    start_date: date | None = None
    end_date: date | None = None
    duration_months: int | None = None
    tacit_renewal: bool = False
    renewal_months: int | None = None
    notice_months: int | None = None
    deliberation_refs: str | None = None
    follow_up: str | None = None
    parent_id: int | None = None
    parties: list[PartyInput] = field(default_factory=list)
    signatories: list[SignatoryInput] = field(default_factory=list)
    axes: list[AxisInput] = field(default_factory=list)

    def terms(self) -> rules.Terms:
        return rules.Terms(
            signed_on=self.signed_on,
            start_date=self.start_date,
            end_date=self.end_date,
            duration_months=self.duration_months,
            tacit_renewal=self.tacit_renewal,
            renewal_months=self.renewal_months,
            notice_months=self.notice_months,
        )


def _validate(data: ConventionInput) -> tuple[list[Partner], Convention | None]:
    if not _clean(data.title):
        raise DomainError(_("Indiquez l'intitulé de la convention."), "title")
    if data.kind not in rules.KIND_LABELS:
        raise DomainError(_("Choisissez le type de convention."), "kind")
    for name, message in rules.date_problems(data.terms()):
        raise DomainError(message, name)
    partners = _validate_parties(data.parties, data.signatories)
    for index, axis in enumerate(data.axes, start=1):
        if not _clean(axis.title):
            raise DomainError(_("Axe n° %(index)s : indiquez son intitulé.", index=index), "axes")
    parent = None
    if data.parent_id:
        parent = db.session.get(Convention, data.parent_id)
        if parent is None:
            raise DomainError(_("La convention-cadre choisie n'existe pas."), "parent_id")
        if rules.outlasts(data.terms(), parent.terms):
            raise DomainError(
                _(
                    "La convention ne peut pas durer au-delà de la convention-cadre qu'elle applique "
                    "(« %(title)s », %(period)s).",
                    title=parent.title,
                    period=_period_fr(parent),
                ),
                "parent_id",
            )
    return partners, parent


def _validate_parties(
    parties: list[PartyInput], signatories: list[SignatoryInput], dropped_partner_ids: frozenset[int] = frozenset()
) -> list[Partner]:
    """The partners of ``parties``, in their order. Refused: fewer than two, one twice, an unknown one, a signatory
    without a name or for a partner that is not a party (those of ``dropped_partner_ids`` excepted: they leave
    with their party)."""
    partner_ids = [p.partner_id for p in parties]
    if len(set(partner_ids)) != len(partner_ids):
        raise DomainError(_("Un même partenaire figure deux fois parmi les parties."), "parties")
    if rules.too_few_parties(len(partner_ids)):
        raise DomainError(_("Une convention lie au moins deux parties : choisissez-en au moins deux."), "parties")
    partners = {p.id: p for p in db.session.scalars(select(Partner).where(Partner.id.in_(partner_ids)))}
    if len(partners) != len(partner_ids):
        raise DomainError(_("Un des partenaires choisis n'existe pas."), "parties")
    for index, signatory in enumerate(signatories, start=1):
        if not _clean(signatory.name):
            raise DomainError(_("Signataire n° %(index)s : indiquez son nom.", index=index), "signatories")
        if (
            signatory.partner_id is not None
            and signatory.partner_id not in partners
            and signatory.partner_id not in dropped_partner_ids
        ):
            raise DomainError(
                _("Signataire n° %(index)s : la partie qu'il représente doit figurer parmi les parties.", index=index),
                "signatories",
            )
    return [partners[i] for i in partner_ids]


def _period(convention: Convention) -> str:
    start = convention.start_date.strftime("%d/%m/%Y") if convention.start_date else "?"
    end = convention.end_date.strftime("%d/%m/%Y") if convention.end_date else "sans terme"
    return f"du {start} au {end}" if convention.end_date else f"à partir du {start}, {end}"


def _period_fr(convention: Convention) -> str:
    """The period of a convention in a message: "du 1er janvier 2026 au 31 décembre 2028"."""
    start = date_fr(convention.start_date) if convention.start_date else "?"
    if convention.end_date:
        return _("du %(start)s au %(end)s", start=start, end=date_fr(convention.end_date))
    return _("à partir du %(start)s, sans terme", start=start)


def create_convention(data: ConventionInput, actor: User | None) -> Convention:
    """Record a convention with its parties, signatories and axes. Refused (nothing written): no title or kind,
    an end before the start, fewer than two parties, a signatory for a party not bound, a local contract that
    outlasts its framework agreement."""
    partners, parent = _validate(data)
    convention = Convention(
        title=data.title.strip(),
        kind=data.kind,
        object=_clean(data.object),
        signed_on=data.signed_on,
        start_date=data.start_date,
        end_date=rules.initial_end(data.terms()),
        duration_months=data.duration_months,
        tacit_renewal=data.tacit_renewal,
        renewal_months=data.renewal_months,
        notice_months=data.notice_months,
        deliberation_refs=_clean(data.deliberation_refs),
        follow_up=_clean(data.follow_up),
        parent=parent,
        created_by_id=getattr(actor, "id", None),
    )
    by_partner = {}
    for party_input, partner in zip(data.parties, partners, strict=True):
        party = ConventionParty(
            partner=partner,
            representative=_clean(party_input.representative) or partner.representative_name,
            deliberation_ref=_clean(party_input.deliberation_ref),
        )
        convention.parties.append(party)
        by_partner[partner.id] = party
    for signatory in data.signatories:
        convention.signatories.append(
            Signatory(
                name=signatory.name.strip(), role=_clean(signatory.role), party=by_partner.get(signatory.partner_id)
            )
        )
    for position, axis in enumerate(data.axes, start=1):
        convention.axes.append(Axis(position=position, title=axis.title.strip(), description=_clean(axis.description)))
    db.session.add(convention)
    db.session.flush()
    audit.record(
        "convention.create",
        f"Nouvelle convention : {convention.title} ({', '.join(p.name for p in partners)})",
        actor=actor,
        obj=convention,
        details={"kind": convention.kind, "parent_id": convention.parent_id},
    )
    return convention


def update_terms(convention: Convention, data: ConventionInput, actor: User) -> Convention:
    """Change a convention's identity and terms (its parties, signatories and axes stay). Refused, with nothing
    changed, for the same reasons as a creation, and when one of its local contracts would outlast it."""
    data.parties = [PartyInput(p.partner_id, p.representative, p.deliberation_ref) for p in convention.parties]
    if data.parent_id == convention.id:
        raise DomainError(_("Une convention ne peut pas appliquer elle-même."), "parent_id")
    _partners, parent = _validate(data)
    new_terms = replace(data.terms(), end_date=rules.initial_end(data.terms()), terminated_on=convention.terminated_on)
    for child in convention.children:
        if rules.outlasts(child.terms, new_terms):
            raise DomainError(
                _(
                    "Le contrat local « %(title)s » (%(period)s) durerait au-delà de cette convention : "
                    "modifiez-le d'abord.",
                    title=child.title,
                    period=_period_fr(child),
                ),
                "end_date",
            )
    before = _period(convention)
    convention.title, convention.kind, convention.object = data.title.strip(), data.kind, _clean(data.object)
    convention.signed_on, convention.start_date = data.signed_on, data.start_date
    convention.end_date, convention.duration_months = new_terms.end_date, data.duration_months
    convention.tacit_renewal, convention.renewal_months = data.tacit_renewal, data.renewal_months
    convention.notice_months = data.notice_months
    convention.deliberation_refs, convention.follow_up = _clean(data.deliberation_refs), _clean(data.follow_up)
    convention.parent = parent
    db.session.flush()
    audit.record(
        "convention.update",
        f"Convention modifiée : {convention.title} (avant : {before} ; après : {_period(convention)})",
        actor=actor,
        obj=convention,
    )
    return convention


@dataclass
class PartiesChange:
    """What an edit of a convention's parties and signatories would change, computed before anything is written:
    the confirmation page shows it, the audit entry records it."""

    partners: list[Partner]
    parties: list[PartyInput]
    signatories: list[SignatoryInput]
    added: list[str]
    removed: list[str]
    amended: list[str]
    dropped_signatories: list[str]
    hidden_from: list[str]
    signatories_before: list[str]
    signatories_after: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.amended or self.signatories_before != self.signatories_after)


def _signatory_label(name: str, role: str | None, party: str | None) -> str:
    label = f"{name} ({role})" if role else name
    return f"{label} – {party}" if party else label


def preview_parties(
    convention: Convention, parties: list[PartyInput], signatories: list[SignatoryInput]
) -> PartiesChange:
    """What replacing the parties and signatories of ``convention`` by these would change; writes nothing.
    Refused as at creation: fewer than two parties, a partner twice, a signatory without a name or for a partner
    that is not a party. A signatory still attached to a party being removed leaves with it
    (``dropped_signatories``, to be confirmed)."""
    current = {party.partner_id: party for party in convention.parties}
    removed_ids = frozenset(current) - {p.partner_id for p in parties}
    partners = _validate_parties(parties, signatories, removed_ids)
    names = {partner.id: partner.name for partner in partners} | {i: p.partner.name for i, p in current.items()}
    kept = [s for s in signatories if s.partner_id not in removed_ids]
    leaving = [party for party in convention.parties if party.partner_id in removed_ids]
    amended = [
        names[p.partner_id]
        for p in parties
        if p.partner_id in current
        and (
            (_clean(p.representative), _clean(p.deliberation_ref))
            != (current[p.partner_id].representative, current[p.partner_id].deliberation_ref)
        )
    ]
    return PartiesChange(
        partners=partners,
        parties=parties,
        signatories=kept,
        added=[partner.name for partner in partners if partner.id not in current],
        removed=[party.partner.name for party in leaving],
        amended=amended,
        dropped_signatories=[
            _signatory_label(s.name.strip(), _clean(s.role), names[s.partner_id])
            for s in signatories
            if s.partner_id in removed_ids
        ],
        hidden_from=[party.partner.name for party in leaving if party.partner.collectivite_id is not None],
        signatories_before=[
            _signatory_label(s.name, s.role, s.party.partner.name if s.party else None) for s in convention.signatories
        ],
        signatories_after=[
            _signatory_label(s.name.strip(), _clean(s.role), names.get(s.partner_id) if s.partner_id else None)
            for s in kept
        ],
    )


def update_parties(
    convention: Convention,
    parties: list[PartyInput],
    signatories: list[SignatoryInput],
    actor: User,
    reason: str | None = None,
) -> PartiesChange:
    """Replace the parties and signatories of ``convention`` (see :func:`preview_parties` for the refusals, raised
    before anything is written). A kept party keeps its row, with its representative and délibération as given;
    a removed party goes with the signatories still attached to it; the signatories are replaced by those given.
    Removing a party needs its ``reason`` (refused without one), kept in the audit entry, which says which parties
    were added, removed or amended and the signatories before and after; nothing is recorded when nothing
    changes."""
    change = preview_parties(convention, parties, signatories)
    if not change.changed:
        return change
    reason = _clean(reason) if change.removed else None
    if change.removed and not reason:
        raise DomainError(_("Indiquez le motif du retrait."), "reason")
    wanted = {p.partner_id for p in parties}
    convention.signatories.clear()
    for party in [p for p in convention.parties if p.partner_id not in wanted]:
        convention.parties.remove(party)
    by_partner = {party.partner_id: party for party in convention.parties}
    for party_input, partner in zip(parties, change.partners, strict=True):
        party = by_partner.get(partner.id)
        representative = _clean(party_input.representative)
        if party is None:  # a new party: its partner's representative by default, as at creation
            party = ConventionParty(partner=partner)
            representative = representative or partner.representative_name
            convention.parties.append(party)
            by_partner[partner.id] = party
        party.representative, party.deliberation_ref = representative, _clean(party_input.deliberation_ref)
    for signatory in change.signatories:
        convention.signatories.append(
            Signatory(
                name=signatory.name.strip(), role=_clean(signatory.role), party=by_partner.get(signatory.partner_id)
            )
        )
    db.session.flush()
    parts = []
    if change.added:
        parts.append("parties ajoutées : " + ", ".join(change.added))
    if change.removed:
        parts.append("parties retirées : " + ", ".join(change.removed))
        parts.append(f"motif : {reason}")
    if change.amended:
        parts.append("représentant ou délibération modifiés : " + ", ".join(change.amended))
    if change.signatories_before != change.signatories_after:
        parts.append(
            f"signataires avant : {', '.join(change.signatories_before) or 'aucun'} ; "
            f"après : {', '.join(change.signatories_after) or 'aucun'}"
        )
    audit.record(
        "convention.parties_update",
        f"Parties et signataires de « {convention.title} » modifiés — " + " ; ".join(parts),
        actor=actor,
        obj=convention,
        details={
            "parties_added": change.added,
            "parties_removed": change.removed,
            "parties_amended": change.amended,
            "signatories_before": change.signatories_before,
            "signatories_after": change.signatories_after,
            "reason": reason,
        },
    )
    return change


def terminate(convention: Convention, on: date, actor: User, reason: str | None = None) -> Convention:
    """Record the termination (résiliation or dénonciation) of a convention, effective on ``on``, with its reason."""
    if convention.terminated_on is not None:
        raise DomainError(_("Cette convention est déjà résiliée."))
    if convention.start_date and on < convention.start_date:
        raise DomainError(_("La date de résiliation ne peut pas précéder la date de début."), "terminated_on")
    convention.terminated_on = on
    convention.termination_reason = _clean(reason)
    db.session.flush()
    audit.record(
        "convention.terminate",
        f"Résiliation de « {convention.title} » au {on.strftime('%d/%m/%Y')}",
        actor=actor,
        obj=convention,
        details={"reason": convention.termination_reason},
    )
    return convention


# Follow-up ------------------------------------------------------------------------------------------


def add_axis(convention: Convention, title: str, description: str | None, actor: User) -> Axis:
    """A new axis of collaboration, numbered after the existing ones (an avenant often adds one)."""
    if not _clean(title):
        raise DomainError(_("Indiquez l'intitulé de l'axe."), "title")
    axis = Axis(
        position=max((a.position for a in convention.axes), default=0) + 1,
        title=title.strip(),
        description=_clean(description),
    )
    convention.axes.append(axis)
    db.session.flush()
    audit.record(
        "convention.axis_add",
        f"Axe {axis.position} ajouté à « {convention.title} » : {axis.title}",
        actor=actor,
        obj=convention,
    )
    return axis


def update_axis(axis: Axis, title: str, description: str | None, actor: User) -> Axis:
    """Correct an axis's title and description (its number and actions stay). Refused: an empty title."""
    if not _clean(title):
        raise DomainError(_("Indiquez l'intitulé de l'axe."), "title")
    before = (axis.title, axis.description)
    axis.title, axis.description = title.strip(), _clean(description)
    if (axis.title, axis.description) == before:
        return axis
    db.session.flush()
    audit.record(
        "convention.axis_update",
        f"Axe {axis.position} de « {axis.convention.title} » modifié (avant : {before[0]} ; après : {axis.title})",
        actor=actor,
        obj=axis.convention,
        details={"axis_id": axis.id, "title_before": before[0], "description_before": before[1]},
    )
    return axis


def axis_removal_problem(axis: Axis) -> str | None:
    """Why ``axis`` cannot be removed, in French, or None: an axis with follow-up actions keeps its history."""
    if axis.actions:
        return ngettext(
            "L'axe « %(title)s » a %(num)s action de suivi : il ne peut pas être supprimé. "
            "Modifiez son intitulé si l'axe a changé.",
            "L'axe « %(title)s » a %(num)s actions de suivi : il ne peut pas être supprimé. "
            "Modifiez son intitulé si l'axe a changé.",
            len(axis.actions),
            title=axis.title,
        )
    return None


def remove_axis(axis: Axis, actor: User) -> Convention:
    """Remove an axis entered by mistake; the axes after it are numbered again from 1. Refused (nothing changed):
    an axis with follow-up actions (:func:`axis_removal_problem`)."""
    problem = axis_removal_problem(axis)
    if problem:
        raise DomainError(problem)
    convention = axis.convention
    position, title = axis.position, axis.title
    convention.axes.remove(axis)
    for number, remaining in enumerate(sorted(convention.axes, key=lambda a: a.position), start=1):
        remaining.position = number
    db.session.flush()
    audit.record(
        "convention.axis_remove",
        f"Axe {position} de « {convention.title} » supprimé : {title}",
        actor=actor,
        obj=convention,
        details={"position": position, "title": title},
    )
    return convention


def add_action(
    axis: Axis, title: str, owner: str | None, due_date: date | None, status: str, actor: User
) -> AxisAction:
    """A follow-up action under an axis, with its owner, status and due date."""
    if not _clean(title):
        raise DomainError(_("Indiquez l'action à mener."), "title")
    if status not in ACTION_STATUS_LABELS:
        raise DomainError(_("Choisissez l'état de l'action."), "status")
    action = AxisAction(title=title.strip(), owner=_clean(owner), due_date=due_date, status=status)
    axis.actions.append(action)
    db.session.flush()
    audit.record(
        "convention.action_add",
        f"Action ajoutée à l'axe « {axis.title} » de « {axis.convention.title} » : {action.title}",
        actor=actor,
        obj=axis.convention,
    )
    return action


def set_action_status(action: AxisAction, status: str, actor: User) -> AxisAction:
    if status not in ACTION_STATUS_LABELS:
        raise DomainError(_("Choisissez l'état de l'action."), "status")
    before, action.status = action.status, status
    db.session.flush()
    audit.record(
        "convention.action_status",
        f"Action « {action.title} » : {ACTION_STATUS_LABELS.get(before, before)} → {ACTION_STATUS_LABELS[status]}",
        actor=actor,
        obj=action.axis.convention,
    )
    return action


def add_meeting(convention: Convention, held_on: date, title: str, minutes: str | None, actor: User) -> Meeting:
    """A meeting of the comité de suivi (or an annual review) with its minutes."""
    if not _clean(title):
        raise DomainError(_("Indiquez l'objet de la réunion."), "title")
    if convention.signed_on and held_on < convention.signed_on:
        raise DomainError(_("La réunion ne peut pas précéder la signature de la convention."), "held_on")
    meeting = Meeting(held_on=held_on, title=title.strip(), minutes=_clean(minutes))
    convention.meetings.append(meeting)
    db.session.flush()
    audit.record(
        "convention.meeting_add",
        f"Réunion du {held_on.strftime('%d/%m/%Y')} ajoutée à « {convention.title} »",
        actor=actor,
        obj=convention,
    )
    return meeting


# Documents --------------------------------------------------------------------------------------------


def storage_dir(convention_id: int) -> Path:
    """Files live under the instance folder, outside the web root: served only through an authorised view."""
    return Path(current_app.instance_path) / "conventions" / str(convention_id)


def document_path(document: ConventionDocument) -> Path:
    return storage_dir(document.convention_id) / document.stored_name


def add_document(convention: Convention, filename: str, stream, actor: User) -> ConventionDocument:
    """Attach a file. Refused (nothing written): a type other than PDF or office files, content that does not
    match its extension, an empty file, a file above ``CONVENTION_MAX_UPLOAD_MB``. The name is cleaned
    (``clean_upload_name``: no control character, NFC, cut to the column keeping its extension). The file is
    written after the checks; if the transaction rolls back, it is removed."""
    limit = max_upload_bytes()
    data = stream.read(limit + 1)
    original = clean_upload_name(filename, ConventionDocument.__table__.c.filename.type.length)
    problem = rules.document_problem(original, data[:8], len(data), limit)
    if problem:
        raise DomainError(problem, "file")
    extension = "." + original.rsplit(".", 1)[-1].lower()
    stored_name = secrets.token_hex(16) + extension
    document = ConventionDocument(
        filename=original,
        stored_name=stored_name,
        content_type=rules.ALLOWED_EXTENSIONS[extension],
        size=len(data),
        uploaded_by_id=getattr(actor, "id", None),
    )
    convention.documents.append(document)
    db.session.flush()
    directory = storage_dir(convention.id)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / stored_name
    path.write_bytes(data)
    stored_files.written_in_transaction(path)
    audit.record(
        "convention.document_add",
        f"Document « {original} » joint à « {convention.title} »",
        actor=actor,
        obj=convention,
        details={"size": len(data)},
    )
    return document


def withdraw_document(document: ConventionDocument, reason: str | None, actor: User) -> ConventionDocument:
    """Withdraw a wrong document: it is no longer offered on the convention's page nor downloadable by
    secretaries; staff still see it, with when, by whom and why. Its row and its file are kept (evidence).
    Refused: no reason, a document already withdrawn."""
    if document.withdrawn_at is not None:
        raise DomainError(_("Ce document est déjà retiré."))
    reason = _clean(reason)
    if not reason:
        raise DomainError(_("Indiquez le motif du retrait."), "reason")
    document.withdrawn_at = utcnow()
    document.withdrawn_by_id = getattr(actor, "id", None)
    document.withdrawal_reason = reason
    db.session.flush()
    audit.record(
        "convention.document_withdraw",
        f"Document « {document.filename} » retiré de « {document.convention.title} » : {reason}",
        actor=actor,
        obj=document.convention,
        details={"document_id": document.id, "filename": document.filename, "reason": reason},
    )
    return document


# Visibility and lists ----------------------------------------------------------------------------------


def visible(user, statement: Select | None = None) -> Select:
    """Staff see every convention; a secretary those to which one of her collectivités is a party; others none."""
    statement = select(Convention) if statement is None else statement
    if user.role == Role.STAFF:
        return statement
    if user.role == Role.SECRETARY:
        attached = attached_collectivite_ids(user)
        return statement.where(
            exists()
            .where(ConventionParty.convention_id == Convention.id)
            .where(ConventionParty.partner_id == Partner.id)
            .where(Partner.collectivite_id.in_(attached))
        )
    return statement.where(Convention.id.is_(None))


def get_visible(user, convention_id: int) -> Convention | None:
    return db.session.scalar(visible(user).where(Convention.id == convention_id))


@dataclass
class Filters:
    q: str | None = None
    partner_id: int | None = None
    kind: str | None = None
    state: str | None = None
    expiring_within: int | None = None


@dataclass
class Row:
    convention: Convention
    state: rules.State
    term_end: date | None
    days_left: int | None

    @property
    def state_label(self) -> str:
        return rules.STATE_LABELS[self.state]


def rows(convention: Convention, today: date) -> Row:
    terms = convention.terms
    return Row(
        convention,
        rules.state(terms, today, alert_days()),
        rules.current_term_end(terms, today),
        rules.days_left(terms, today),
    )


def search(user, filters: Filters, today: date | None = None) -> list[Row]:
    """The conventions ``user`` may see, filtered. Partner, kind and text are filtered in SQL; the state and the
    "expiring within N days" filter need the rules (tacit renewals), so they are applied to the rows found:
    a CDG holds tens to hundreds of conventions, not millions."""
    today = today or paris_today()
    statement = visible(user).options(selectinload(Convention.parties).selectinload(ConventionParty.partner))
    if filters.kind:
        statement = statement.where(Convention.kind == filters.kind)
    if filters.partner_id:
        statement = statement.where(
            exists().where(
                ConventionParty.convention_id == Convention.id, ConventionParty.partner_id == filters.partner_id
            )
        )
    found = []
    needle = normalise(filters.q) if filters.q else None
    for convention in db.session.scalars(statement.order_by(Convention.start_date.desc(), Convention.id.desc())):
        if needle:
            haystack = normalise(
                " ".join([convention.title, convention.object or ""] + [p.partner.name for p in convention.parties])
            )
            if needle not in haystack:
                continue
        row = rows(convention, today)
        if filters.state and row.state != filters.state:
            continue
        expiring = filters.expiring_within
        if expiring is not None and (row.days_left is None or not (0 <= row.days_left <= expiring)):
            continue
        found.append(row)
    return found


def partners_of_visible(user) -> list[Partner]:
    statement = (
        select(Partner)
        .join(ConventionParty, ConventionParty.partner_id == Partner.id)
        .where(ConventionParty.convention_id.in_(visible(user, select(Convention.id))))
        .distinct()
        .order_by(Partner.name)
    )
    return list(db.session.scalars(statement))


def framework_candidates() -> list[Convention]:
    return list(db.session.scalars(select(Convention).order_by(Convention.title)))


# Alerts -------------------------------------------------------------------------------------------------


def run_alerts(today: date | None = None) -> int:
    """Warn every active CDG agent (notification and email) of the deadlines due within the configured delay.
    One alert row per (convention, deadline kind, deadline date): a deadline already warned about is skipped,
    and the unique constraint refuses a second row should two jobs race (the loser's transaction rolls back,
    its notifications with it). Returns the number of alerts sent."""
    from portal.notifications.services import notify

    today = today or paris_today()
    delay = alert_days()
    candidates = db.session.scalars(
        select(Convention).where(
            Convention.signed_on.is_not(None),
            Convention.end_date.is_not(None),
            or_(Convention.terminated_on.is_(None), Convention.terminated_on > today),
            or_(Convention.end_date >= today, Convention.tacit_renewal.is_(True)),
        )
    )
    staff = None
    sent = 0
    for convention in candidates:
        for deadline in rules.alerts_due(convention.terms, today, delay):
            already = db.session.scalar(
                select(ConventionAlert.id).where(
                    ConventionAlert.convention_id == convention.id,
                    ConventionAlert.kind == deadline.kind,
                    ConventionAlert.deadline == deadline.due,
                )
            )
            if already is not None:
                continue
            db.session.add(ConventionAlert(convention_id=convention.id, kind=deadline.kind, deadline=deadline.due))
            db.session.flush()
            if staff is None:
                staff = list(db.session.scalars(select(User).where(User.role == Role.STAFF, User.active.is_(True))))
            title, body = _alert_text(convention, deadline, today)
            for user in staff:
                notify(user, category="conventions", title=title, body=body, link=f"/conventions/{convention.id}")
            sent += 1
    return sent


def _alert_text(convention: Convention, deadline: rules.Deadline, today: date) -> tuple[str, str]:
    due = date_fr(deadline.due)
    days = (deadline.due - today).days
    if deadline.kind == rules.DeadlineKind.NOTICE:
        return (
            _("Préavis de dénonciation : %(title)s", title=convention.title),
            ngettext(
                "La convention « %(title)s » sera reconduite tacitement sauf dénonciation au plus tard le "
                "%(date)s (dans %(num)s jour). Décidez de la reconduire ou de la dénoncer.",
                "La convention « %(title)s » sera reconduite tacitement sauf dénonciation au plus tard le "
                "%(date)s (dans %(num)s jours). Décidez de la reconduire ou de la dénoncer.",
                days,
                title=convention.title,
                date=due,
            ),
        )
    return (
        _("Fin de convention : %(title)s", title=convention.title),
        ngettext(
            "La convention « %(title)s » prend fin le %(date)s (dans %(num)s jour). "
            "Préparez son renouvellement ou sa clôture.",
            "La convention « %(title)s » prend fin le %(date)s (dans %(num)s jours). "
            "Préparez son renouvellement ou sa clôture.",
            days,
            title=convention.title,
            date=due,
        ),
    )
