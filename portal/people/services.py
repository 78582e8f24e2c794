"""Use cases about persons: importing the élus of the Répertoire national des élus; a collectivité's council as its
secretary manages it (contact addresses, invitations, rights). Services only flush."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, joinedload

from portal.accounts.models import (
    MUNICIPAL_FUNCTIONS,
    AccountLink,
    AccountStatus,
    LinkPurpose,
    Mandate,
    Person,
    Role,
    User,
)
from portal.audit import services as audit
from portal.common.clock import paris_today
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.extensions import db
from portal.people import importer, rules
from portal.people.importer import ImportReport
from portal.training.rights import rights_of_many
from portal.training.rights_rules import RightsSummary


def import_rne(
    source: str | Path | BinaryIO,
    *,
    departements: list[str],
    publication_date: date | None = None,
    dry_run: bool = False,
    keep_lines: bool = False,
    actor=None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import the conseillers municipaux of ``departements`` from an RNE file.

    Valid lines are imported and each rejected line is reported (number and reason); a problem with the file
    itself raises :class:`portal.people.rules.RneFileError` before anything is written. ``publication_date``
    (default: today) is the day the mandates of persons absent from the file end. A dry run writes nothing.
    """
    publication_date = publication_date or paris_today()
    communes = importer.communes_of(departements)
    rne = importer.read_rne(
        source, departements=departements, communes=communes, today=paris_today(), progress=progress
    )
    plan = importer.plan_import(
        rne, departements=departements, communes=communes, publication_date=publication_date, keep_lines=keep_lines
    )
    if not dry_run:
        importer.apply_plan(plan, communes)
        report = plan.report
        audit.record(
            "elus.import",
            f"Import du Répertoire national des élus (publication du {publication_date:%d/%m/%Y}) : {report.summary()}",
            actor=actor,
            details={
                "created": report.created,
                "updated": report.updated,
                "ended": report.ended,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "publication_date": publication_date.isoformat(),
            },
        )
    return plan.report


# A collectivité's council, managed by its secretary ---------------------------------------------------------------


@dataclass
class CouncilMember:
    """A member of a council as his secretary sees him: mandate, account, where his messages go, his rights."""

    mandate: Mandate
    user: User | None
    invited_at: datetime | None
    rights: RightsSummary

    @property
    def person(self) -> Person:
        return self.mandate.person

    @property
    def account_status(self) -> str | None:
        """None without an account, else ``invited``, ``active`` or ``deactivated``."""
        return None if self.user is None else self.user.status


def current_mandate(collectivite_id: int, person_id: int) -> Mandate | None:
    """The person's current municipal mandate in the collectivité, if he sits on its council."""
    return db.session.scalar(
        select(Mandate)
        .where(
            Mandate.collectivite_id == collectivite_id,
            Mandate.person_id == person_id,
            Mandate.end_date.is_(None),
            Mandate.function.in_([f.value for f in MUNICIPAL_FUNCTIONS]),
        )
        .order_by(Mandate.start_date.desc(), Mandate.id.desc())
        .limit(1)
    )


def council(collectivite_id: int, today: date | None = None) -> list[CouncilMember]:
    """The current council of a collectivité in the order of the table (:func:`rules.council_order`), with each
    member's account, last invitation and training rights; a fixed number of queries whatever its size."""
    mandates = list(
        db.session.scalars(
            select(Mandate)
            .join(Mandate.person)
            .options(contains_eager(Mandate.person), joinedload(Mandate.user))
            .where(
                Mandate.collectivite_id == collectivite_id,
                Mandate.end_date.is_(None),
                Mandate.function.in_([f.value for f in MUNICIPAL_FUNCTIONS]),
            )
        ).unique()
    )
    # One row per person: a person holds one municipal function at a time (keep the latest if data say otherwise).
    latest: dict[int, Mandate] = {}
    for mandate in sorted(mandates, key=lambda m: (m.start_date, m.function_start_date or m.start_date, m.id)):
        latest[mandate.person_id] = mandate
    mandates = sorted(
        latest.values(),
        key=lambda m: rules.council_order(m.function, m.rank, m.person.family_name, m.person.given_name),
    )
    user_ids = [m.user.id for m in mandates if m.user is not None]
    invited = (
        dict(
            db.session.execute(
                select(AccountLink.user_id, func.max(AccountLink.created_at))
                .where(AccountLink.user_id.in_(user_ids), AccountLink.purpose == LinkPurpose.INVITATION)
                .group_by(AccountLink.user_id)
            ).all()
        )
        if user_ids
        else {}
    )
    rights = rights_of_many(mandates, today)
    return [
        CouncilMember(
            mandate=m,
            user=m.user,
            invited_at=invited.get(m.user.id) if m.user is not None else None,
            rights=rights[m.id],
        )
        for m in mandates
    ]


def council_sizes(collectivite_ids: list[int]) -> dict[int, int]:
    """How many persons sit on each council (current municipal mandates), in one query."""
    if not collectivite_ids:
        return {}
    rows = db.session.execute(
        select(Mandate.collectivite_id, func.count(func.distinct(Mandate.person_id)))
        .where(
            Mandate.collectivite_id.in_(collectivite_ids),
            Mandate.end_date.is_(None),
            Mandate.function.in_([f.value for f in MUNICIPAL_FUNCTIONS]),
        )
        .group_by(Mandate.collectivite_id)
    )
    return dict(rows.all())


def set_contact_email(person: Person, email: str | None, actor) -> bool:
    """Record the address a secretary (or the CDG) gives for an élu: his messages go there while he has no account.
    Empty clears it. Audited with the former address; returns whether it changed."""
    email = (email or "").strip().lower() or None
    if email is not None and not _looks_like_email(email):
        raise DomainError(_("Adresse électronique invalide, par exemple prenom.nom@exemple.fr."), "contact_email")
    before = person.contact_email
    if email == before:
        return False
    person.contact_email = email
    db.session.flush()
    audit.record(
        "person.contact_email",
        f"Adresse de contact de {person.full_name} : {email or 'effacée'}"
        + (f" (auparavant {before})" if before else ""),
        actor=actor,
        obj=person,
        details={"before": before, "after": email},
    )
    return True


def _looks_like_email(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain.strip(".") and " " not in email and len(email) <= 254)


def invite(person: Person, actor) -> User:
    """Invite an élu who wants an account, at his contact address: an invited account attached to the person
    (``accounts.create_user``, which queues the invitation through the outbox); an invited account gets a new
    invitation (the previous link stops working)."""
    from portal.accounts import services as accounts

    user = person.user
    if user is None:
        if not person.contact_email:
            raise DomainError(
                _(
                    "Indiquez d'abord l'adresse électronique de %(full_name)s : l'invitation y est envoyée.",
                    full_name=person.full_name,
                ),
                "contact_email",
            )
        return accounts.create_user(email=person.contact_email, role=Role.ELU, person=person, actor=actor)
    if user.status != AccountStatus.INVITED:
        raise DomainError(
            _(
                "%(full_name)s a déjà un compte (%(status_label)s) : rien à envoyer.",
                full_name=person.full_name,
                status_label=user.status_label.lower(),
            )
        )
    accounts.send_invitation(user, actor=actor)
    return user
