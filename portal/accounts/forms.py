"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from portal.accounts.rules import MIN_PASSWORD_LENGTH, password_problems
from portal.common.forms import PortalForm


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
