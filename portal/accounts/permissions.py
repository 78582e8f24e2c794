"""Role checks on views, and the collectivités a secretary is attached to.

The roles and the attachments are the accounts' own data; what a user may see of the registry is in
:mod:`portal.registry.visibility`.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, select

from portal.accounts.models import Role, secretary_collectivite


def roles_required(*roles: str):
    """Log in first, then 403 for a role not in ``roles``."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = roles_required(Role.STAFF)


def attached_collectivite_ids(user) -> Select:
    """The ids of the collectivités a secretary is attached to, as a subquery."""
    return select(secretary_collectivite.c.collectivite_id).where(secretary_collectivite.c.user_id == user.id)
