"""The portal's roles and the role checks on views.

Which collectivités a user may see and manage (the scoping of queries by the caller) is the registry's:
:mod:`portal.registry.visibility`.
"""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user, login_required


class Role(StrEnum):
    """What a login is: the CDG's staff, a town hall's secretary, an elected official (``User.role``)."""

    STAFF = "staff"
    SECRETARY = "secretary"
    ELU = "elu"


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
