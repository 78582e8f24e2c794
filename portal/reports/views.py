"""Statistics for CDG staff: charts with their data, and the yearly activity report for the board (PDF)."""

from __future__ import annotations

import base64

from flask import Blueprint, Response, abort, render_template, url_for

from portal.campaigns.models import Campaign
from portal.common import cdg
from portal.common.auth import staff_required
from portal.common.charts import Chart, render_svg
from portal.common.clock import paris_today
from portal.common.files import content_disposition
from portal.common.pdf import render_pdf
from portal.extensions import db
from portal.reports import figures

bp = Blueprint("reports", __name__, url_prefix="/statistiques")

# An SVG chart is a document of its own: pygal writes its style inside it, and it runs no script.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
# The report lists the most populated communes with no trained élu; the page of the portal lists them all (a long
# list makes a report of twenty pages that nobody reads, and takes WeasyPrint seconds to lay out).
UNTRAINED_IN_REPORT = 40
CHARTS = {
    "affiliation": lambda year: figures.affiliation_mix(),
    "effectifs": figures.headcounts,
    "abonnements": figures.subscriptions,
    "cotisations": figures.cotisations,
    "formations": figures.training,
    "communes-formees": lambda year: figures.trained_communes(),
}


def _years_offered() -> list[int]:
    this_year = paris_today().year
    return [this_year, this_year - 1]


@bp.route("/")
@bp.route("/<year:year>")
@staff_required
def index(year: int | None = None):
    year = year or paris_today().year
    charts = [CHARTS[key](year) for key in CHARTS]
    return render_template(
        "reports/index.html",
        year=year,
        years=_years_offered(),
        charts=[(chart, url_for("reports.chart", year=year, key=chart.key)) for chart in charts],
        untrained=figures.untrained_communes(),
        campaigns=[
            (figures.campaign_progress(campaign), url_for("reports.campaign_chart", campaign_id=campaign.id))
            for campaign in figures.open_campaigns()
        ],
    )


def _svg(chart: Chart) -> Response:
    response = Response(render_svg(chart), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.route("/<year:year>/graphiques/<key>.svg")
@staff_required
def chart(year: int, key: str):
    if key not in CHARTS:
        abort(404)
    return _svg(CHARTS[key](year))


@bp.route("/campagnes/<int:campaign_id>.svg")
@staff_required
def campaign_chart(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    return _svg(figures.campaign_progress(campaign))


def _data_uri(chart: Chart) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(render_svg(chart).encode()).decode("ascii")


@bp.route("/<year:year>/rapport-activite.pdf")
@staff_required
def activity_report(year: int):
    charts = [CHARTS[key](year) for key in CHARTS]
    untrained = figures.untrained_communes()
    pdf = render_pdf(
        "reports/activity_report.html",
        year=year,
        cdg_name=cdg.name(),
        today=paris_today(),
        charts=[(chart, _data_uri(chart)) for chart in charts],
        campaigns=[
            (chart, _data_uri(chart))
            for chart in (figures.campaign_progress(campaign) for campaign in figures.campaigns_of(year))
        ],
        untrained=untrained[:UNTRAINED_IN_REPORT],
        untrained_total=len(untrained),
    )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = content_disposition(f"rapport-activite-{year}.pdf", inline=True)
    return response
