"""Token use cases: create (for oneself, or by staff for a service account), revoke, authenticate.

Services only ``flush()``; the caller commits. Creation and revocation are audited.

A token recognised by a process is kept by it for :data:`CACHE_SECONDS` (five seconds): the calls that follow
cost no query to authenticate. Any change to a token (revoked, deleted) or to a user (deactivated, role changed)
empties this process's copies at once, at the flush and again at the commit; another process may still accept a
revoked token, or the token of a deactivated account, for at most :data:`CACHE_SECONDS` (README, « API »).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from portal.accounts import services as accounts
from portal.accounts.models import Role, User
from portal.api import rules
from portal.api.models import ApiToken, Scope
from portal.audit import services as audit
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.extensions import db
from portal.registry.models import Collectivite


class InvalidToken(Exception):
    """No active token for this secret (unknown, revoked, expired, or its user deactivated)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Created:
    token: ApiToken
    secret: str  # shown once, never stored


def create_token(user: User, name: str, scope: str, expires_at: datetime, actor: User) -> Created:
    """A new token for ``user``. Staff may create one for a service account; anyone else only for himself."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Donnez un nom au jeton (par exemple le logiciel qui l'utilisera)."), "name")
    if len(name) > 100:
        raise DomainError(_("Le nom du jeton ne doit pas dépasser 100 caractères."), "name")
    if scope not in (Scope.READ, Scope.READ_WRITE):
        raise DomainError(_("Portée inconnue : choisissez lecture seule ou lecture et écriture."), "scope")
    now = utcnow()
    problem = rules.lifetime_problem(expires_at, now)
    if problem:
        raise DomainError(problem, "expires_at")
    if actor.id != user.id and not (actor.role == Role.STAFF and user.is_service_account):
        raise DomainError(_("Seul le CDG peut créer un jeton pour un compte de service."))
    fresh = rules.new_secret()
    token = ApiToken(
        user=user,
        name=name,
        prefix=fresh.prefix,
        token_hash=fresh.digest,
        scope=scope,
        expires_at=expires_at,
        created_at=now,
        created_by_id=actor.id,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token.create",
        f"Création du jeton d'API « {name} » ({fresh.prefix}…) pour {user.email}",
        actor=actor,
        obj=token,
        details={"user_id": user.id, "scope": scope, "expires_at": expires_at.isoformat()},
    )
    return Created(token, fresh.secret)


def can_revoke(actor: User, token: ApiToken) -> bool:
    return actor.role == Role.STAFF or token.user_id == actor.id


def revoke_token(token: ApiToken, actor: User) -> None:
    if not can_revoke(actor, token):
        raise DomainError(_("Vous ne pouvez révoquer que vos propres jetons."))
    if token.revoked_at is not None:
        raise DomainError(_("Ce jeton est déjà révoqué."))
    token.revoked_at = utcnow()
    db.session.flush()
    audit.record(
        "api_token.revoke",
        f"Révocation du jeton d'API « {token.name} » ({token.prefix}…) de {token.user.email}",
        actor=actor,
        obj=token,
        details={"user_id": token.user_id},
    )


def revoke_all_tokens(user: User, actor: User | None = None) -> int:
    """Revoke every token of ``user`` still in force; the number revoked."""
    now = utcnow()
    revoked = 0
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
        revoked += 1
        audit.record(
            "api_token.revoke",
            f"Révocation du jeton d'API « {token.name} » ({token.prefix}…) de {user.email} (compte désactivé)",
            actor=actor,
            obj=token,
            details={"user_id": user.id},
        )
    db.session.flush()
    return revoked


@accounts.account_switched.connect
def _revoke_on_switch(user: User, actor: User | None = None) -> int:
    """An account switched off (or on again) keeps none of its tokens: the owner makes new ones."""
    return revoke_all_tokens(user, actor)


def tokens_of(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def all_tokens() -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken)
            .options(joinedload(ApiToken.user))
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def service_accounts() -> list[User]:
    return list(db.session.scalars(select(User).where(User.is_service_account.is_(True)).order_by(User.full_name)))


def create_service_account(
    *, email: str, full_name: str, role: str, collectivites: list[Collectivite], actor: User
) -> User:
    """A user dedicated to an integration: staff, or secretary of given collectivités. Its password is random
    and never shown: the account works only through its tokens."""
    if role not in (Role.STAFF, Role.SECRETARY):
        raise DomainError(_("Un compte de service a le rôle d'agent du CDG ou de secrétaire de collectivités."), "role")
    user = accounts.create_user(
        email=email,
        role=role,
        password=secrets.token_urlsafe(32),
        full_name=full_name,
        collectivites=collectivites,
        actor=actor,
    )
    user.is_service_account = True
    db.session.flush()
    return user


# How long a process keeps a token it recognised (seconds): the longest a revocation made elsewhere takes to apply.
CACHE_SECONDS = 5.0
# The clock of that delay (monotonic: unaffected by the test clock).
monotonic = time.monotonic
# hash of the secret -> (when it was read, the token's columns, its user's columns)
_recent: dict[str, tuple[float, dict, dict]] = {}


def authenticate(secret: str, now: datetime | None = None) -> ApiToken:
    """The active token for ``secret``, its user loaded, in one indexed query (none when this process recognised
    it less than :data:`CACHE_SECONDS` ago); InvalidToken otherwise.

    The last use is recorded at most once a minute (the caller commits)."""
    now = now or utcnow()
    digest = rules.hash_secret(secret)
    recent = _recent.get(digest)
    if recent is not None and monotonic() - recent[0] < CACHE_SECONDS:
        read_at, token_values, user_values = recent
        if token_values["expires_at"] > now and not rules.should_touch(token_values["last_used_at"], now):
            user = _persistent(User, user_values)
            token = _persistent(ApiToken, token_values)
            set_committed_value(token, "user", user)
            return token
    token = db.session.scalar(select(ApiToken).options(joinedload(ApiToken.user)).where(ApiToken.token_hash == digest))
    if token is None:
        raise InvalidToken("unknown")
    if token.revoked_at is not None:
        raise InvalidToken("revoked")
    if token.expires_at <= now:
        raise InvalidToken("expired")
    if not token.user.active:
        raise InvalidToken("inactive")
    if rules.should_touch(token.last_used_at, now):
        token.last_used_at = now
    _recent[digest] = (monotonic(), _columns(token), _columns(token.user))
    return token


def _columns(instance) -> dict:
    """The column values of a loaded instance (without loading anything)."""
    loaded = inspect(instance).dict
    return {column.key: loaded[column.key] for column in inspect(type(instance)).column_attrs if column.key in loaded}


def _persistent(model, values: dict):
    """The instance of ``model`` with these column values, in the current session without a query: the one the
    session already holds, or one built from the values (as if it had just been loaded)."""
    found = db.session.identity_map.get(db.session.identity_key(model, values["id"]))
    if found is not None:
        return found
    instance = model()
    for key, value in values.items():
        set_committed_value(instance, key, value)
    make_transient_to_detached(instance)
    db.session.add(instance)
    return instance


def forget_recent_tokens() -> None:
    """Empty this process's copies of the tokens it recognised."""
    _recent.clear()


# Changes that must end the copies: a token revoked or deleted, a user changed (deactivated, role) or deleted.
_TOKEN_COLUMNS_KEPT = frozenset({"last_used_at"})  # recording the last use changes nothing of the token's rights


@event.listens_for(Session, "before_flush")
def _forget_on_change(session, _flush_context, _instances):
    deleted = any(isinstance(instance, (User, ApiToken)) for instance in session.deleted)
    if deleted or any(
        isinstance(instance, User) or (isinstance(instance, ApiToken) and _rights_changed(instance))
        for instance in session.dirty
    ):
        forget_recent_tokens()
        session.info["api_tokens_changed"] = True


def _rights_changed(token: ApiToken) -> bool:
    return any(
        attribute.history.has_changes()
        for attribute in inspect(token).attrs
        if attribute.key not in _TOKEN_COLUMNS_KEPT
    )


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_after_commit(session):
    """Again once the change is visible: another request of this process may have read the token meanwhile."""
    if session.info.pop("api_tokens_changed", False):
        forget_recent_tokens()
