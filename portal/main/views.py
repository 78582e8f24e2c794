"""The home page sends each user to the dashboard of their role."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from portal.access import services as access
from portal.affiliation import services as affiliation
from portal.affiliation.models import AffiliationDecision
from portal.campaigns import services as campaigns
from portal.common import page_cache
from portal.common.clock import paris_today
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.registry.models import Collectivite
from portal.workqueue import elu as elu_todo
from portal.workqueue import secretary as secretary_todo
from portal.workqueue.views import queue_section

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    return redirect(url_for("accounts.login"))


def _staff_figures() -> dict:
    """The figures of the staff home's cards: bodies by affiliation status, decisions, access requests, failed
    emails."""
    by_status = dict(
        db.session.execute(
            select(Collectivite.affiliation_status, func.count()).group_by(Collectivite.affiliation_status)
        ).all()
    )
    return {
        "by_status": by_status,
        "total": sum(by_status.values()),
        "open_decisions": db.session.scalar(
            select(func.count()).select_from(AffiliationDecision).where(AffiliationDecision.state == "open")
        ),
        "failed_emails": db.session.scalar(
            select(func.count()).select_from(OutboxEmail).where(OutboxEmail.state == OutboxState.FAILED)
        ),
        "pending_access_requests": access.pending_count(),
    }


@bp.route("/tableau-de-bord")
@login_required
def dashboard():
    if current_user.is_staff:
        # The same for every agent: kept as long as the queue (page_cache.cached_for).
        figures = page_cache.cached_for(
            "staff-figures",
            "",
            _staff_figures,
            seconds=current_app.config["WORK_QUEUE_CACHE_SECONDS"],
            per_address=False,
        )
        return render_template("main/staff_dashboard.html", queue_section=queue_section(), **figures)
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
