"""Staff pages to manage people's accounts: list, create (invited), collectivités, deactivate, reactivate, invite again.

Every change goes through ``accounts.services`` (audited there); these views validate, call, commit and redirect.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.accounts import services
from portal.accounts.forms import (
    AccountActionForm,
    AccountCollectivitesForm,
    AccountFilterForm,
    CreateAccountForm,
    DeactivateAccountForm,
)
from portal.accounts.models import AccountStatus, Role, User
from portal.audit import services as audit
from portal.audit.labels import action_label
from portal.audit.models import AuditEvent
from portal.common.auth import staff_required
from portal.common.confirm import confirmation_page, confirmed
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.outcomes import attempt
from portal.common.pagination import paginate
from portal.extensions import db

bp = Blueprint("users", __name__, url_prefix="/comptes")

PER_PAGE = 50


def _account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.is_service_account:  # integrations' accounts are managed with their tokens
        abort(404)
    return user


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


@bp.get("/")
@staff_required
def index():
    form = AccountFilterForm(request.args)
    form.validate()
    filters = services.AccountFilters(
        text=(form.q.data or "") if not form.q.errors else "",
        role=form.role.data or "",
        status=form.status.data or "",
    )
    page = paginate(services.accounts_statement(filters), _page_number(), PER_PAGE)
    return render_template("accounts/admin/index.html", form=form, page=page)


@bp.route("/nouveau", methods=["GET", "POST"])
@staff_required
def create():
    form = CreateAccountForm()
    if form.validate_on_submit():

        def create_account():
            collectivites = (
                services.collectivites_for_codes(form.collectivites.data) if form.role.data == Role.SECRETARY else []
            )
            return services.create_user(
                email=form.email.data,
                role=form.role.data,
                full_name=form.full_name.data,
                collectivites=collectivites,
                actor=current_user,
            )

        outcome = attempt(create_account, form)
        if outcome:
            flash(_invitation_sent(outcome.value), "success")
            return redirect(url_for("users.show", user_id=outcome.value.id))
    status = 422 if form.is_submitted() and (form.errors or form.form_errors) else 200
    return render_template("accounts/admin/create.html", form=form), status


def _invitation_sent(user: User) -> str:
    days = current_app.config["INVITATION_MAX_AGE_DAYS"]
    return ngettext(
        "Invitation envoyée à %(email)s : le lien est valable %(num)s jour.",
        "Invitation envoyée à %(email)s : le lien est valable %(num)s jours.",
        days,
        email=user.email,
    )


def _show(user: User, collectivites_form: AccountCollectivitesForm | None = None, status: int = 200):
    if collectivites_form is None:
        collectivites_form = AccountCollectivitesForm(
            formdata=None, collectivites=", ".join(c.code for c in user.collectivites)
        )
    history = audit.history_of("User", user.id)
    return render_template(
        "accounts/admin/show.html",
        user=user,
        collectivites_form=collectivites_form,
        action_form=AccountActionForm(),
        history=history,
        action_label=action_label,
        deactivation_refusal=services.deactivation_refusal(user, current_user) if user.active else None,
        deactivation_reason=None if user.active else _deactivation_reason(user),
        statuses=AccountStatus,
    ), status


def _deactivation_reason(user: User) -> str | None:
    """The reason given when the account was last switched off (kept in the audit log)."""
    event = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.object_type == "User", AuditEvent.object_id == user.id)
        .where(AuditEvent.action == "user.deactivate")
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    return (event.details or {}).get("reason") if event else None


@bp.get("/<int:user_id>")
@staff_required
def show(user_id: int):
    return _show(_account(user_id))


@bp.post("/<int:user_id>/collectivites")
@staff_required
def update_collectivites(user_id: int):
    user = _account(user_id)
    form = AccountCollectivitesForm()
    if not form.validate_on_submit():
        return _show(user, form, 422)
    outcome = attempt(
        lambda: services.set_collectivites(
            user, services.collectivites_for_codes(form.collectivites.data), actor=current_user
        ),
        form,
    )
    if not outcome:
        return _show(user, form, 422)
    added, removed = outcome.value
    if not added and not removed:
        flash(_("Aucun changement : le compte était déjà rattaché à ces collectivités."), "info")
    elif not user.collectivites:
        flash(
            _("Ce compte n'est plus rattaché à aucune collectivité : il ne voit plus rien sur le portail."), "warning"
        )
    else:
        flash(_("Collectivités du compte enregistrées."), "success")
    return redirect(url_for("users.show", user_id=user.id))


def _act(user_id: int, change):
    """A button on the account's page: ``change(user)`` applied (it returns the message to show)
    and committed, or its French refusal shown."""
    user = _account(user_id)  # the CSRF token was checked before the view (CSRFProtect)
    outcome = attempt(lambda: change(user))
    if not outcome:
        return _show(user, status=409)
    flash(outcome.value, "success")
    # An agent who switched himself off is logged out by then: the page sends him to the login page.
    return redirect(url_for("users.show", user_id=user.id))


@bp.post("/<int:user_id>/desactivation")
@staff_required
def deactivate(user_id: int):
    """The account page's button leads to a confirmation page, which asks for the reason."""
    user = _account(user_id)
    form = DeactivateAccountForm()
    if confirmed() and form.validate_on_submit():

        def change(user: User) -> str:
            revoked = services.deactivate_user(user, actor=current_user, reason=form.reason.data)
            return _("Compte désactivé : toutes ses sessions sont fermées.") + " " + _revoked(revoked)

        return _act(user_id, change)
    return confirmation_page(
        form,
        title=_("Désactiver le compte de %(name)s ?", name=user.full_name),
        warning=_(
            "La désactivation ferme aussitôt toutes ses sessions et révoque tous ses jetons d'API. "
            "Elle peut être annulée par une réactivation."
        ),
        action_url=url_for("users.deactivate", user_id=user.id),
        back_url=url_for("users.show", user_id=user.id),
        button=_("Confirmer la désactivation"),
        status=422 if confirmed() else 200,
    )


@bp.post("/<int:user_id>/reactivation")
@staff_required
def reactivate(user_id: int):
    def change(user: User) -> str:
        services.reactivate_user(user, actor=current_user)
        return _("Compte réactivé : son titulaire se connecte avec son mot de passe habituel.")

    return _act(user_id, change)


@bp.post("/<int:user_id>/invitation")
@staff_required
def invite_again(user_id: int):
    def change(user: User) -> str:
        services.send_invitation(user, actor=current_user)
        return _invitation_sent(user)

    return _act(user_id, change)


def _revoked(count: int) -> str:
    if count == 0:
        return _("Il n'avait aucun jeton d'API en vigueur.")
    return ngettext("%(num)s jeton d'API révoqué.", "%(num)s jetons d'API révoqués.", count)
