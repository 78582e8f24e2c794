"""Who may see and act for whom in the training area: the élus a user may register, the registrations and
sessions he may see. Views and the API list and load through these queries only.
"""

from __future__ import annotations

import functools

from flask import abort
from sqlalchemy import Select, or_, select

from portal.accounts.models import Mandate, Role, User
from portal.extensions import db
from portal.registry.visibility import attached_collectivite_ids
from portal.training.models import Registration, TrainingSession


def can_act_for(user, mandate: Mandate) -> bool:
    """Staff act for every élu; an élu for himself; a secretary for the élus of her collectivités."""
    if user.role == Role.STAFF:
        return True
    if user.role == Role.ELU:
        return user.person_id is not None and mandate.person_id == user.person_id
    if user.role == Role.SECRETARY:
        return any(c.id == mandate.collectivite_id for c in user.collectivites)
    return False


def mandates_for(user) -> Select:
    """The élus ``user`` may register, as a select of their current Mandate (joined to its Person and, when he
    has one, his account): with or without an account, except those whose account was deactivated."""
    statement = _current_mandates()
    if user.role == Role.STAFF:
        return statement
    if user.role == Role.ELU:
        return statement.where(User.id == user.id)
    if user.role == Role.SECRETARY:
        return statement.where(Mandate.collectivite_id.in_(attached_collectivite_ids(user)))
    return statement.where(Mandate.id.is_(None))


@functools.cache
def _current_mandates() -> Select:
    """Built once per process (a statement is immutable; building this one costs more than running it)."""
    return (
        select(Mandate)
        .join(Mandate.person)
        .outerjoin(Mandate.user)
        .where(Mandate.end_date.is_(None), or_(User.id.is_(None), User.active.is_(True)))
    )


def registrations_visible_to(user) -> Select:
    """Registrations ``user`` may see: staff all, an élu his own, a secretary those of her collectivités."""
    statement = select(Registration)
    if user.role == Role.STAFF:
        return statement
    if user.role == Role.ELU:
        # His registrations under every mandate he held.
        held = select(Mandate.id).where(Mandate.person_id == user.person_id)
        return statement.where(Registration.mandate_id.in_(held))
    if user.role == Role.SECRETARY:
        return statement.where(Registration.collectivite_id.in_(attached_collectivite_ids(user)))
    return statement.where(Registration.id.is_(None))


def sessions_visible_to(user) -> Select:
    """Sessions listed for ``user``: staff every one; others the published ones that are not cancelled."""
    statement = select(TrainingSession)
    if user.role == Role.STAFF:
        return statement
    return statement.where(TrainingSession.published.is_(True), TrainingSession.cancelled_at.is_(None))


def visible_session(user, session_id: int) -> TrainingSession | None:
    """The session if ``user`` may see it (else None, for a 404): staff every session; others the published
    ones, and a cancelled one only if it concerned them (one of the registrations they see was on it)."""
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        return None
    if user.role == Role.STAFF or session.published:
        return session
    if session.cancelled_at is None:
        return None
    concerned = db.session.scalar(
        registrations_visible_to(user)
        .where(Registration.session_id == session.id)
        .with_only_columns(Registration.id)
        .limit(1)
    )
    return session if concerned is not None else None


# The same scopes for a page: the object, or a 404 that does not tell whether it exists ------------------------


def get_visible_session_or_404(user, session_id: int) -> TrainingSession:
    """The session ``user`` may see (:func:`visible_session`), else 404."""
    return visible_session(user, session_id) or abort(404)


def get_visible_registration_or_404(user, registration_id: int) -> Registration:
    """The registration ``user`` may see (:func:`registrations_visible_to`), else 404."""
    return db.session.scalar(registrations_visible_to(user).where(Registration.id == registration_id)) or abort(404)


def get_mandate_acted_for_or_404(user, mandate_id: int) -> Mandate:
    """The mandate of an élu ``user`` may act for (:func:`can_act_for`), else 404."""
    mandate = db.session.get(Mandate, mandate_id)
    if mandate is None or not can_act_for(user, mandate):
        abort(404)
    return mandate
