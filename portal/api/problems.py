"""RFC 9457 problem details: every error under ``/api/`` is ``application/problem+json``, in French.

A problem has ``type`` (a link to the documentation of the error), ``title`` (the same for every
problem of a status), ``status``, ``detail`` (this occurrence) and, for 422, ``errors``: one entry per
field, with a JSON pointer into the body (``pointer``) or the name of a query parameter (``parameter``).
"""

from __future__ import annotations

import json

from flask import current_app, request
from werkzeug.exceptions import HTTPException

from portal.common.i18n import lazy_gettext as _l

API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: _l("Requête incorrecte"),
    401: _l("Authentification requise"),
    403: _l("Accès refusé"),
    404: _l("Ressource introuvable"),
    405: _l("Méthode non autorisée"),
    406: _l("Format de réponse non disponible"),
    409: _l("Conflit"),
    413: _l("Requête trop volumineuse"),
    414: _l("Adresse trop longue"),
    415: _l("Format de requête non pris en charge"),
    422: _l("Données invalides"),
    429: _l("Trop de requêtes"),
    500: _l("Erreur interne"),
    503: _l("Service indisponible"),
}

DETAILS = {
    400: _l("La requête n'a pas pu être comprise."),
    401: _l("Cette ressource demande un jeton d'API valide (en-tête Authorization: Bearer <jeton>)."),
    403: _l("Vos droits ne permettent pas cette action."),
    404: _l("La ressource demandée n'existe pas, ou vous n'y avez pas accès."),
    405: _l("Cette méthode HTTP n'est pas possible sur cette ressource."),
    409: _l("L'action entre en conflit avec l'état actuel de la ressource."),
    413: _l("Le corps de la requête est trop volumineux."),
    414: _l("L'adresse de la requête est trop longue : raccourcissez les paramètres de la requête."),
    415: _l("Le corps de la requête doit être du JSON (Content-Type: application/json)."),
    422: _l("Certaines données sont invalides : voir la liste « errors »."),
    429: _l("Trop de requêtes en peu de temps : réessayez après le délai indiqué par l'en-tête Retry-After."),
    500: _l("Une erreur inattendue s'est produite. L'équipe du CDG a été prévenue ; réessayez plus tard."),
    503: _l("Le portail est momentanément indisponible. Réessayez plus tard."),
}


class ApiProblem(Exception):
    """Raised by API code to answer with a problem; turned into a response by the blueprint's handler."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail or str(DETAILS.get(status, "")))
        self.status = status
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


def problem_body(status: int, detail: str | None = None, errors: list[dict] | None = None) -> dict:
    """The problem document (pure apart from the lazy French strings)."""
    title = TITLES.get(status) or TITLES[500 if status >= 500 else 400]
    body = {
        "type": f"/api/v1/docs#erreur-{status}",
        "title": str(title),
        "status": status,
        "detail": str(detail or DETAILS.get(status) or title),
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int, detail: str | None = None, *, errors: list[dict] | None = None, headers: dict | None = None
):
    response = current_app.response_class(
        json.dumps(problem_body(status, detail, errors), ensure_ascii=False), status=status, mimetype=MEDIA_TYPE
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def error_response(status: int, detail: str | None, exc: Exception | None):
    """The portal's error pages under /api/ (registered with portal.common.errors): a problem document; an HTTP
    error keeps its headers (Allow, WWW-Authenticate). None outside the API."""
    if not is_api_request():
        return None
    return from_exception(exc) if exc is not None else problem_response(status, detail)


def from_exception(exc: Exception):
    """A problem response for an ApiProblem or an HTTP error raised inside the API."""
    if isinstance(exc, ApiProblem):
        return problem_response(exc.status, exc.detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        # Keep what the error says in its headers (Allow on a 405, WWW-Authenticate…), not its HTML type.
        headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
        return problem_response(status, headers=headers)
    return problem_response(500)
