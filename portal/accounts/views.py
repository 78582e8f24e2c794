"""Login, logout, invitations, password reset, terms of use, profile."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from portal.accounts import proconnect, services
from portal.accounts.forms import AcceptInvitationForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from portal.accounts.links import LinkRefused
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.security import client_address
from portal.common.urls import safe_next
from portal.extensions import db

bp = Blueprint("accounts", __name__)


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, client_address())
        except services.LoginThrottled as exc:
            db.session.commit()  # keep the audit event
            form.form_errors.append(exc.message)
            status = 429
        except services.InvalidCredentials as exc:
            db.session.commit()  # keep the failed attempt: it counts toward throttling
            form.form_errors.append(exc.message)
            status = 401
        else:
            db.session.commit()
            login_user(user)
            # A ProConnect id_token left over in this browser belongs to another session: logout must not use it.
            session.pop(proconnect.SESSION_ID_TOKEN, None)
            flash(_("Bienvenue, %(name)s.", name=user.full_name), "success")
            return redirect(safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 422
    return render_template("accounts/login.html", form=form, proconnect=proconnect.enabled()), status


@bp.route("/deconnexion", methods=["POST"])
@login_required
def logout():
    id_token = session.pop(proconnect.SESSION_ID_TOKEN, None)
    services.end_all_sessions(current_user)
    db.session.commit()
    logout_user()
    if id_token and proconnect.enabled():
        # Opened through ProConnect: its session ends too, or the next click on the button would reopen this one.
        return proconnect.end_session_page(id_token)
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/mot-de-passe/oubli", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        try:
            services.request_password_reset(form.email.data, client_address())
        except services.ResetThrottled as exc:
            db.session.commit()  # keep the audit event
            form.form_errors.append(exc.message)
            return render_template("accounts/forgot_password.html", form=form), 429
        db.session.commit()
        flash(
            _(
                "Si un compte correspond à cette adresse, un message contenant un lien vient de lui être envoyé "
                "(consultez aussi les courriels indésirables). Le lien ne sert qu'une fois."
            ),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), 422 if form.errors else 200


def _link_refused(exc: LinkRefused, title: str):
    """The French page of a link that cannot be used, offering a new one when the account is known."""
    return render_template("accounts/link_refused.html", message=exc.message, title=title, user=exc.user), 400


@bp.route("/mot-de-passe/reinitialiser/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        user = services.user_for_reset_token(token)
    except LinkRefused as exc:
        return _link_refused(exc, _("Lien de réinitialisation non valable"))
    form = ResetPasswordForm(email=user.email)
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except LinkRefused as exc:
            db.session.rollback()
            return _link_refused(exc, _("Lien de réinitialisation non valable"))
        except DomainError as exc:
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(_("Votre mot de passe a été modifié. Vous pouvez vous connecter."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), 422 if form.errors else 200


@bp.route("/invitation/<secret>", methods=["GET", "POST"])
def accept_invitation(secret: str):
    try:
        user = services.invitation_for(secret).user
    except LinkRefused as exc:
        return _link_refused(exc, _("Invitation non valable"))
    form = AcceptInvitationForm(email=user.email)
    if form.validate_on_submit():
        try:
            services.accept_invitation(secret, form.password.data, terms_accepted=form.accept_terms.data)
        except LinkRefused as exc:
            db.session.rollback()
            return _link_refused(exc, _("Invitation non valable"))
        except DomainError as exc:
            getattr(form, exc.field or "password").errors.append(exc.message)
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            flash(_("Votre compte est activé. Connectez-vous avec votre adresse et votre mot de passe."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/accept_invitation.html", form=form, user=user), 422 if form.errors else 200


@bp.route("/conditions-d-utilisation")
def terms():
    return render_template("accounts/terms.html")


@bp.route("/mon-profil")
@login_required
def profile():
    return render_template("accounts/profile.html", user=current_user)
