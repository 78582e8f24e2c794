"""Staff pages: the queue of affiliation decisions, recording a decision, voluntary affiliation."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portal.affiliation import services
from portal.affiliation.forms import DecisionForm, VoluntaryForm
from portal.affiliation.models import AffiliationDecision
from portal.affiliation.rules import status_label
from portal.common.auth import staff_required
from portal.common.clock import paris_today
from portal.common.i18n import gettext as _
from portal.common.outcomes import attempt
from portal.common.pagination import paginate
from portal.extensions import db
from portal.registry.models import Collectivite

bp = Blueprint("affiliation", __name__, url_prefix="/affiliation")
# The label of an affiliation status, on every page (``{{ body.affiliation_status | status_label }}``).
bp.add_app_template_filter(status_label, "status_label")


@bp.route("/decisions")
@staff_required
def queue():
    try:
        page_number = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page_number = 1
    statement = services.open_decisions_query().options(joinedload(AffiliationDecision.collectivite))
    page = paginate(statement, page_number, current_app.config["PORTAL_PAGE_SIZE"])
    return render_template("affiliation/queue.html", page=page, kind_labels=services.DECISION_KIND_LABELS)


@bp.route("/decisions/<int:decision_id>", methods=["GET", "POST"])
@staff_required
def decision(decision_id: int):
    found = db.get_or_404(AffiliationDecision, decision_id)
    form = DecisionForm(decided_status=found.proposed_status, effective_date=paris_today())
    status = 200
    if (
        found.state == "open"
        and form.validate_on_submit()
        and attempt(
            lambda: services.decide(
                found,
                decided_status=form.decided_status.data,
                effective_date=form.effective_date.data,
                deliberation_ref=form.deliberation_ref.data,
                note=form.note.data,
                actor=current_user,
            ),
            form,
        )
    ):
        flash(_("La décision est enregistrée et figure dans l'historique de la collectivité."), "success")
        return redirect(url_for("registry.show", collectivite_id=found.collectivite_id) + "#historique")
    if form.errors or form.form_errors:
        status = 422
    evaluation = services.compute(found.collectivite, found.year or paris_today().year)
    return render_template(
        "affiliation/decision.html",
        decision=found,
        form=form,
        evaluation=evaluation,
        kind_labels=services.DECISION_KIND_LABELS,
    ), status


@bp.route("/collectivites/<int:collectivite_id>/volontaire", methods=["GET", "POST"])
@staff_required
def voluntary(collectivite_id: int):
    body = db.get_or_404(Collectivite, collectivite_id)
    form = VoluntaryForm(effective_date=paris_today())
    status = 200
    if form.validate_on_submit():
        request_ = services.VoluntaryRequest(
            kind=form.kind.data,
            effective_date=form.effective_date.data,
            deliberation_ref=form.deliberation_ref.data,
            opposing_bodies=form.opposing_bodies.data,
            opposing_fonctionnaires=form.opposing_fonctionnaires.data,
            note=form.note.data,
        )
        recorded = attempt(lambda: services.record_voluntary_decision(body, request_, current_user), form)
        if recorded:
            if recorded.value.decided_status == recorded.value.status_before:
                flash(_("Décision enregistrée : %(note)s", note=recorded.value.decision_note), "warning")
            else:
                flash(_("La décision est enregistrée et figure dans l'historique de la collectivité."), "success")
            return redirect(url_for("registry.show", collectivite_id=body.id) + "#historique")
    if form.errors or form.form_errors:
        status = 422
    totals = services.affiliated_totals(paris_today().year)
    evaluation = services.compute(body, paris_today().year)
    return render_template(
        "affiliation/voluntary.html",
        body=body,
        form=form,
        totals=totals,
        evaluation=evaluation,
        since=services.voluntary_since(body.id),
    ), status
