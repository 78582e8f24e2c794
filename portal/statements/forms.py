"""Forms for rates and payrolls."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from portal.common.clock import paris_today
from portal.common.forms import options


class FrenchDecimalField(DecimalField):
    """A decimal typed the French way (0,8) or the English way (0.8)."""

    def process_formdata(self, valuelist):
        if valuelist:
            valuelist = [valuelist[0].replace(" ", "").replace("\u202f", "").replace(",", ".")]
        super().process_formdata(valuelist)


class RateForm(FlaskForm):
    year = IntegerField(
        _l("Année"), validators=[InputRequired(_l("Indiquez l'année."))], default=lambda: paris_today().year + 1
    )
    kind = SelectField(
        _l("Taux"),
        choices=options(
            [
                ("cotisation", _l("Cotisation obligatoire (plafond 0,8 %)")),
                ("socle", _l("Socle commun (plafond 0,2 %)")),
            ]
        ),
    )
    rate_percent = FrenchDecimalField(
        _l("Taux en pourcentage de la masse salariale"),
        places=4,
        validators=[InputRequired(_l("Indiquez le taux, par exemple 0,8."))],
        description=_l("Utilisez la virgule ou le point : 0,8 ou 0.8."),
    )
    deliberation_ref = StringField(
        _l("Délibération du conseil d'administration"),
        validators=[DataRequired(_l("Indiquez la référence de la délibération.")), Length(max=200)],
    )
    submit = SubmitField(_l("Enregistrer le taux"))


class PayrollForm(FlaskForm):
    year = IntegerField(
        _l("Année"),
        validators=[
            InputRequired(_l("Indiquez l'année.")),
            NumberRange(min=2000, max=2100, message=_l("Année invalide.")),
        ],
        default=lambda: paris_today().year,
    )
    amount = StringField(
        _l("Masse salariale déclarée (€)"),
        validators=[DataRequired(_l("Indiquez le montant.")), Length(max=20)],
        description=_l("Masse des rémunérations déclarée aux organismes de sécurité sociale."),
    )
    submit = SubmitField(_l("Enregistrer la masse salariale"))
