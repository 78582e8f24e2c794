"""Forms of the catalogue management pages."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.catalogue.rules import ELIGIBILITY_LABELS, GROUP_LABELS, TARIFF_LABELS
from portal.catalogue.services import REQUEST_FIELDS
from portal.common.clock import paris_today
from portal.common.forms import FrenchDecimalField, IntegerField, PortalForm, options
from portal.common.i18n import lazy_gettext as _l


class ServiceForm(PortalForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Indiquez un code.")), Length(max=40)],
        description=_l("Minuscules, chiffres et tirets ; il apparaît dans les adresses des pages."),
    )
    name = StringField(_l("Nom"), validators=[DataRequired(_l("Indiquez le nom du service.")), Length(max=200)])
    description = TextAreaField(
        _l("Description"), validators=[DataRequired(_l("Décrivez le service.")), Length(max=4000)]
    )
    # Choices from label tables are functions: the labels are read per form, in the request's locale.
    group = SelectField(_l("Groupe"), choices=lambda: options(GROUP_LABELS.items()))
    eligibility = SelectField(_l("Éligibilité"), choices=lambda: options(ELIGIBILITY_LABELS.items()))
    tariff_model = SelectField(_l("Modalité de tarification"), choices=lambda: options(TARIFF_LABELS.items()))
    request_fields = SelectMultipleField(
        _l("Informations demandées à la commune"), choices=lambda: options(REQUEST_FIELDS.items())
    )
    requires_validation = BooleanField(_l("Les demandes sont instruites par le CDG"), default=True)
    notice_months = IntegerField(
        _l("Préavis de résiliation (mois)"),
        default=3,
        validators=[
            InputRequired(_l("Indiquez le préavis.")),
            NumberRange(min=0, max=24, message=_l("Entre 0 et 24 mois.")),
        ],
    )
    position = IntegerField(_l("Ordre d'affichage"), default=100, validators=[InputRequired(), NumberRange(min=0)])
    active = BooleanField(_l("Proposé aux collectivités"), default=True)
    submit = SubmitField(_l("Enregistrer le service"))


class TariffForm(PortalForm):
    year = IntegerField(
        _l("Année"), default=lambda: paris_today().year + 1, validators=[InputRequired(_l("Indiquez l'année."))]
    )
    unit_amount = FrenchDecimalField(  # Tariff.unit_amount: Numeric(12, 4)
        _l("Tarif (€ ou % de la masse salariale)"),
        places=4,
        max_digits=12,
        validators=[InputRequired(_l("Indiquez le tarif."))],
    )
    deliberation_ref = StringField(
        _l("Délibération"), validators=[DataRequired(_l("Indiquez la délibération.")), Length(max=200)]
    )
    deliberation_date = DateField(
        _l("Date de la délibération"), validators=[InputRequired(_l("Indiquez la date de la délibération."))]
    )
    submit_tariff = SubmitField(_l("Enregistrer le tarif"))
