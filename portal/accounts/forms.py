"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length


def _strip(value):
    """Addresses are often pasted with surrounding spaces."""
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    email = EmailField(
        "Adresse électronique",
        filters=[_strip],
        validators=[
            DataRequired("Saisissez votre adresse électronique."),
            Email("Saisissez une adresse électronique valide, par exemple nom@mairie.fr."),
        ],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Mot de passe",
        validators=[DataRequired("Saisissez votre mot de passe.")],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField("Se connecter")


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        "Adresse électronique",
        filters=[_strip],
        validators=[
            DataRequired("Saisissez votre adresse électronique."),
            Email("Saisissez une adresse électronique valide, par exemple nom@mairie.fr."),
        ],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField("Recevoir un lien de réinitialisation")


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "Nouveau mot de passe",
        description="Au moins 12 caractères. Une phrase de passe facile à retenir convient très bien.",
        validators=[
            DataRequired("Saisissez un nouveau mot de passe."),
            Length(min=12, message="Le mot de passe doit comporter au moins 12 caractères."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Confirmation du mot de passe",
        validators=[
            DataRequired("Saisissez à nouveau le mot de passe."),
            EqualTo("password", "Les deux mots de passe ne sont pas identiques."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Enregistrer le mot de passe")
