"""Attendance and attestations: the sign-in sheet recorded by staff once a session has begun, then the
attestations of the present élus, produced and sent by a job (:mod:`portal.training.tasks`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from portal.audit import services as audit
from portal.common.claims import claim_row
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.jobs import enqueue_after_commit
from portal.extensions import db
from portal.training.models import Registration, TrainingSession
from portal.training.notices import describe_hours, describe_when, notify
from portal.training.roster import lock_roster, registrations_on
from portal.training.rules import Status

ATTESTATIONS_TASK = "training.send_attestations"


def mark_attendance(session: TrainingSession, present_ids: set[int], actor, now: datetime | None = None) -> int:
    """Record who attended; attestations are then produced and sent by a job."""
    now = now or utcnow()
    if session.starts_at > now:
        raise DomainError(_("L'émargement n'est possible qu'une fois la session commencée."))
    lock_roster(session.id)
    changed = present = absent = 0
    for registration in registrations_on(session.id, [Status.REGISTERED, Status.PRESENT, Status.ABSENT]):
        status = Status.PRESENT if registration.id in present_ids else Status.ABSENT
        if registration.status != status:
            registration.status = status
            changed += 1
        registration.attendance_marked_at = now
        present, absent = present + (status == Status.PRESENT), absent + (status == Status.ABSENT)
    session.attendance_closed_at = now
    db.session.flush()
    audit.record(
        "training.attendance",
        _(
            "Émargement de la session du %(when)s : %(present)s, %(absent)s",
            when=describe_when(session),
            present=ngettext("%(num)s présent", "%(num)s présents", present),
            absent=ngettext("%(num)s absent", "%(num)s absents", absent),
        ),
        actor=actor,
        obj=session,
    )
    enqueue_after_commit(ATTESTATIONS_TASK, session.id)
    return changed


def claim_attestation(registration_id: int, now: datetime | None = None) -> bool:
    """Take the right to send one attestation (a guarded UPDATE: two workers never both send it)."""
    return claim_row(
        Registration,
        Registration.id == registration_id,
        Registration.status == Status.PRESENT,
        Registration.attestation_sent_at.is_(None),
        attestation_sent_at=now or utcnow(),
    )


def attestations_due(session_id: int | None = None) -> list[int]:
    statement = select(Registration.id).where(
        Registration.status == Status.PRESENT, Registration.attestation_sent_at.is_(None)
    )
    if session_id is not None:
        statement = statement.where(Registration.session_id == session_id)
    return list(db.session.scalars(statement.order_by(Registration.id)))


def send_attestation(registration: Registration, pdf: tuple[str, str, bytes]) -> None:
    session = registration.session
    notify(
        registration,
        _("Attestation de présence"),
        _(
            "Vous trouverez ci-joint l'attestation de votre présence à « %(title)s » du %(when)s (%(hours)s).",
            title=session.training.title,
            when=describe_when(session),
            hours=describe_hours(session.hours),
        ),
        attachments=[pdf],
    )
