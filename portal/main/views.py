"""The home page sends each user to the dashboard of their role."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.affiliation import services as affiliation
from portal.campaigns import services as campaigns
from portal.common.clock import paris_today
from portal.registry import services as registry
from portal.workqueue import elu as elu_todo
from portal.workqueue import secretary as secretary_todo
from portal.workqueue.rules import Kind
from portal.workqueue.views import queue_section

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
        queue = queue_section()
        by_status = registry.counts_by_status()
        return render_template(
            "main/staff_dashboard.html",
            queue_section=queue.html,
            by_status=by_status,
            total=sum(by_status.values()),
            # The cards' other figures are the queue's counts (the same rows, counted once).
            open_decisions=queue.counts[Kind.AFFILIATION_DECISION],
            failed_emails=queue.counts[Kind.FAILED_EMAIL],
            pending_access_requests=queue.counts[Kind.ACCESS_REQUEST],
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
