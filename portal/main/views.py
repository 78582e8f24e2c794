"""The home page sends each user to the dashboard of their role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.access import services as access
from portal.affiliation import services as affiliation
from portal.affiliation.models import AffiliationDecision
from portal.campaigns import services as campaigns
from portal.common.clock import paris_today
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.registry.models import Collectivite
from portal.workqueue import elu as elu_todo
from portal.workqueue import secretary as secretary_todo
from portal.workqueue.views import queue_context

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("accounts.login"))


@bp.route("/tableau-de-bord")
@login_required
def dashboard():
    if current_user.is_staff:
        by_status = dict(
            db.session.execute(
                select(Collectivite.affiliation_status, func.count()).group_by(Collectivite.affiliation_status)
            ).all()
        )
        open_decisions = db.session.scalar(
            select(func.count()).select_from(AffiliationDecision).where(AffiliationDecision.state == "open")
        )
        failed_emails = db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.state == OutboxState.FAILED)
        )
        return render_template(
            "main/staff_dashboard.html",
            by_status=by_status,
            open_decisions=open_decisions,
            failed_emails=failed_emails,
            pending_access_requests=access.pending_count(),
            **queue_context(),
            total=sum(by_status.values()),
        )
    if current_user.is_secretary:
        year = paris_today().year
        rows = []
        for body in current_user.collectivites:
            evaluation = affiliation.compute(body, year)
            declared_this_year = affiliation.declaration_in_force(body.id, year)
            rows.append((body, evaluation, declared_this_year is not None and declared_this_year.year == year))
        return render_template(
            "main/secretary_dashboard.html",
            rows=rows,
            year=year,
            campaign_tasks=campaigns.tasks_for(current_user),
            todo=secretary_todo.todo_for([body.id for body in current_user.collectivites]),
            todo_labels=secretary_todo.LABELS,
        )
    if current_user.is_elu:
        return render_template("main/elu_dashboard.html", todo=elu_todo.todo_for(current_user))
    return redirect(url_for("accounts.profile"))
