"""French error pages and the domain error type that services raise."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError

from portal.extensions import db


class DomainError(Exception):
    """A business rule refused the action. The message is in French, for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConflictError(DomainError):
    """Refused because of the current state of things (a full session, a duplicate request): HTTP 409."""


# Lazy: the module is imported before any request, the text is translated when a page is rendered.
ERROR_PAGES = {
    400: (_l("Requête incorrecte"), _l("La requête n'a pas pu être comprise. Vérifiez les informations saisies.")),
    403: (_l("Accès refusé"), _l("Vous n'avez pas les droits nécessaires pour accéder à cette page.")),
    404: (_l("Page introuvable"), _l("La page demandée n'existe pas, ou vous n'y avez pas accès.")),
    405: (_l("Méthode non autorisée"), _l("Cette action n'est pas possible sur cette page.")),
    413: (
        _l("Fichier ou formulaire trop volumineux"),
        _l(
            "L'envoi dépasse la taille maximale acceptée par le portail ; rien n'a été enregistré. Revenez à la "
            "page précédente et choisissez un fichier plus petit."
        ),
    ),
    429: (
        _l("Trop de tentatives"),
        _l("Trop de tentatives en peu de temps. Patientez quelques minutes puis réessayez."),
    ),
    500: (
        _l("Erreur interne"),
        _l("Une erreur inattendue s'est produite. L'équipe du CDG a été prévenue ; réessayez plus tard."),
    ),
    503: (
        _l("Service indisponible"),
        _l("Le portail est momentanément indisponible (maintenance ou surcharge). Réessayez plus tard."),
    ),
}


def render_error(code: int, title: str | None = None, message: str | None = None):
    from portal.api.problems import is_api_request, problem_response

    if is_api_request():  # under /api/ every error is a problem+json document, never an HTML page
        return problem_response(code, str(message) if message else None)
    default_title, default_message = ERROR_PAGES.get(code, ERROR_PAGES[500])
    # str(): a lazy string would be trusted as markup by Jinja; plain text is escaped as before.
    return (
        render_template(
            "errors/error.html",
            code=code,
            title=str(title or default_title),
            message=str(message or default_message),
        ),
        code,
    )


def _api_problem(exc):
    """Under /api/ an HTTP error keeps its headers (Allow, WWW-Authenticate) in a problem document."""
    from portal.api.problems import from_exception, is_api_request

    return from_exception(exc) if is_api_request() else None


def register(app) -> None:
    for code in ERROR_PAGES:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: _api_problem(exc) or render_error(code))

    @app.errorhandler(500)
    def internal_error(exc):
        db.session.rollback()
        return render_error(500)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return render_error(
            400,
            _("Formulaire expiré"),
            _(
                "Le formulaire a expiré ou a été envoyé depuis une autre page. Rechargez la page et recommencez ; "
                "aucune donnée n'a été enregistrée."
            ),
        )
