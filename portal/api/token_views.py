"""Token pages: a user creates, lists and revokes his own API tokens; staff create service accounts, give them
tokens and revoke any token. The secret is shown once, in the answer to the creation."""

from __future__ import annotations

from datetime import datetime, time

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.accounts.services import find_collectivite_by_code
from portal.api import tokens
from portal.api.forms import ServiceAccountForm, ServiceTokenForm, TokenForm
from portal.api.models import ApiToken
from portal.common.auth import staff_required
from portal.common.clock import paris_instant, utcnow
from portal.common.errors import DomainError
from portal.common.forms import PortalForm, options, show_domain_error
from portal.common.i18n import gettext as _
from portal.common.outcomes import attempt
from portal.extensions import db

bp = Blueprint("api_tokens", __name__)


def _end_of_day(day) -> datetime:
    """A token chosen to expire on a day works until the end of that day, Paris time."""
    return paris_instant(day, time(23, 59, 59))


def _create(form: TokenForm, user) -> tokens.Created | None:
    try:
        created = tokens.create_token(
            user, form.name.data, form.scope.data, _end_of_day(form.expires_on.data), current_user
        )
    except DomainError as exc:
        db.session.rollback()
        show_domain_error(form, exc)
        return None
    db.session.commit()
    return created


@bp.route("/compte/jetons", methods=["GET", "POST"])
@login_required
def index():
    form = TokenForm()
    created = None
    if form.validate_on_submit():
        created = _create(form, current_user)
        if created is not None:
            form = TokenForm(formdata=None)
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "api/tokens.html", form=form, created=created, tokens=tokens.tokens_of(current_user), now=utcnow()
    ), status


@bp.route("/compte/jetons/<int:token_id>/revocation", methods=["POST"])
@login_required
def revoke(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or not tokens.can_revoke(current_user, token):
        abort(404)
    if not PortalForm().validate_on_submit():  # the CSRF token
        abort(400)
    if attempt(lambda: tokens.revoke_token(token, current_user)):
        flash(_("Le jeton « %(name)s » est révoqué : il ne permet plus aucun appel.", name=token.name), "success")
    if current_user.is_staff and token.user_id != current_user.id:
        return redirect(url_for("api_tokens.admin"))
    return redirect(url_for("api_tokens.index"))


def _service_token_form(reset: bool = False) -> ServiceTokenForm:
    form = ServiceTokenForm(formdata=None) if reset else ServiceTokenForm()
    form.user_id.choices = options([(u.id, f"{u.full_name} ({u.email})") for u in tokens.service_accounts()])
    return form


@bp.route("/admin/jetons", methods=["GET", "POST"])
@staff_required
def admin():
    account_form = ServiceAccountForm(prefix="compte")
    token_form = _service_token_form()
    created = None
    if account_form.submit_account.data and account_form.validate_on_submit():
        codes = [c.strip() for c in (account_form.collectivites.data or "").split(",") if c.strip()]
        bodies = [find_collectivite_by_code(code) for code in codes]
        unknown = [code for code, body in zip(codes, bodies, strict=True) if body is None]
        if unknown:
            account_form.collectivites.errors = [_("Codes inconnus : %(codes)s.", codes=", ".join(unknown))]
        else:
            user = attempt(
                lambda: tokens.create_service_account(
                    email=account_form.email.data,
                    full_name=account_form.full_name.data,
                    role=account_form.role.data,
                    collectivites=bodies,
                    actor=current_user,
                ),
                account_form,
            )
            if user:
                flash(
                    _("Le compte de service %(email)s est créé : créez-lui un jeton.", email=user.value.email),
                    "success",
                )
                return redirect(url_for("api_tokens.admin"))
    elif token_form.submit.data and token_form.validate_on_submit():
        user = next((u for u in tokens.service_accounts() if u.id == token_form.user_id.data), None)
        if user is None:
            abort(404)
        created = _create(token_form, user)
        if created is not None:
            token_form = _service_token_form(reset=True)
    failed = account_form.errors or account_form.form_errors or token_form.errors or token_form.form_errors
    return render_template(
        "api/admin_tokens.html",
        account_form=account_form,
        token_form=token_form,
        created=created,
        tokens=tokens.all_tokens(),
        now=utcnow(),
    ), (422 if failed else 200)
