"""Who is calling the API: a bearer token (integrations) or the web session (the portal's own pages).

With a token the session cookie is ignored and no CSRF token is needed (a browser never adds an
``Authorization`` header by itself); with the session, writes keep the CSRF check of the web forms.
"""

from __future__ import annotations

from flask import g, request
from flask_login import current_user

from portal.api import rules, tokens
from portal.api.problems import ApiProblem
from portal.api.ratelimit import rate_limits
from portal.common.i18n import ngettext
from portal.common.labels import N_, Labels
from portal.common.security import client_address
from portal.extensions import csrf, db

INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"'  # noqa: S105 - a challenge, not a secret
NO_TOKEN = 'Bearer realm="api"'  # noqa: S105
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

INVALID_REASONS = Labels(
    {
        "unknown": N_("Ce jeton d'API est inconnu."),
        "revoked": N_("Ce jeton d'API a été révoqué."),
        "expired": N_("Ce jeton d'API a expiré."),
        "inactive": N_("Le compte de ce jeton d'API est désactivé."),
        "malformed": N_("L'en-tête Authorization doit avoir la forme « Bearer <jeton> »."),
    }
)


def load_caller() -> None:
    """``before_request`` of the blueprint: set ``g.api_user`` and ``g.api_token``, then apply the rate limit."""
    g.api_token = None
    g.api_user = None
    secret = rules.bearer_token(request.headers.get("Authorization"))
    if secret is not None:
        if secret == "":
            raise _invalid("malformed")
        try:
            token = tokens.authenticate(secret)
        except tokens.InvalidToken as exc:
            _limit("address", client_address())
            raise _invalid(exc.reason) from None
        if db.session.dirty:  # last_used_at moved (at most once a minute per token)
            db.session.commit()
        g.api_token = token
        g.api_user = token.user
        _limit("token", str(token.id))
        return
    _limit("address", client_address())
    if current_user.is_authenticated:
        if request.method not in SAFE_METHODS:
            csrf.protect()
        g.api_user = current_user._get_current_object()


def _invalid(reason: str) -> ApiProblem:
    return ApiProblem(401, INVALID_REASONS[reason], headers={"WWW-Authenticate": INVALID_TOKEN})


def _limit(kind: str, key: str) -> None:
    wait = rate_limits().retry_after(kind, key)
    if wait is not None:
        detail = (
            ngettext(
                "Limite de requêtes atteinte (par jeton) : réessayez dans %(num)s seconde.",
                "Limite de requêtes atteinte (par jeton) : réessayez dans %(num)s secondes.",
                wait,
            )
            if kind == "token"
            else ngettext(
                "Limite de requêtes atteinte (par adresse) : réessayez dans %(num)s seconde.",
                "Limite de requêtes atteinte (par adresse) : réessayez dans %(num)s secondes.",
                wait,
            )
        )
        raise ApiProblem(429, detail, headers={"Retry-After": str(wait)})


def require_user():
    """The caller, or 401 with a ``WWW-Authenticate`` challenge."""
    user = g.get("api_user")
    if user is None:
        raise ApiProblem(401, headers={"WWW-Authenticate": NO_TOKEN})
    return user


def require_write() -> None:
    """A read-only token may not change anything: 403."""
    token = g.get("api_token")
    if token is not None and not token.can_write:
        raise ApiProblem(403, "Ce jeton d'API est en lecture seule : il ne permet aucune modification.")
