"""Convention forms: filters of the list, a new convention with its parties, signatories and axes, a partner,
the parties and signatories of a recorded convention, and the follow-up forms of a convention's page (axis, action,
meeting, document and its withdrawal, termination)."""

from __future__ import annotations

from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.common.forms import IntegerField, PortalForm, PortalSubForm, options
from portal.common.i18n import lazy_gettext as _l
from portal.conventions import rules
from portal.conventions.models import ACTION_STATUS_LABELS, PARTNER_KIND_LABELS

PARTY_ROWS = 4
SIGNATORY_ROWS = 4
AXIS_ROWS = 7


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


class FilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Intitulé, objet ou partenaire"), validators=[Optional(), Length(max=200)])
    partenaire = SelectField(_l("Partenaire"), coerce=_int_or_none, validators=[Optional()])
    type = SelectField(_l("Type"), validators=[Optional()])
    etat = SelectField(_l("État"), validators=[Optional()])
    echeance = IntegerField(
        _l("Échéance dans les N jours"),
        validators=[Optional(), NumberRange(min=0, max=3650, message=_l("Entre 0 et 3 650 jours."))],
        render_kw={"inputmode": "numeric"},
    )


class PartyForm(PortalSubForm):
    partner = SelectField(_l("Partenaire"), coerce=_int_or_none, validators=[Optional()])
    representative = StringField(_l("Représentant"), validators=[Optional(), Length(max=200)])
    deliberation_ref = StringField(_l("Délibération autorisant la signature"), validators=[Optional(), Length(max=200)])


class SignatoryForm(PortalSubForm):
    name = StringField(_l("Nom du signataire"), validators=[Optional(), Length(max=200)])
    role = StringField(_l("Qualité"), validators=[Optional(), Length(max=200)])
    partner = SelectField(_l("Partie représentée"), coerce=_int_or_none, validators=[Optional()])


class AxisForm(PortalSubForm):
    title = StringField(_l("Intitulé de l'axe"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])


class ConventionTermsForm(PortalForm):
    """The identity and terms of a convention: what staff can change after it is recorded."""

    title = StringField(
        _l("Intitulé de la convention"),
        validators=[InputRequired(_l("Indiquez l'intitulé de la convention.")), Length(max=300)],
    )
    kind = SelectField(
        _l("Type de convention"),
        choices=lambda: options([("", "—"), *rules.KIND_LABELS.items()]),  # labels read per form
        validators=[InputRequired(_l("Choisissez le type de convention."))],
    )
    object = TextAreaField(_l("Objet"), validators=[Optional(), Length(max=8000)])
    parent_id = SelectField(_l("Convention-cadre appliquée (facultatif)"), coerce=_int_or_none, validators=[Optional()])
    signed_on = DateField(
        _l("Date de signature"), validators=[Optional()], description=_l("Laisser vide pour un projet.")
    )
    start_date = DateField(_l("Date d'entrée en vigueur"), validators=[Optional()])
    end_date = DateField(_l("Date de fin"), validators=[Optional()])
    duration_months = IntegerField(
        _l("Ou durée en mois"),
        validators=[Optional(), NumberRange(min=1, max=600, message=_l("Entre 1 et 600 mois."))],
        description=_l("Une date de fin ou une durée, pas les deux."),
        render_kw={"inputmode": "numeric"},
    )
    tacit_renewal = BooleanField(_l("Reconduction tacite"))
    renewal_months = IntegerField(
        _l("Durée de chaque reconduction, en mois"),
        validators=[Optional(), NumberRange(min=1, max=600, message=_l("Entre 1 et 600 mois."))],
        description=_l("Par défaut, la durée initiale."),
        render_kw={"inputmode": "numeric"},
    )
    notice_months = IntegerField(
        _l("Préavis de dénonciation, en mois"),
        validators=[Optional(), NumberRange(min=0, max=60, message=_l("Entre 0 et 60 mois."))],
        render_kw={"inputmode": "numeric"},
    )
    deliberation_refs = TextAreaField(_l("Références des délibérations"), validators=[Optional(), Length(max=2000)])
    follow_up = TextAreaField(
        _l("Modalités de suivi"),
        validators=[Optional(), Length(max=4000)],
        description=_l("Comité de suivi, bilan annuel…"),
    )
    submit = SubmitField(_l("Enregistrer la convention"))

    def set_parent_choices(self, frameworks) -> None:
        self.parent_id.choices = options([("", "—")] + [(c.id, c.title) for c in frameworks])


MAX_PARTIES = 20
MAX_SIGNATORIES = 20
BLANK_ROWS = 2


def _set_partner_choices(form, partners) -> None:
    partner_choices = options([("", "—")] + [(p.id, p.name) for p in partners])
    for row in form.parties:
        row.form.partner.choices = partner_choices
    for row in form.signatories:
        row.form.partner.choices = partner_choices


class ConventionForm(ConventionTermsForm):
    """A new convention: its terms, its parties, signatories and axes."""

    parties = FieldList(FormField(PartyForm), min_entries=PARTY_ROWS, max_entries=MAX_PARTIES)
    signatories = FieldList(FormField(SignatoryForm), min_entries=SIGNATORY_ROWS, max_entries=MAX_SIGNATORIES)
    axes = FieldList(FormField(AxisForm), min_entries=AXIS_ROWS, max_entries=30)

    def set_choices(self, partners, frameworks) -> None:
        _set_partner_choices(self, partners)
        self.set_parent_choices(frameworks)


class PartiesForm(PortalForm):
    """The parties and signatories of a recorded convention, the same rows as at creation; an emptied row is
    removed."""

    parties = FieldList(FormField(PartyForm), min_entries=PARTY_ROWS, max_entries=MAX_PARTIES)
    signatories = FieldList(FormField(SignatoryForm), min_entries=SIGNATORY_ROWS, max_entries=MAX_SIGNATORIES)
    # Asked on the confirmation page of a removal only; the service refuses a removal without it.
    reason = TextAreaField(
        _l("Motif du retrait"),
        validators=[Optional(), Length(max=1000)],
        description=_l("Il figure dans l'historique de la convention et dans le journal."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Enregistrer les parties et les signataires"))

    def add_blank_rows(self) -> None:
        """Room for a new party and a new signatory below the recorded ones."""
        for rows, limit in ((self.parties, MAX_PARTIES), (self.signatories, MAX_SIGNATORIES)):
            filled = sum(1 for row in rows if any(row.form.data.values()))
            while len(rows) < min(filled + BLANK_ROWS, limit):
                rows.append_entry()

    def set_choices(self, partners) -> None:
        _set_partner_choices(self, partners)


class PartnerForm(PortalForm):
    name = StringField(_l("Nom"), validators=[InputRequired(_l("Indiquez le nom du partenaire.")), Length(max=200)])
    kind = SelectField(
        _l("Type de partenaire"), choices=lambda: options(PARTNER_KIND_LABELS.items()), validators=[InputRequired()]
    )
    representative_name = StringField(_l("Représentant"), validators=[Optional(), Length(max=200)])
    representative_role = StringField(_l("Qualité du représentant"), validators=[Optional(), Length(max=200)])
    submit = SubmitField(_l("Ajouter le partenaire"))


class ActionForm(PortalForm):
    axis_id = SelectField(_l("Axe"), coerce=_int_or_none, validators=[InputRequired(_l("Choisissez l'axe."))])
    title = StringField(_l("Action"), validators=[InputRequired(_l("Indiquez l'action à mener.")), Length(max=300)])
    owner = StringField(_l("Responsable"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("État de l'action"), choices=lambda: options(ACTION_STATUS_LABELS.items()))
    due_date = DateField(_l("Échéance"), validators=[Optional()])
    submit = SubmitField(_l("Ajouter l'action"))


class NewAxisForm(PortalForm):
    title = StringField(
        _l("Intitulé de l'axe"), validators=[InputRequired(_l("Indiquez l'intitulé de l'axe.")), Length(max=300)]
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=4000)])
    submit = SubmitField(_l("Ajouter l'axe"))


class AxisEditForm(NewAxisForm):
    submit = SubmitField(_l("Enregistrer l'axe"))


class MeetingForm(PortalForm):
    held_on = DateField(_l("Date de la réunion"), validators=[InputRequired(_l("Indiquez la date de la réunion."))])
    title = StringField(
        _l("Instance"),
        default="Comité de suivi",
        validators=[InputRequired(_l("Indiquez l'objet de la réunion.")), Length(max=200)],
    )
    minutes = TextAreaField(_l("Compte rendu"), validators=[Optional(), Length(max=20000)])
    submit = SubmitField(_l("Ajouter la réunion"))


class DocumentForm(PortalForm):
    file = FileField(
        _l("Fichier"),
        validators=[FileRequired(_l("Choisissez un fichier."))],
        description=_l("PDF, ODT, ODS, DOC, DOCX, XLS ou XLSX."),
    )
    submit = SubmitField(_l("Joindre le document"))


class WithdrawDocumentForm(PortalForm):
    reason = TextAreaField(
        _l("Motif du retrait"),
        validators=[DataRequired(_l("Indiquez le motif du retrait.")), Length(max=2000)],
        description=_l("Il figure dans la liste des documents retirés et dans le journal."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Retirer"))


class TerminateForm(PortalForm):
    terminated_on = DateField(
        _l("Date d'effet de la résiliation"), validators=[InputRequired(_l("Indiquez la date d'effet."))]
    )
    reason = TextAreaField(
        _l("Motif de la résiliation"),
        validators=[DataRequired(_l("Indiquez le motif de la résiliation.")), Length(max=2000)],
        description=_l("Il figure sur la page de la convention et dans le journal."),
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Enregistrer la résiliation"))
