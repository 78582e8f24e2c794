"""Subscription pages: a collectivité's catalogue, the request form, a subscription's page, the staff queue."""

from __future__ import annotations

import io

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.catalogue.models import Service
from portal.common import exports
from portal.common.clock import paris_today
from portal.common.confirm import confirmation_page, confirmed
from portal.common.errors import DomainError
from portal.common.files import content_disposition
from portal.common.formatting import date_fr
from portal.common.forms import show_domain_error
from portal.common.i18n import gettext as _
from portal.common.labels import translated
from portal.common.outcomes import attempt
from portal.common.pagination import paginate
from portal.extensions import db
from portal.registry.visibility import get_managed_collectivite_or_404
from portal.subscriptions import exports as subscription_exports
from portal.subscriptions import rules, services
from portal.subscriptions.forms import ActionForm, request_form_class
from portal.subscriptions.models import Document, Subscription

bp = Blueprint("subscriptions", __name__)


def _subscription_or_404(subscription_id: int) -> Subscription:
    """Staff see every subscription; a secretary only those of her collectivités; others nothing (404)."""
    return services.get_visible(current_user, subscription_id) or abort(404)


@bp.route("/collectivites/<int:collectivite_id>/services")
@login_required
def catalogue(collectivite_id: int):
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    year = paris_today().year
    entries = services.catalogue_for(body, year)
    return render_template("subscriptions/catalogue.html", body=body, entries=entries, year=year)


@bp.route("/collectivites/<int:collectivite_id>/services/<code>/demande", methods=["GET", "POST"])
@login_required
def request_service(collectivite_id: int, code: str):
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    service = db.first_or_404(select(Service).where(Service.code == code))
    form = request_form_class(service)()
    if hasattr(form, "schools") and request.method == "POST" and _change_school_rows(form):
        return render_template("subscriptions/request.html", body=body, service=service, form=form)
    if form.validate_on_submit():
        schools = []
        if hasattr(form, "schools"):
            rows = [entry.form for entry in form.schools]
            schools = [
                services.SchoolInput(
                    uai=row.uai.data or "",
                    name=row.school_name.data or "",
                    classes=row.classes.data or 0,
                    pupils=row.pupils.data or 0,
                    director=row.director.data,
                )
                for row in rows
                if not row.is_blank()
            ]
        data = services.RequestInput(
            start_date=form.start_date.data,
            message=form.message.data,
            quantities={
                name: getattr(form, name).data
                for name in service.request_fields
                if hasattr(form, name) and name in services.QUANTITY_LABELS
            },
            schools=schools,
        )
        subscription = attempt(lambda: services.request_subscription(body, service, data, current_user), form)
        if subscription:
            flash(_("Votre demande est envoyée au centre de gestion. Vous serez prévenu de chaque étape."), "success")
            return redirect(url_for("subscriptions.show", subscription_id=subscription.value.id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("subscriptions/request.html", body=body, service=service, form=form), status


def _change_school_rows(form) -> bool:
    """« Ajouter une école » or a row's « Retirer » button: the same page again with one row more or less, what was
    typed kept and nothing checked yet. False for the form's own submit button."""
    rows = form.schools
    if form.add_school.data:
        if len(rows.entries) < rows.max_entries:
            rows.append_entry()
        else:
            form.form_errors.append(_("Une demande couvre %(num)d écoles au plus.", num=rows.max_entries))
        return True
    removed = rows.removed_row()
    if removed is None:
        return False
    del rows.entries[removed]
    if not rows.entries:
        rows.append_entry()
    return True


def _state_filter() -> str:
    return request.args.get("etat", services.TO_PROCESS if current_user.is_staff else "")


@bp.route("/abonnements")
@login_required
def index():
    if not (current_user.is_staff or current_user.is_secretary):
        abort(403)
    state = _state_filter()
    try:
        page_number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_number = 1
    page = paginate(
        services.visible_statement(current_user, state), page_number, current_app.config["PORTAL_PAGE_SIZE"]
    )
    return render_template("subscriptions/index.html", page=page, state=state, labels=rules.STATE_LABELS)


@bp.route("/abonnements/export.<any(csv, xlsx):fmt>")
@login_required
def export(fmt: str):
    """The list with its state filter, every page, streamed as CSV or XLSX."""
    if not (current_user.is_staff or current_user.is_secretary):
        abort(403)
    rows = subscription_exports.rows(current_user, _state_filter())
    return exports.response(fmt, "abonnements", translated(subscription_exports.HEADER), rows)


@bp.route("/abonnements/<int:subscription_id>")
@login_required
def show(subscription_id: int):
    subscription = _subscription_or_404(subscription_id)
    return _render_show(subscription, ActionForm())


def _render_show(subscription, form, status=200):
    actions = rules.allowed_actions(subscription.state, staff=current_user.is_staff)
    can_request_end = (
        not current_user.is_staff
        and subscription.end_requested_on is None
        and subscription.state in (rules.State.VALIDATED, rules.State.ACTIVE, rules.State.SUSPENDED)
    )
    return render_template(
        "subscriptions/show.html",
        subscription=subscription,
        form=form,
        actions=actions,
        action_labels=rules.ACTION_LABELS,
        can_request_end=can_request_end,
    ), status


@bp.route("/abonnements/<int:subscription_id>/action", methods=["POST"])
@login_required
def act(subscription_id: int):
    subscription = _subscription_or_404(subscription_id)
    form = ActionForm()
    action = request.form.get("action", "")
    if action in rules.CONFIRMED_ACTIONS and not confirmed():
        return _confirm(subscription, form, action)
    if not form.validate_on_submit():
        return _render_show(subscription, form, 422)
    try:
        if action == rules.REQUEST_END:
            end = services.request_end(subscription, current_user)
            message = _("La résiliation est demandée ; fin prévue le %(date)s.", date=date_fr(end))
        elif action == "retry_documents" and current_user.is_staff:
            services.retry_documents(subscription, current_user)
            message = _("La génération des documents est relancée.")
        else:
            date_value = form.effective_date.data
            services.transition(
                subscription,
                action,
                current_user,
                form.comment.data,
                start_date=date_value if action == rules.Action.VALIDATE else None,
                end_date=date_value if action == rules.Action.END else None,
            )
            message = _("Action enregistrée : %(action)s.", action=rules.ACTION_LABELS.get(action, action))
    except (DomainError, rules.IllegalTransition) as exc:
        db.session.rollback()
        if action in rules.CONFIRMED_ACTIONS:
            show_domain_error(form, exc)
            return _confirm(subscription, form, action, 422)
        form.form_errors.append(getattr(exc, "message", str(exc)))
        return _render_show(subscription, form, 422)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("subscriptions.show", subscription_id=subscription.id))


def _confirm(subscription, form, action: str, status: int = 200):
    """The confirmation page of a refusal, a termination, a withdrawal or a request to end."""
    names = {"service": subscription.service.name, "body": subscription.collectivite.name}
    texts = {
        rules.Action.REFUSE: (
            _("Refuser la demande « %(service)s » de %(body)s ?", **names),
            _("La collectivité est prévenue du refus et de son motif ; la demande ne pourra plus être validée."),
            _("Confirmer le refus"),
        ),
        rules.Action.END: (
            _("Résilier l'abonnement « %(service)s » de %(body)s ?", **names),
            _(
                "L'abonnement prend fin à la date indiquée (aujourd'hui si elle est vide) ; la collectivité est "
                "prévenue de la résiliation et de son motif."
            ),
            _("Confirmer la résiliation"),
        ),
        rules.Action.WITHDRAW: (
            _("Retirer la demande « %(service)s » ?", **names),
            _("La demande est close ; pour obtenir ce service plus tard, il faudra en faire une nouvelle."),
            _("Confirmer le retrait"),
        ),
        rules.REQUEST_END: (
            _("Demander la résiliation de « %(service)s » ?", **names),
            _(
                "Le centre de gestion est prévenu ; l'abonnement prend fin au terme du préavis de %(notice)s mois.",
                notice=subscription.service.notice_months,
            ),
            _("Confirmer la demande de résiliation"),
        ),
    }
    title, warning, button = texts[action]
    if action in rules.REASON_REQUIRED:
        form.comment.flags.required = True
    return confirmation_page(
        form,
        title=title,
        warning=warning,
        action_url=url_for("subscriptions.act", subscription_id=subscription.id),
        back_url=url_for("subscriptions.show", subscription_id=subscription.id),
        button=button,
        fields={rules.Action.END: ["comment", "effective_date"], rules.REQUEST_END: []}.get(action, ["comment"]),
        hidden={"action": action},
        status=status,
    )


@bp.route("/abonnements/<int:subscription_id>/documents/<int:document_id>")
@login_required
def document(subscription_id: int, document_id: int):
    subscription = _subscription_or_404(subscription_id)
    found = db.session.get(Document, document_id)
    if found is None or found.subscription_id != subscription.id:
        abort(404)
    response = send_file(io.BytesIO(found.data), mimetype=found.content_type)
    response.headers["Content-Disposition"] = content_disposition(found.filename)
    return response
