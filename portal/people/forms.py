"""Forms of the élus import page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SubmitField
from wtforms.validators import InputRequired, Length, Regexp
from wtforms.widgets import HiddenInput

from portal.common.clock import paris_today
from portal.common.forms import PortalForm


class RneUploadForm(PortalForm):
    file = FileField(
        _l("Fichier des conseillers municipaux (RNE)"),
        validators=[FileRequired(_l("Choisissez le fichier du Répertoire national des élus."))],
        description=_l("Fichier CSV séparé par des points-virgules, tel que publié par le ministère de l'Intérieur."),
    )
    publication_date = DateField(
        _l("Date de publication du fichier"),
        default=paris_today,
        validators=[InputRequired(_l("Indiquez la date de publication du fichier."))],
        description=_l("Les mandats des élus absents du fichier se terminent à cette date."),
    )
    submit = SubmitField(_l("Simuler l'import"))


class RneConfirmForm(PortalForm):
    token = HiddenField(validators=[InputRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9_-]{20,64}$")])
    # The upload's date carried to the confirmation: parsed and bounded like any date of the portal.
    publication_date = DateField(widget=HiddenInput(), validators=[InputRequired()])
    submit = SubmitField(_l("Confirmer l'import"))
