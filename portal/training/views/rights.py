"""An élu's training rights, and a commune's trainings and budget of the year (with its export)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.common import exports
from portal.common.clock import paris_today
from portal.common.i18n import gettext as _
from portal.common.inputs import parse_year
from portal.common.labels import translated
from portal.common.outcomes import attempt
from portal.registry.visibility import get_managed_collectivite_or_404
from portal.training import budget as training_budget
from portal.training import exports as training_exports
from portal.training import roster as training_roster
from portal.training import visibility
from portal.training.forms import (
    ActionForm,
    BudgetForm,
)
from portal.training.rights import commune_year, rights_for, save_budget
from portal.training.rules import Status
from portal.training.views.blueprints import bp, commune_bp

# Rights of an élu -------------------------------------------------------------------------------


@bp.route("/mes-formations")
@login_required
def mine():
    if current_user.mandate is None:
        abort(404)
    return redirect(url_for("training.elu", mandate_id=current_user.mandate.id))


@bp.route("/elus/<int:mandate_id>")
@login_required
def elu(mandate_id: int):
    mandate = visibility.get_mandate_acted_for_or_404(current_user, mandate_id)
    rights = rights_for(mandate)
    positions = {
        r.id: training_roster.waiting_positions(r.session).get(r.id)
        for r in rights.registrations
        if r.status == Status.WAITING
    }
    return render_template(
        "training/elu.html", mandate=mandate, rights=rights, positions=positions, action_form=ActionForm()
    )


# A commune's trainings and budget ---------------------------------------------------------------


def _year_arg() -> int:
    """``annee`` of the query string: this year when absent, 404 when it is not a year of the portal's range."""
    raw = request.args.get("annee", "").strip()
    if not raw:
        return paris_today().year
    return parse_year(raw) or abort(404)


@commune_bp.route("/collectivites/<int:collectivite_id>/formations", methods=["GET", "POST"])
@login_required
def commune(collectivite_id: int):
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    year = _year_arg()
    form = BudgetForm(year=year)
    if form.validate_on_submit() and attempt(
        lambda: save_budget(
            body,
            form.year.data,
            form.amount.data,
            form.max_indemnities.data,
            form.deliberation_ref.data,
            current_user,
        ),
        form,
    ):
        flash(_("Budget de formation enregistré."), "success")
        return redirect(url_for("training_commune.commune", collectivite_id=body.id, annee=form.year.data))
    summary = commune_year(body, year)
    if request.method == "GET" and summary.budget is not None:
        form.amount.data = summary.budget.amount
        form.max_indemnities.data = summary.budget.max_indemnities
        form.deliberation_ref.data = summary.budget.deliberation_ref
    status = 422 if form.errors else 200
    budget = training_budget.commune_budget(body.id, year)
    page = render_template("training/commune.html", body=body, summary=summary, form=form, year=year, budget=budget)
    return page, status


@commune_bp.route("/collectivites/<int:collectivite_id>/formations/<year:year>.<any(csv, xlsx):fmt>")
@login_required
def commune_export(collectivite_id: int, year: int, fmt: str):
    """The table of the year's trainings annexed to the compte administratif (CGCT L2123-12)."""
    body = get_managed_collectivite_or_404(current_user, collectivite_id)
    rows = training_exports.commune_year(body.id, year)
    return exports.response(
        fmt, f"formations-elus-{body.insee_code or body.id}-{year}", translated(training_exports.COMMUNE_HEADER), rows
    )
