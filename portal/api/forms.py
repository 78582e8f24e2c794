"""Forms of the token pages."""

from __future__ import annotations

from datetime import date, timedelta

from wtforms import DateField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from portal.api.models import SCOPE_LABELS, Scope
from portal.common.clock import paris_today
from portal.common.forms import PortalForm, options
from portal.common.i18n import lazy_gettext as _l


def _default_expiry() -> date:
    return paris_today() + timedelta(days=90)


class TokenForm(PortalForm):
    name = StringField(
        _l("Nom du jeton"),
        description=_l("Pour le reconnaître : le logiciel ou le service qui l'utilise."),
        validators=[
            DataRequired(_l("Donnez un nom au jeton.")),
            Length(max=100, message=_l("100 caractères au plus.")),
        ],
    )
    scope = SelectField(
        _l("Portée"),
        choices=lambda: options(SCOPE_LABELS.items()),  # labels read per form, in the request's locale
        default=Scope.READ,
    )
    expires_on = DateField(
        _l("Date d'expiration"),
        description=_l("Un an au plus après aujourd'hui."),
        default=_default_expiry,
        validators=[InputRequired(_l("Indiquez la date d'expiration."))],
    )
    submit = SubmitField(_l("Créer le jeton"))


class ServiceTokenForm(TokenForm):
    user_id = SelectField(_l("Compte de service"), coerce=int, validate_choice=True)


class ServiceAccountForm(PortalForm):
    email = EmailField(
        _l("Adresse électronique du compte"),
        validators=[
            DataRequired(_l("Saisissez une adresse électronique.")),
            Email(_l("Saisissez une adresse électronique valide.")),
            Length(max=254, message=_l("254 caractères au plus.")),
        ],
    )
    full_name = StringField(
        _l("Nom du compte"),
        description=_l("Par exemple : Logiciel de paie, ENT des écoles."),
        validators=[DataRequired(_l("Donnez un nom au compte.")), Length(max=200)],
    )
    role = SelectField(
        _l("Rôle"),
        choices=options([("staff", _l("Agent du CDG (voit tout)")), ("secretary", _l("Secrétaire de collectivités"))]),
    )
    collectivites = StringField(
        _l("Collectivités (codes INSEE ou SIREN, séparés par des virgules)"),
        description=_l("Pour le rôle de secrétaire seulement."),
        validators=[Optional(), Length(max=2000)],
    )
    submit_account = SubmitField(_l("Créer le compte de service"))
