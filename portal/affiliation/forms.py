"""Forms for staff decisions on affiliation."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.affiliation.rules import STATUS_LABELS, Status
from portal.affiliation.services import DECISION_KIND_LABELS, DecisionKind
from portal.common.forms import IntegerField, PortalForm, options
from portal.common.i18n import lazy_gettext as _l

DECIDABLE = (Status.OBLIGATOIRE, Status.VOLONTAIRE, Status.NON_AFFILIEE)


# The choices of a select built from a label table are a function: the labels are read when the form is made (in
# the request's locale), not once at import.
def _decidable_options():
    return options((s.value, STATUS_LABELS[s]) for s in DECIDABLE)


def _voluntary_options():
    return options(
        (kind, DECISION_KIND_LABELS[kind]) for kind in (DecisionKind.VOLUNTARY_AFFILIATION, DecisionKind.WITHDRAWAL)
    )


class DecisionForm(PortalForm):
    decided_status = SelectField(
        _l("Statut décidé"), choices=_decidable_options, validators=[DataRequired(_l("Choisissez le statut."))]
    )
    effective_date = DateField(
        _l("Date d'effet"),
        validators=[InputRequired(_l("Indiquez la date d'effet (jj/mm/aaaa)."))],
        description=_l("La date à partir de laquelle le nouveau statut s'applique."),
    )
    deliberation_ref = StringField(
        _l("Référence de la délibération ou de l'arrêté"),
        validators=[DataRequired(_l("Indiquez la référence de la délibération.")), Length(max=200)],
        description=_l("Par exemple : délibération n° 2026-045 du conseil d'administration du 12 novembre 2026."),
    )
    note = TextAreaField(_l("Motivation (facultative)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Enregistrer la décision"))


class VoluntaryForm(PortalForm):
    kind = SelectField(
        _l("Décision"),
        choices=_voluntary_options,
    )
    effective_date = DateField(_l("Date d'effet"), validators=[InputRequired(_l("Indiquez la date d'effet."))])
    deliberation_ref = StringField(
        _l("Référence de la délibération"),
        validators=[DataRequired(_l("Indiquez la référence de la délibération.")), Length(max=200)],
    )
    opposing_bodies = IntegerField(
        _l("Collectivités affiliées qui s'opposent"),
        validators=[
            InputRequired(_l("Indiquez un nombre (0 si aucune).")),
            NumberRange(min=0, message=_l("Nombre positif attendu.")),
        ],
    )
    opposing_fonctionnaires = IntegerField(
        _l("Fonctionnaires employés par les collectivités qui s'opposent"),
        validators=[
            InputRequired(_l("Indiquez un nombre (0 si aucune).")),
            NumberRange(min=0, message=_l("Nombre positif attendu.")),
        ],
    )
    note = TextAreaField(_l("Motivation (facultative)"), validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Enregistrer"))
