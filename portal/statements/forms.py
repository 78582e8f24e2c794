"""Forms for rates and payrolls."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.common.clock import paris_today
from portal.common.forms import FrenchDecimalField, IntegerField, PortalForm, YearInRange, options
from portal.common.i18n import lazy_gettext as _l


class RateForm(PortalForm):
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
    rate_percent = FrenchDecimalField(  # ContributionRate.rate_percent: Numeric(6, 4)
        _l("Taux en pourcentage de la masse salariale"),
        places=4,
        max_digits=6,
        validators=[InputRequired(_l("Indiquez le taux, par exemple 0,8."))],
        description=_l("Utilisez la virgule ou le point : 0,8 ou 0.8."),
    )
    deliberation_ref = StringField(
        _l("Délibération du conseil d'administration"),
        validators=[DataRequired(_l("Indiquez la référence de la délibération.")), Length(max=200)],
    )
    deliberation_date = DateField(
        _l("Date de la délibération"),
        validators=[InputRequired(_l("Indiquez la date de la délibération."))],
        description=_l("Le taux de cotisation d'une année est voté au plus tard le 30 novembre de l'année précédente."),
    )
    submit = SubmitField(_l("Enregistrer le taux"))


class PayrollForm(PortalForm):
    year = IntegerField(
        _l("Année"),
        validators=[InputRequired(_l("Indiquez l'année.")), YearInRange()],
        default=lambda: paris_today().year,
    )
    amount = FrenchDecimalField(  # PayrollDeclaration.amount: Numeric(14, 2)
        _l("Masse salariale déclarée (€)"),
        places=2,
        max_digits=14,
        validators=[InputRequired(_l("Indiquez le montant."))],
        description=_l("Masse des rémunérations déclarée aux organismes de sécurité sociale."),
    )
    submit = SubmitField(_l("Enregistrer la masse salariale"))
