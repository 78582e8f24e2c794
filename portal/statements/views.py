"""Cotisation rates, payrolls and yearly statements (HTML, PDF, and the whole year as CSV)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.catalogue.models import ContributionRate, PayrollDeclaration
from portal.common import cdg, exports
from portal.common.auth import staff_required
from portal.common.clock import paris_today
from portal.common.files import content_disposition
from portal.common.i18n import gettext as _
from portal.common.labels import N_, translated
from portal.common.outcomes import attempt
from portal.common.pdf import DocumentError, render_pdf
from portal.extensions import db
from portal.registry.kinds import label as kind_label
from portal.registry.visibility import get_managed_collectivite_or_404
from portal.statements import services
from portal.statements.forms import PayrollForm, RateForm

bp = Blueprint("statements", __name__)


@bp.route("/cotisations", methods=["GET", "POST"])
@staff_required
def rates():
    form = RateForm()
    if form.validate_on_submit() and attempt(
        lambda: services.set_rate(
            form.year.data,
            form.kind.data,
            form.rate_percent.data,
            form.deliberation_ref.data,
            current_user,
            deliberation_date=form.deliberation_date.data,
        ),
        form,
    ):
        flash(_("Le taux %(year)s est enregistré.", year=form.year.data), "success")
        return redirect(url_for("statements.rates"))
    all_rates = db.session.scalars(
        select(ContributionRate).order_by(ContributionRate.year.desc(), ContributionRate.kind)
    ).all()
    status = 422 if form.errors or form.form_errors else 200
    return render_template("statements/rates.html", form=form, rates=all_rates, year=paris_today().year), status


def _body_for_statement(collectivite_id: int):
    return get_managed_collectivite_or_404(current_user, collectivite_id)


@bp.route("/collectivites/<int:collectivite_id>/releve/<year:year>", methods=["GET", "POST"])
@login_required
def show(collectivite_id: int, year: int):
    body = _body_for_statement(collectivite_id)
    form = PayrollForm(year=year) if current_user.is_staff else None
    status = 200
    if form is not None and form.validate_on_submit():
        if not attempt(lambda: services.set_payroll(body, form.year.data, form.amount.data, current_user), form):
            status = 422
        else:
            flash(
                _("La masse salariale %(year)s de %(name)s est enregistrée.", year=form.year.data, name=body.name),
                "success",
            )
            return redirect(url_for("statements.show", collectivite_id=body.id, year=form.year.data))
    elif form is not None and request.method == "POST":
        status = 422
    payrolls = db.session.scalars(
        select(PayrollDeclaration)
        .where(PayrollDeclaration.collectivite_id == body.id)
        .order_by(PayrollDeclaration.year.desc())
    ).all()
    statement = services.statement_of(body, year)
    return render_template(
        "statements/show.html", body=body, year=year, statement=statement, form=form, payrolls=payrolls
    ), status


@bp.route("/collectivites/<int:collectivite_id>/releve/<year:year>.pdf")
@login_required
def pdf(collectivite_id: int, year: int):
    body = _body_for_statement(collectivite_id)
    statement = services.statement_of(body, year)
    try:
        data = render_pdf(
            "statements/pdf/statement.html",
            body=body,
            year=year,
            statement=statement,
            today=paris_today(),
            cdg_name=cdg.name(),
        )
    except DocumentError as exc:
        return render_template("errors/error.html", code=500, title=_("Document indisponible"), message=str(exc)), 500
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": content_disposition(f"releve-{year}-{body.code or body.id}.pdf")},
    )


CSV_HEADER = (
    N_("Code"),
    N_("Collectivité"),
    N_("Type"),
    N_("Cotisation obligatoire (€)"),
    N_("Socle commun (€)"),
    N_("Services (€)"),
    N_("Total (€)"),
    N_("Échéance de l'acompte"),
    N_("Acompte (€)"),
    N_("Échéance du solde"),
    N_("Solde (€)"),
    N_("Alertes"),
)


def _csv_rows(year: int):
    for item in services.statements_for(year):
        statement = item.statement
        instalments = statement.instalments + [None, None]
        first, second = (instalments[0], instalments[1]) if len(statement.instalments) == 2 else (None, instalments[0])
        yield (
            item.code,
            item.name,
            kind_label(item.kind),
            statement.total_of("cotisation"),
            statement.total_of("socle"),
            statement.total_of("service"),
            statement.total,
            first.due if first else None,
            first.amount if first else None,
            second.due if second else None,
            second.amount if second else None,
            " | ".join(statement.warnings),
        )


@bp.route("/cotisations/<year:year>/releves.csv")
@staff_required
def year_csv(year: int):
    """Every statement of the year for the CDG's staff, as a spreadsheet opens it: French headers, the type's
    name, dates as 31/05/2027 and amounts with a decimal comma; written by the shared exporter like every CSV
    file (streamed, formula-like text neutralised)."""
    return exports.response("csv", f"releves-{year}", translated(CSV_HEADER), _csv_rows(year))
