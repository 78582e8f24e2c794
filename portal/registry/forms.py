"""Forms of the registry pages."""

from __future__ import annotations

from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.affiliation.rules import STATUS_LABELS, Status
from portal.common.forms import IntegerField, PortalForm, QuickSelect, YearInRange, options
from portal.common.i18n import lazy_gettext as _l
from portal.registry.kinds import LABELS


class FilterForm(PortalForm):
    """GET form of the list: no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Nom, code INSEE, SIREN ou code postal"), validators=[Optional(), Length(max=100)])
    kind = SelectField(
        _l("Type"),
        # Labels read per form (a function), in the request's locale.
        choices=lambda: options([("", _l("Tous les types")), ("epci", _l("Tous les EPCI")), *LABELS.items()]),
        validators=[Optional()],
        widget=QuickSelect(),
    )
    epci = SelectField(
        _l("EPCI"),
        coerce=lambda v: int(v) if v not in (None, "") else None,
        validators=[Optional()],
        widget=QuickSelect(),
    )
    status = SelectField(
        _l("Statut d'affiliation"),
        choices=lambda: options(
            [("", _l("Tous les statuts"))]
            + [(s.value, STATUS_LABELS[s]) for s in (Status.OBLIGATOIRE, Status.VOLONTAIRE, Status.NON_AFFILIEE)]
            + [("aucun", _l("Non déterminé"))]
        ),
        validators=[Optional()],
        widget=QuickSelect(),
    )


def _count_field(label, description=None):
    """An integer count of agents; ``label`` and ``description`` are lazy translatable strings."""
    return IntegerField(
        label,
        description=description,
        validators=[
            InputRequired(_l("Indiquez un nombre (0 s'il n'y en a pas).")),
            NumberRange(min=0, max=100_000, message=_l("Indiquez un nombre entier entre 0 et 100 000.")),
        ],
        render_kw={"inputmode": "numeric", "min": 0, "max": 100000},
    )


class HeadcountForm(PortalForm):
    year = IntegerField(
        _l("Année"),
        validators=[InputRequired(_l("Indiquez l'année.")), YearInRange(ahead=1)],  # next year at the latest
        render_kw={"inputmode": "numeric"},
    )
    titulaires_temps_complet = _count_field(
        _l("Fonctionnaires titulaires et stagiaires à temps complet"),
        _l("En position d'activité. Seul ce nombre compte pour le seuil de 350 agents."),
    )
    titulaires_temps_non_complet = _count_field(_l("Fonctionnaires titulaires et stagiaires à temps non complet"))
    contractuels = _count_field(_l("Agents contractuels"))
    comment = TextAreaField(_l("Commentaire (facultatif)"), validators=[Optional(), Length(max=500)])
    submit = SubmitField(_l("Enregistrer la déclaration"))
