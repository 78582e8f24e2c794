"""Forms of the subscription pages: a request form built from the service's own details, and actions."""

from __future__ import annotations

from datetime import date

from wtforms import DateField, FieldList, FormField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from portal.catalogue.rules import add_months, uai_problem
from portal.common.clock import paris_today
from portal.common.forms import IntegerField, PortalForm, PortalSubForm
from portal.common.i18n import lazy_gettext as _l
from portal.subscriptions.services import QUANTITY_LABELS

MAX_SCHOOLS = 40


class SchoolForm(PortalSubForm):
    """One school of an ENT request; a row left entirely empty is ignored, a row begun is checked in full (each
    problem shown on its field). ``remove`` is the row's own button: the page comes back without the row."""

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
    remove = SubmitField(_l("Retirer cette école"))

    def is_blank(self) -> bool:
        """Nothing typed in the row (what was typed counts, even a number that could not be read)."""
        fields = (self.uai, self.school_name, self.classes, self.pupils, self.director)
        return not any(
            (field.raw_data[0].strip() if field.raw_data else field.data not in (None, "")) for field in fields
        )

    def validate(self, extra_validators=None) -> bool:
        if self.is_blank():
            return True
        valid = super().validate(extra_validators)
        missing = (
            (self.uai, _l("Indiquez le code UAI de l'école.")),
            (self.school_name, _l("Indiquez le nom de l'école.")),
            (self.classes, _l("Indiquez le nombre de classes.")),
            (self.pupils, _l("Indiquez le nombre d'élèves.")),
        )
        for field, message in missing:
            if not field.errors and field.data in (None, ""):
                field.errors.append(message)
                valid = False
        problem = uai_problem(self.uai.data) if self.uai.data and not self.uai.errors else None
        if problem:
            self.uai.errors.append(problem)
            valid = False
        return valid


class SchoolRows(FieldList):
    """The ENT's school rows: any number, one to begin with; a code UAI typed twice is shown on its second row."""

    def __init__(self, **kwargs):
        super().__init__(FormField(SchoolForm), _l("École"), min_entries=1, max_entries=MAX_SCHOOLS, **kwargs)

    def validate(self, form, extra_validators=()) -> bool:
        valid = super().validate(form, extra_validators)
        seen = set()
        for entry in self.entries:
            uai = (entry.form.uai.data or "").strip().upper()
            if uai and uai in seen and not entry.form.uai.errors:
                entry.form.uai.errors.append(_l("Ce code UAI figure déjà sur une autre ligne."))
                valid = False
            seen.add(uai)
        self.errors = [entry.errors for entry in self.entries] if not valid else []
        return valid

    def removed_row(self) -> int | None:
        """The position of the row whose « Retirer » button was pressed, if any."""
        return next((i for i, entry in enumerate(self.entries) if entry.form.remove.data), None)


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
        RequestForm.schools = SchoolRows()
        RequestForm.add_school = SubmitField(_l("Ajouter une école"))
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
