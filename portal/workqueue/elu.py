"""An élu's « à faire », on his home page: seats offered to him that he must confirm before they expire, his
sessions to come, and what is left of his rights (training leave, DIFE estimate, the first-year training)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.accounts.models import Mandate
from portal.common.clock import utcnow
from portal.extensions import db
from portal.training import rights as training_rights
from portal.training.models import Registration, TrainingSession
from portal.training.rules import Status as RegistrationStatus
from portal.workqueue.sources import registrations_described


@dataclass(frozen=True)
class Engagement:
    """A registration of the élu that asks something of him (confirm a seat) or that he must keep in mind."""

    registration_id: int
    session_id: int
    title: str
    starts_at: datetime
    place: str | None
    expires_at: datetime | None = None


@dataclass(frozen=True)
class EluTodo:
    offers: list[Engagement]
    coming: list[Engagement]
    rights: training_rights.Rights | None

    @property
    def is_empty(self) -> bool:
        return not self.offers and not self.coming


def todo_for(user, now: datetime | None = None) -> EluTodo:
    """What waits for the élu ``user``: two queries for his registrations (all his mandates), and his rights
    seen from his current municipal mandate."""
    now = now or utcnow()
    if user.person_id is None:
        return EluTodo([], [], None)
    rows = db.session.execute(
        registrations_described(
            Registration.id,
            Registration.status,
            Registration.offer_expires_at,
            TrainingSession.id,
            TrainingSession.starts_at,
            TrainingSession.place,
        )
        .where(
            Registration.mandate_id.in_(select(Mandate.id).where(Mandate.person_id == user.person_id)),
            TrainingSession.cancelled_at.is_(None),
            TrainingSession.starts_at > now,
            Registration.status.in_((RegistrationStatus.OFFERED, RegistrationStatus.REGISTERED)),
        )
        .order_by(TrainingSession.starts_at, Registration.id)
    )
    offers, coming = [], []
    for id_, status, expires, session_id, starts, place, _given, _family, title, _body in rows:
        if status == RegistrationStatus.OFFERED:
            if expires is None or expires > now:
                offers.append(Engagement(id_, session_id, title, starts, place, expires))
        else:
            coming.append(Engagement(id_, session_id, title, starts, place))
    offers.sort(key=lambda e: (e.expires_at or e.starts_at, e.registration_id))
    rights = training_rights.rights_for(user.mandate) if user.mandate is not None else None
    return EluTodo(offers, coming, rights)
