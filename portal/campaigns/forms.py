"""Forms of the campaign pages: opening, reopening (with its confirmation), closing, a document to upload."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.common.forms import IntegerField, PortalForm, YearInRange
from portal.common.i18n import lazy_gettext as _l


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OpenCampaignForm(PortalForm):
    kind = SelectField(_l("Type de campagne"), validators=[DataRequired(_l("Choisissez le type de campagne."))])
    year = IntegerField(
        _l("Année"),
        validators=[InputRequired(_l("Indiquez l'année de la campagne.")), YearInRange(ahead=1)],
        description=_l("Pour les effectifs, la date de référence est le 1er janvier de cette année."),
        render_kw={"inputmode": "numeric"},
    )
    deadline = DateField(
        _l("Date limite de réponse"),
        validators=[InputRequired(_l("Indiquez la date limite de réponse (jj/mm/aaaa)."))],
        description=_l("À venir, et après la date de référence."),
    )
    message = TextAreaField(
        _l("Message aux collectivités (facultatif)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Ajouté au courriel d'ouverture et aux relances."),
    )
    scope_kinds = CheckboxesField(
        _l("Collectivités concernées"),
        validators=[DataRequired(_l("Choisissez au moins un type de collectivité."))],
        description=_l("Celles des départements du CDG."),
    )
    submit = SubmitField(_l("Ouvrir la campagne"))


class CloseForm(PortalForm):
    submit = SubmitField(_l("Clore la campagne"))


class ReopenForm(PortalForm):
    deadline = DateField(
        _l("Nouvelle date limite de réponse"),
        validators=[InputRequired(_l("Indiquez la nouvelle date limite (jj/mm/aaaa)."))],
    )
    confirm = BooleanField(
        _l("Je confirme la réouverture : les collectivités qui n'ont pas répondu pourront de nouveau le faire."),
        validators=[DataRequired(_l("Cochez la case pour confirmer la réouverture."))],
    )
    submit = SubmitField(_l("Rouvrir la campagne"))


class DocumentForm(PortalForm):
    file = FileField(
        _l("Document (PDF)"),
        validators=[FileRequired(_l("Choisissez le fichier PDF à envoyer."))],
        render_kw={"accept": ".pdf,application/pdf"},
    )
    submit = SubmitField(_l("Envoyer le document"))
