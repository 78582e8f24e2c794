"""Training forms: bodies, trainings and sessions (staff), registration, budget, attendance."""

from __future__ import annotations

from decimal import Decimal

from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import URL, Email, InputRequired, Length, NumberRange, Optional

from portal.common.clock import paris_today
from portal.common.forms import FrenchDecimalField, IntegerField, PortalForm, YearInRange, options
from portal.common.i18n import lazy_gettext as _l
from portal.training.registrations import RegistrationInput
from portal.training.rights_rules import FUNDING_LABELS

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def _int_or_none(value):
    return int(value) if value not in (None, "", "None") else None


def _required(message):
    return InputRequired(message=message)


class BodyForm(PortalForm):
    name = StringField(
        _l("Nom de l'organisme"), validators=[_required(_l("Indiquez le nom de l'organisme.")), Length(max=200)]
    )
    agrement_number = StringField(
        _l("Numéro d'agrément du ministère"),
        validators=[_required(_l("Indiquez le numéro d'agrément.")), Length(max=60)],
        description=_l("Agrément délivré après avis du CNFEL (2 ans la première fois, puis 4 ans)."),
    )
    agrement_from = DateField(
        _l("Agrément valide à partir du"), validators=[_required(_l("Indiquez une date valide (jj/mm/aaaa)."))]
    )
    agrement_until = DateField(
        _l("Agrément valide jusqu'au"), validators=[_required(_l("Indiquez une date valide (jj/mm/aaaa)."))]
    )
    contact_email = StringField(
        _l("Courriel de contact"),
        validators=[Optional(), Email(_l("Adresse électronique invalide.")), Length(max=254)],
    )
    submit = SubmitField(_l("Enregistrer l'organisme"))


class TrainingForm(PortalForm):
    title = StringField(_l("Intitulé"), validators=[_required(_l("Indiquez l'intitulé.")), Length(max=200)])
    body_id = SelectField(
        _l("Organisme de formation"), coerce=_int_or_none, validators=[_required(_l("Choisissez l'organisme."))]
    )
    duration_hours = FrenchDecimalField(  # Training.duration_hours: Numeric(5, 1)
        _l("Durée (heures)"),
        places=1,
        max_digits=5,
        validators=[
            _required(_l("Indiquez la durée en heures.")),
            NumberRange(min=Decimal("0.5"), max=Decimal("500"), message=_l("Entre 0,5 et 500 heures.")),
        ],
    )
    cost_per_participant = FrenchDecimalField(  # Training.cost_per_participant: Numeric(10, 2)
        _l("Coût pédagogique par participant (€)"),
        places=2,
        max_digits=10,
        validators=[
            _required(_l("Indiquez le coût (0 si gratuit).")),
            NumberRange(min=0, max=100000, message=_l("Entre 0 et 100 000 €.")),
        ],
    )
    objectives = TextAreaField(_l("Objectifs"), validators=[Optional(), Length(max=4000)])
    programme = TextAreaField(_l("Programme"), validators=[Optional(), Length(max=10000)])
    active = BooleanField(_l("Proposée au catalogue"), default=True)
    submit = SubmitField(_l("Enregistrer la formation"))


class SessionForm(PortalForm):
    training_id = SelectField(
        _l("Formation"), coerce=_int_or_none, validators=[_required(_l("Choisissez la formation."))]
    )
    starts_at = DateTimeLocalField(
        _l("Début (heure de Paris)"),
        format=DATETIME_FORMAT,
        validators=[_required(_l("Indiquez la date et l'heure de début."))],
    )
    ends_at = DateTimeLocalField(
        _l("Fin (heure de Paris)"),
        format=DATETIME_FORMAT,
        validators=[_required(_l("Indiquez la date et l'heure de fin."))],
    )
    registration_deadline = DateTimeLocalField(
        _l("Date limite d'inscription (heure de Paris)"),
        format=DATETIME_FORMAT,
        validators=[_required(_l("Indiquez la date limite d'inscription."))],
    )
    capacity = IntegerField(
        _l("Nombre de places"),
        validators=[
            _required(_l("Indiquez le nombre de places.")),
            NumberRange(min=1, max=1000, message=_l("Entre 1 et 1 000 places.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    quota_per_collectivite = IntegerField(
        _l("Places au plus par collectivité"),
        validators=[Optional(), NumberRange(min=1, max=1000, message=_l("Entre 1 et 1 000 places."))],
        description=_l("Laisser vide pour ne pas limiter."),
        render_kw={"inputmode": "numeric"},
    )
    minimum_participants = IntegerField(
        _l("Nombre minimal de participants"),
        validators=[Optional(), NumberRange(min=1, max=1000, message=_l("Entre 1 et 1 000 participants."))],
        description=_l(
            "Une semaine avant, une session en dessous de ce nombre apparaît dans la liste à traiter du CDG "
            "(maintenir, reporter ou annuler). Laisser vide pour ne pas fixer de minimum."
        ),
        render_kw={"inputmode": "numeric"},
    )
    place = StringField(_l("Lieu"), validators=[Optional(), Length(max=300)])
    remote_url = StringField(
        _l("Lien de connexion à distance"),
        validators=[Optional(), URL(require_tld=False, message=_l("Adresse web invalide.")), Length(max=500)],
    )
    published = BooleanField(_l("Ouverte aux inscriptions"))
    prioritise_untrained = BooleanField(
        _l("Places libérées proposées d'abord aux communes sans élu formé"),
    )
    submit = SubmitField(_l("Enregistrer la session"))


class RegistrationForm(PortalForm):
    mandate_id = SelectField(_l("Élu"), coerce=_int_or_none, validators=[_required(_l("Choisissez l'élu."))])
    funding = SelectField(
        _l("Financement"),
        choices=lambda: options(FUNDING_LABELS.items()),  # labels read per form, in the request's locale
        default="commune",
    )
    dife_amount = FrenchDecimalField(  # Registration.dife_amount: Numeric(10, 2)
        _l("Part financée par le DIFE (€)"),
        places=2,
        max_digits=10,
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=0, max=800, message=_l("Entre 0 et 800 €."))],
        description=_l("Seulement pour un financement mixte : le reste est à la charge de la commune."),
    )
    travel_cost = FrenchDecimalField(  # Registration.travel_cost: Numeric(10, 2)
        _l("Frais de déplacement et de séjour prévus (€)"),
        places=2,
        max_digits=10,
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=0, max=10000, message=_l("Entre 0 et 10 000 €."))],
    )
    leave_days = FrenchDecimalField(  # Registration.leave_days: Numeric(4, 1)
        _l("Jours de congé de formation utilisés"),
        places=1,
        max_digits=4,
        default=Decimal("0"),
        validators=[Optional(), NumberRange(min=0, max=24, message=_l("Entre 0 et 24 jours."))],
        description=_l("Pour les élus salariés ou agents publics : 24 jours pour toute la durée du mandat."),
    )
    submit = SubmitField(_l("Inscrire"))

    def registration_input(self):
        """What the registration asks for, as the training services take it (empty amounts read as zero)."""
        return RegistrationInput(
            funding=self.funding.data,
            travel_cost=self.travel_cost.data or Decimal(0),
            dife_amount=self.dife_amount.data or Decimal(0),
            leave_days=self.leave_days.data or Decimal(0),
        )


class ActionForm(PortalForm):
    """A button that changes a registration (cancel, accept or decline an offered seat)."""

    reason = StringField(_l("Motif (facultatif)"), validators=[Optional(), Length(max=500)])


class CancelSessionForm(PortalForm):
    reason = StringField(_l("Motif de l'annulation"), validators=[_required(_l("Indiquez le motif.")), Length(max=500)])
    submit = SubmitField(_l("Annuler la session"))


class AttendanceForm(PortalForm):
    """The sign-in sheet: the present participants are the ticked ``present`` checkboxes."""

    submit = SubmitField(_l("Enregistrer l'émargement"))


class BudgetForm(PortalForm):
    year = IntegerField(
        _l("Année"),
        validators=[_required(_l("Indiquez l'année.")), YearInRange()],
        default=lambda: paris_today().year,
    )
    amount = FrenchDecimalField(  # TrainingBudget.amount: Numeric(12, 2)
        _l("Crédits de formation votés (€)"),
        places=2,
        max_digits=12,
        validators=[
            _required(_l("Indiquez le montant.")),
            NumberRange(min=0, max=10_000_000, message=_l("Montant invalide.")),
        ],
    )
    max_indemnities = FrenchDecimalField(  # TrainingBudget.max_indemnities: Numeric(12, 2)
        _l("Montant maximal des indemnités de fonction (€)"),
        places=2,
        max_digits=12,
        validators=[Optional(), NumberRange(min=0, max=100_000_000, message=_l("Montant invalide."))],
        description=_l(
            "Base des bornes légales, à saisir chaque année (CGCT L2123-14) : les crédits votés doivent en "
            "atteindre 2 %, les dépenses réalisées ne doivent pas en dépasser 20 %."
        ),
    )
    deliberation_ref = StringField(_l("Délibération"), validators=[Optional(), Length(max=100)])
    submit = SubmitField(_l("Enregistrer le budget"))
