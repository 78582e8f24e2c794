"""Access request forms: the person's request, the staff's decision."""

from __future__ import annotations

from wtforms import EmailField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

from portal.accounts.forms import COLLECTIVITES_DESCRIPTION
from portal.common.forms import PortalForm
from portal.common.i18n import lazy_gettext as _l


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class AccessRequestForm(PortalForm):
    full_name = StringField(
        _l("Prénom et nom"),
        filters=[_strip],
        validators=[DataRequired(_l("Saisissez votre prénom et votre nom.")), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Adresse électronique professionnelle"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Saisissez votre adresse électronique.")),
            Email(_l("Saisissez une adresse électronique valide, par exemple nom@mairie.fr.")),
            Length(max=254, message=_l("254 caractères au plus.")),
        ],
        render_kw={"autocomplete": "email"},
    )
    job_title = StringField(
        _l("Fonction"),
        description=_l("Par exemple : secrétaire générale de mairie, agent d'accueil, rédactrice."),
        filters=[_strip],
        validators=[DataRequired(_l("Indiquez votre fonction.")), Length(max=120)],
        render_kw={"autocomplete": "organization-title"},
    )
    collectivites = TextAreaField(
        _l("Collectivités pour lesquelles vous travaillez"),
        description=_l(
            "Leur nom ou leur code INSEE, une par ligne (par exemple « Pujols » ou « 47215 »), y compris le CCAS "
            "ou le syndicat dont vous tenez le secrétariat."
        ),
        validators=[DataRequired(_l("Indiquez au moins une collectivité.")), Length(max=1000)],
        render_kw={"rows": 4},
    )
    message = TextAreaField(_l("Message pour le CDG"), validators=[Optional(), Length(max=1000)], render_kw={"rows": 3})
    submit = SubmitField(_l("Envoyer ma demande"))


class AcceptRequestForm(PortalForm):
    collectivites = TextAreaField(
        _l("Collectivités de la secrétaire"),
        description=COLLECTIVITES_DESCRIPTION,
        validators=[DataRequired(_l("Indiquez au moins une collectivité.")), Length(max=2000)],
        render_kw={"rows": 3},
    )
    submit_accept = SubmitField(_l("Accepter et envoyer l'invitation"))


class RefuseRequestForm(PortalForm):
    reason = TextAreaField(
        _l("Motif du refus (envoyé à la personne)"),
        validators=[DataRequired(_l("Indiquez le motif du refus : il est envoyé à la personne.")), Length(max=1000)],
        render_kw={"rows": 3},
    )
    submit_refuse = SubmitField(_l("Refuser la demande"))
