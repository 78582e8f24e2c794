"""Which collectivités a user may see and manage: the scoping of every query on the registry by the caller.

Staff see everything; a secretary sees the collectivités she is attached to; an elected official sees the
collectivité of his mandate. What is not visible is a 404, never a 403: a page does not reveal that it exists.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy import Select, select

from portal.accounts.models import secretary_collectivite
from portal.common.auth import Role
from portal.extensions import db
from portal.registry.models import Collectivite


def attached_collectivite_ids(user) -> Select:
    """The ids of the collectivités a secretary is attached to, as a subquery."""
    return select(secretary_collectivite.c.collectivite_id).where(secretary_collectivite.c.user_id == user.id)


def visible_collectivites(user, statement: Select | None = None) -> Select:
    """Restrict a select of Collectivite to those ``user`` may see.

    Staff see everything; a secretary sees the collectivités she is attached to;
    an elected official sees the collectivité of his mandate; anyone else sees nothing.
    """
    statement = select(Collectivite) if statement is None else statement
    if user.role == Role.STAFF:
        return statement
    if user.role == Role.SECRETARY:
        return statement.where(Collectivite.id.in_(attached_collectivite_ids(user)))
    if user.role == Role.ELU and user.mandate is not None:
        return statement.where(Collectivite.id == user.mandate.collectivite_id)
    return statement.where(Collectivite.id.is_(None))


def get_visible_collectivite_or_404(user, collectivite_id: int, *options) -> Collectivite:
    """The collectivité if ``user`` may see it (with the loader ``options`` given); 404 otherwise (never 403: do not
    reveal that it exists)."""
    statement = visible_collectivites(user).where(Collectivite.id == collectivite_id)
    found = db.session.scalar(statement.options(*options) if options else statement)
    if found is None:
        abort(404)
    return found


def can_manage_collectivite(user, collectivite: Collectivite) -> bool:
    """Staff manage everything; a secretary manages the collectivités she is attached to."""
    if user.role == Role.STAFF:
        return True
    return user.role == Role.SECRETARY and any(c.id == collectivite.id for c in user.collectivites)


def can_manage_visible_collectivite(user) -> bool:
    """:func:`can_manage_collectivite` for a collectivité found through :func:`visible_collectivites`, without
    reading her attachments again: a secretary sees exactly the collectivités she manages."""
    return user.role in (Role.STAFF, Role.SECRETARY)


def get_managed_collectivite_or_404(user, collectivite_id: int) -> Collectivite:
    """A collectivité the user manages (staff: any; secretary: hers), in one query; 404 otherwise.

    A secretary sees exactly the collectivités she manages, so visibility is enough for her;
    an elected official sees his commune but manages nothing."""
    if user.role not in (Role.STAFF, Role.SECRETARY):
        abort(404)
    return get_visible_collectivite_or_404(user, collectivite_id)
