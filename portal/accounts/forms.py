"""Account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length


def _strip(value):
    """Addresses are often pasted with surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse électronique"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Saisissez votre adresse électronique.")),
            Email(_l("Saisissez une adresse électronique valide, par exemple nom@mairie.fr.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(_l("Saisissez votre mot de passe."))],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Se connecter"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Adresse électronique"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Saisissez votre adresse électronique.")),
            Email(_l("Saisissez une adresse électronique valide, par exemple nom@mairie.fr.")),
        ],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField(_l("Recevoir un lien de réinitialisation"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Nouveau mot de passe"),
        description=_l("Au moins 12 caractères. Une phrase de passe facile à retenir convient très bien."),
        validators=[
            DataRequired(_l("Saisissez un nouveau mot de passe.")),
            Length(min=12, message=_l("Le mot de passe doit comporter au moins 12 caractères.")),
        ],
        render_kw={"autocomplete": "new-password"},
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
