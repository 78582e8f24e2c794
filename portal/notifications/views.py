"""The notification centre (every user) and the outbox jobs page (staff)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, update

from portal.common.auth import staff_required
from portal.common.clock import utcnow
from portal.common.forms import PortalForm
from portal.common.i18n import gettext as _
from portal.common.labels import N_, Labels
from portal.common.outcomes import attempt
from portal.common.pagination import paginate
from portal.extensions import db
from portal.notifications import services
from portal.notifications.categories import CATEGORIES
from portal.notifications.models import Notification, NotificationPreference, OutboxEmail, OutboxState

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def inject_unread_count():
    """The count of unread notifications in the header of every page of a logged-in user."""
    if not getattr(current_user, "is_authenticated", False):
        return {}
    return {"unread_notifications": services.header_unread_count(current_user.id)}


STATE_LABELS = Labels(
    {
        OutboxState.PENDING: N_("En attente"),
        OutboxState.RUNNING: N_("En cours"),
        OutboxState.SENT: N_("Envoyé"),
        OutboxState.FAILED: N_("En échec"),
    }
)
# What each email of the outbox is: OutboxEmail.template names its files in templates/emails/.
TEMPLATE_LABELS = Labels(
    {
        "access_existing_account": N_("Demande d'accès d'une personne déjà inscrite"),
        "access_received": N_("Accusé de réception d'une demande d'accès"),
        "access_refused": N_("Refus d'une demande d'accès"),
        "campaign": N_("Campagne du CDG"),
        "invitation": N_("Invitation au portail"),
        "notification": N_("Notification"),
        "password_reset": N_("Réinitialisation du mot de passe"),
        "staff_digest": N_("Récapitulatif quotidien des agents"),
    }
)


def _page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


class ActionForm(PortalForm):
    """A button-only form: CSRF protection for POST actions."""


@bp.route("/notifications")
@login_required
def index():
    statement = (
        select(Notification)
        .where(Notification.user_id == current_user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    page = paginate(statement, _page_arg(), current_app.config["PORTAL_PAGE_SIZE"])
    return render_template("notifications/index.html", page=page, form=ActionForm())


@bp.route("/notifications/<int:notification_id>/lue", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    found = db.session.get(Notification, notification_id)
    if found is None or found.user_id != current_user.id:
        abort(404)
    if found.read_at is None:
        found.read_at = utcnow()
        db.session.commit()
        services.forget_unread_counts()
    if found.link and request.form.get("ouvrir"):
        return redirect(found.link)
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/tout-lire", methods=["POST"])
@login_required
def mark_all_read():
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    services.forget_unread_counts()
    flash(_("Toutes les notifications sont marquées comme lues."), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    form = ActionForm()
    if form.validate_on_submit():
        for code, category in CATEGORIES.items():
            if category.mandatory:
                continue
            enabled = request.form.get(f"email_{code}") == "1"
            pref = db.session.get(NotificationPreference, (current_user.id, code))
            if pref is None:
                db.session.add(NotificationPreference(user_id=current_user.id, category=code, email_enabled=enabled))
            else:
                pref.email_enabled = enabled
        db.session.commit()
        flash(_("Vos préférences de notification sont enregistrées."), "success")
        return redirect(url_for("notifications.preferences"))
    choices = {code: services.email_enabled(current_user.id, code) for code in CATEGORIES}
    return render_template("notifications/preferences.html", form=form, categories=CATEGORIES, choices=choices)


@bp.route("/envois")
@staff_required
def jobs():
    state = request.args.get("etat", "")
    statement = select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    if state in OutboxState.ALL:
        statement = statement.where(OutboxEmail.state == state)
    counts = dict(db.session.execute(select(OutboxEmail.state, func.count()).group_by(OutboxEmail.state)).all())
    page = paginate(statement, _page_arg(), current_app.config["PORTAL_PAGE_SIZE"])
    return render_template(
        "notifications/jobs.html",
        page=page,
        state=state,
        counts=counts,
        labels=STATE_LABELS,
        template_labels=TEMPLATE_LABELS,
        form=ActionForm(),
    )


@bp.route("/envois/<int:email_id>/relancer", methods=["POST"])
@staff_required
def retry(email_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    email = db.get_or_404(OutboxEmail, email_id)
    if attempt(lambda: services.retry_failed(email, current_user)):
        flash(_("L'envoi n° %(id)s à %(to_address)s est relancé.", id=email.id, to_address=email.to_address), "success")
    return redirect(url_for("notifications.jobs", etat=request.args.get("etat", "")))
