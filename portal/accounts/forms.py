"""Account forms."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional, ValidationError

from portal.accounts.rules import MIN_PASSWORD_LENGTH, password_problems
from portal.common.forms import PortalForm, options
from portal.common.i18n import lazy_gettext as _l


def _strip(value):
    """Addresses are often pasted with surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(PortalForm):
    email = EmailField(
        _l("Adresse électronique"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Saisissez votre adresse électronique.")),
            Email(_l("Saisissez une adresse électronique valide, par exemple nom@mairie.fr.")),
            Length(max=254, message=_l("254 caractères au plus.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Saisissez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Se connecter"))


class ForgotPasswordForm(PortalForm):
    email = EmailField(
        _l("Adresse électronique"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Saisissez votre adresse électronique.")),
            Email(_l("Saisissez une adresse électronique valide, par exemple nom@mairie.fr.")),
            Length(max=254, message=_l("254 caractères au plus.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField(_l("Recevoir un lien de réinitialisation"))


class ResetPasswordForm(PortalForm):
    """A new password, checked against every rule of ``password_problems`` at once (``email``: the account's)."""

    password = PasswordField(
        _l("Nouveau mot de passe"),
        description=_l(
            "Au moins %(length)s caractères. Évitez les mots de passe courants (même suivis de chiffres ou de signes), "
            "votre identifiant de messagerie et la répétition d'un seul caractère. Une phrase de passe de plusieurs "
            "mots, facile à retenir, convient très bien.",
            length=MIN_PASSWORD_LENGTH,
        ),
        validators=[DataRequired(_l("Saisissez un nouveau mot de passe."))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
    )
    confirm = PasswordField(
        _l("Confirmation du mot de passe"),
        validators=[
            DataRequired(_l("Saisissez à nouveau le mot de passe.")),
            EqualTo("password", _l("Les deux mots de passe ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Enregistrer le mot de passe"))

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def validate_password(self, field):
        # Every problem is listed, not only the first one met.
        field.errors.extend(password_problems(field.data or "", self.email))


class AcceptInvitationForm(ResetPasswordForm):
    """The invited person's first password, and the terms of use accepted."""

    password = PasswordField(
        _l("Mot de passe"),
        description=ResetPasswordForm.password.kwargs["description"],
        validators=[DataRequired(_l("Choisissez un mot de passe."))],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH},
    )
    accept_terms = BooleanField(
        _l("J'ai lu et j'accepte les conditions d'utilisation du portail."),
        validators=[DataRequired(_l("Acceptez les conditions d'utilisation pour activer votre compte."))],
    )
    submit = SubmitField(_l("Activer mon compte"))


# Staff management of accounts ------------------------------------------------------------------------------

ROLE_CHOICES = [("secretary", _l("Secrétaire général de mairie")), ("staff", _l("Agent du CDG"))]
STATUS_CHOICES = [("invited", _l("Invitation en attente")), ("active", _l("Actif")), ("deactivated", _l("Désactivé"))]
COLLECTIVITES_DESCRIPTION = _l(
    "Codes INSEE (communes : 5 caractères, par exemple 47001) ou numéros SIREN (9 chiffres), séparés par des "
    "virgules ou des retours à la ligne."
)


class AccountFilterForm(PortalForm):
    """GET form of the list of accounts: no CSRF (it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Nom ou adresse électronique"), validators=[Optional(), Length(max=100)])
    role = SelectField(
        _l("Rôle"),
        choices=options([("", _l("Tous les rôles")), *ROLE_CHOICES, ("elu", _l("Élu"))]),
        validators=[Optional()],
    )
    status = SelectField(
        _l("Statut"), choices=options([("", _l("Tous les statuts")), *STATUS_CHOICES]), validators=[Optional()]
    )


class CreateAccountForm(PortalForm):
    role = RadioField(_l("Rôle"), choices=ROLE_CHOICES, default="secretary")
    full_name = StringField(
        _l("Prénom et nom"),
        filters=[_strip],
        validators=[DataRequired(_l("Saisissez le prénom et le nom.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    email = EmailField(
        _l("Adresse électronique"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Saisissez l'adresse électronique.")),
            Email(_l("Saisissez une adresse électronique valide, par exemple nom@mairie.fr.")),
            Length(max=254, message=_l("254 caractères au plus.")),
        ],
        render_kw={"autocomplete": "off"},
    )
    collectivites = TextAreaField(
        _l("Collectivités (pour un secrétaire général de mairie)"),
        description=COLLECTIVITES_DESCRIPTION,
        validators=[Length(max=2000)],
        render_kw={"rows": 3},
    )
    submit = SubmitField(_l("Créer le compte et envoyer l'invitation"))

    def validate_collectivites(self, field):
        if self.role.data == "secretary" and not (field.data or "").strip():
            raise ValidationError(_l("Indiquez au moins une collectivité pour un secrétaire général de mairie."))
        if self.role.data == "staff" and (field.data or "").strip():
            raise ValidationError(_l("Un agent du CDG n'est rattaché à aucune collectivité : laissez ce champ vide."))


class InviteEluForm(PortalForm):
    """An account for an élu of the register: his address; the rest comes from the person."""

    email = CreateAccountForm.email
    submit = SubmitField(_l("Créer le compte et envoyer l'invitation"))


class AccountCollectivitesForm(PortalForm):
    collectivites = TextAreaField(
        _l("Collectivités"), description=COLLECTIVITES_DESCRIPTION, validators=[Length(max=2000)], render_kw={"rows": 3}
    )
    confirm_none = BooleanField(_l("Je confirme : ce compte ne sera plus rattaché à aucune collectivité."))
    submit = SubmitField(_l("Enregistrer les collectivités"))

    def validate_collectivites(self, field):
        if not (field.data or "").strip() and not self.confirm_none.data:
            raise ValidationError(
                _l(
                    "Sans collectivité, cette secrétaire ne verra plus rien sur le portail. Indiquez au moins une "
                    "collectivité, ou cochez la case de confirmation si c'est voulu (par exemple un départ)."
                )
            )


class DeactivateAccountForm(PortalForm):
    """The confirmation of a deactivation, with its reason (kept in the audit log, shown on the account's page)."""

    reason = TextAreaField(
        _l("Motif de la désactivation"),
        validators=[DataRequired(_l("Indiquez le motif de la désactivation.")), Length(max=1000)],
        description=_l("Par exemple : départ de la collectivité, fin de mandat, compte compromis."),
        render_kw={"rows": 3},
    )


class AccountActionForm(PortalForm):
    """Deactivate, reactivate, resend the invitation: a button, protected against CSRF."""
