"""The audit log, for staff."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.audit.models import AuditEvent
from portal.common.auth import staff_required
from portal.common.pagination import paginate

bp = Blueprint("audit", __name__)

ACTION_GROUPS = {
    "connexions": ("login.success", "login.failure", "login.throttled"),
}


@bp.route("/journal")
@staff_required
def index():
    statement = (
        select(AuditEvent)
        .options(joinedload(AuditEvent.actor))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )
    group = request.args.get("categorie", "")
    if group == "connexions":
        statement = statement.where(AuditEvent.action.in_(ACTION_GROUPS["connexions"]))
    elif group == "modifications":
        statement = statement.where(AuditEvent.action.not_in(ACTION_GROUPS["connexions"]))
    try:
        page_number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_number = 1
    page = paginate(statement, page_number, current_app.config["PORTAL_PAGE_SIZE"])
    return render_template("audit/index.html", page=page, group=group)
