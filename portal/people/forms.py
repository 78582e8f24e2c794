"""Forms of the élus import page and of a council's pages (an élu's address, invitation, registration)."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, EmailField, HiddenField, SelectField, SubmitField
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp
from wtforms.widgets import HiddenInput

from portal.common.clock import paris_today
from portal.common.forms import PortalForm
from portal.common.i18n import lazy_gettext as _l
from portal.training.forms import RegistrationForm, _int_or_none


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


def _strip(value):
    """Addresses are often pasted with surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


class ContactEmailForm(PortalForm):
    """The address of an élu, entered by his secretary: where his messages go while he has no account."""

    contact_email = EmailField(
        _l("Adresse électronique de l'élu"),
        filters=[_strip],
        validators=[
            Optional(),
            Email(_l("Saisissez une adresse électronique valide, par exemple prenom.nom@exemple.fr.")),
            Length(max=254, message=_l("254 caractères au plus.")),
        ],
        description=_l(
            "Sans compte, l'élu reçoit ses convocations à cette adresse ; laissez vide pour qu'elles soient "
            "envoyées au secrétariat de mairie. C'est aussi l'adresse de son invitation s'il souhaite un compte."
        ),
    )
    submit = SubmitField(_l("Enregistrer l'adresse"))


class InviteForm(PortalForm):
    """A button: invite the élu (or send his invitation again)."""


class CouncilRegistrationForm(RegistrationForm):
    """Register an élu of the council to a session, on his behalf: the training form's fields, the élu fixed."""

    mandate_id = None
    session_id = SelectField(
        _l("Session de formation"),
        coerce=_int_or_none,
        validators=[InputRequired(_l("Choisissez la session."))],
    )
