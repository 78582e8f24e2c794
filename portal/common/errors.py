"""French error pages and the domain error type that services raise."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError

from portal.common.i18n import gettext as _
from portal.common.i18n import lazy_gettext as _l
from portal.extensions import db


class DomainError(Exception):
    """A business rule refused the action. The message is for the user, built with gettext (``_()``); a lazy
    string (``_l()``) is rendered here, so that ``message`` is always a plain ``str``: views flash it, the API
    serialises it to JSON."""

    def __init__(self, message: str, field: str | None = None):
        message = str(message)
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


# A part of the site that answers its errors in a format of its own (the API: problem+json documents) registers
# a responder: given the status, the message and the HTTP exception when there is one, it returns its response
# for a request of its own, None for any other.
ErrorResponder = Callable[[int, str | None, Exception | None], object]
_RESPONDERS = "portal.error_responders"


def register_error_responder(app: Flask, responder: ErrorResponder) -> None:
    """Let a part of the site answer its errors in its own format instead of an HTML page."""
    app.extensions.setdefault(_RESPONDERS, []).append(responder)


def _own_format(code: int, message: str | None = None, exc: Exception | None = None):
    for responder in current_app.extensions.get(_RESPONDERS, ()):
        response = responder(code, message, exc)
        if response is not None:
            return response
    return None


def render_error(code: int, title: str | None = None, message: str | None = None):
    own = _own_format(code, str(message) if message else None)
    if own is not None:  # e.g. under /api/ every error is a problem+json document, never an HTML page
        return own
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


def register(app) -> None:
    for code in ERROR_PAGES:
        if code == 500:
            continue
        app.register_error_handler(code, lambda exc, code=code: _own_format(code, exc=exc) or render_error(code))

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
