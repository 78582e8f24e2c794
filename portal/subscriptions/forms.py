"""Forms of the subscription pages: a request form built from the service's own details, and actions."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FieldList, FormField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.catalogue.rules import add_months
from portal.common.clock import paris_today
from portal.common.forms import IntegerField, PortalForm, PortalSubForm
from portal.subscriptions.services import QUANTITY_LABELS

SCHOOL_ROWS = 5


class SchoolForm(PortalSubForm):
    """One school of an ENT request; a row left entirely empty is ignored."""

    uai = StringField(
        _l("Code UAI"),
        validators=[Optional(), Length(max=8)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 8},
    )
    school_name = StringField(_l("Nom de l'école"), validators=[Optional(), Length(max=200)])
    classes = IntegerField(
        _l("Nombre de classes"),
        validators=[Optional(), NumberRange(min=1, max=60, message=_l("Entre 1 et 60 classes."))],
        render_kw={"inputmode": "numeric"},
    )
    pupils = IntegerField(
        _l("Nombre d'élèves"),
        validators=[Optional(), NumberRange(min=0, max=2000, message=_l("Entre 0 et 2 000 élèves."))],
        render_kw={"inputmode": "numeric"},
    )
    director = StringField(_l("Directrice ou directeur"), validators=[Optional(), Length(max=200)])

    def is_blank(self) -> bool:
        return not any((self.uai.data, self.school_name.data, self.classes.data, self.pupils.data, self.director.data))


def first_day_of_next_month(today: date | None = None) -> date:
    today = today or paris_today()
    return add_months(today.replace(day=1), 1)


def request_form_class(service):
    """A form class with only the fields this service asks for."""

    class RequestForm(PortalForm):
        start_date = DateField(
            _l("Date de début souhaitée"),
            validators=[InputRequired(_l("Indiquez la date de début."))],
            default=first_day_of_next_month,
        )
        submit = SubmitField(_l("Envoyer la demande"))

    for name in service.request_fields:
        if name in QUANTITY_LABELS:
            setattr(
                RequestForm,
                name,
                IntegerField(
                    QUANTITY_LABELS[name],
                    validators=[
                        InputRequired(_l("Indiquez un nombre entier.")),
                        NumberRange(
                            min=0, max=1_000_000, message=_l("Indiquez un nombre entier entre 0 et 1 000 000.")
                        ),
                    ],
                    render_kw={"inputmode": "numeric"},
                ),
            )
    if "ent_schools" in service.request_fields:
        RequestForm.schools = FieldList(FormField(SchoolForm), min_entries=SCHOOL_ROWS, max_entries=40)
    RequestForm.message = TextAreaField(
        _l("Précisions pour le centre de gestion (facultatif)"), validators=[Optional(), Length(max=4000)]
    )
    return RequestForm


class ActionForm(PortalForm):
    comment = TextAreaField(
        _l("Message ou motif"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Obligatoire pour un refus ou une demande d'informations ; transmis à la collectivité."),
    )
    effective_date = DateField(
        _l("Date (début pour une validation, fin pour une résiliation)"), validators=[Optional()]
    )
