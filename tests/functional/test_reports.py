"""Statistics for the CDG's board: figures computed from the data, charts drawn as SVG with their data tables,
and the yearly activity report (PDF)."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from portal.common.charts import Chart, Series, render_svg
from portal.common.clock import paris_today, utcnow
from portal.extensions import db
from portal.registry.models import Collectivite
from portal.reports import figures
from portal.training import attendance, registrations
from tests import factories

D = timedelta(days=1)
H = timedelta(hours=1)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True)).replace("\u202f", " ").replace("\xa0", " ")


# The chart layer ---------------------------------------------------------------------------------------------


def test_a_chart_is_a_standalone_svg_with_no_script_no_outside_resource_and_french_numbers():
    chart = Chart(
        key="essai",
        title="Montants appelés par année",
        summary="En 2026, 12 345,5 € appelés.",
        categories=("2025", "2026"),
        series=(Series("Cotisation obligatoire", (Decimal("1500"), Decimal("12345.5"))),),
        money=True,
    )
    svg = render_svg(chart)
    assert svg.startswith("<svg") and "<script" not in svg
    # Only namespaces and the library's credits in comments: nothing is fetched (pygal's tooltips come from a CDN).
    without_comments = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    assert set(re.findall(r"https?://[^\"'\s<>]+", without_comments)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }
    assert "<title>Montants appelés par année</title>" in svg and "Pygal" not in without_comments
    assert "12\u202f345,50\u202f€" in svg and "12345.5" not in re.sub(r'="[^"]*"', "", without_comments)
    assert chart.rows() == [("2025", ["1\u202f500\u202f€"]), ("2026", ["12\u202f345,50\u202f€"])]


def test_a_chart_with_no_data_says_so_in_french():
    chart = Chart("vide", "Rien", "Rien à montrer.", (), ())
    assert chart.is_empty and "Aucune donnée pour l'instant" in render_svg(chart)


# The figures --------------------------------------------------------------------------------------------------


@pytest.fixture
def bodies(app):
    year = paris_today().year
    big = factories.collectivite("Grande Ville")
    small = factories.collectivite("Petit Bourg")
    ccas = factories.collectivite("CCAS de Petit Bourg", "ccas", parent=small)
    outside = factories.collectivite("Hors département")
    outside.departement_code = "33"
    factories.declare(big, year, 400)
    factories.declare(small, year - 1, 3, 1, 1)
    factories.declare(small, year, 2, 1, 0)
    factories.declare(small, year, 4, 2, 1)  # a correction: the latest declaration of the year counts
    db.session.commit()
    return {"big": big, "small": small, "ccas": ccas, "outside": outside, "year": year}


def test_affiliation_mix_counts_the_cdg_bodies_by_kind_and_status(bodies):
    chart = figures.affiliation_mix()
    assert chart.categories == ("Commune", "Centre communal d'action sociale (CCAS)")
    by_series = {series.name: series.values for series in chart.series}
    # Grande Ville (400) is above 350: voluntary at most; Petit Bourg and its CCAS (counted with it) compulsory.
    statuses = dict(db.session.execute(db.select(Collectivite.name, Collectivite.affiliation_status)).all())
    assert statuses["Petit Bourg"] == "obligatoire" and statuses["CCAS de Petit Bourg"] == "obligatoire"
    assert by_series["Affiliation obligatoire"] == (1, 1)
    assert sum(by_series["Non affiliée"]) + sum(by_series["Affiliation volontaire"]) == 1  # Grande Ville
    assert "Hors département" not in chart.summary and "Sur 3 collectivités et établissements" in chart.summary


def test_headcounts_take_the_latest_declaration_of_each_body_for_each_year(bodies):
    year = bodies["year"]
    chart = figures.headcounts(year)
    assert chart.categories == (str(year - 1), str(year))
    values = {series.name: series.values for series in chart.series}
    assert values["Titulaires à temps complet"] == (3, 404)
    assert values["Titulaires à temps non complet"] == (1, 2)
    assert values["Contractuels"] == (1, 1)
    assert chart.summary.startswith(f"En {year}, 2 collectivités ont déclaré 404 fonctionnaires titulaires")


def test_training_figures_and_the_communes_with_no_trained_elu(app):
    staff = factories.user("staff")
    trained, untrained = (
        factories.collectivite("Formée", population=800),
        factories.collectivite("Pas formée", population=5000),
    )
    quiet = factories.collectivite("Silencieuse", population=200)
    start = utcnow() - 10 * D
    session = factories.training_session(starts_at=start, capacity=12, actor=staff, now=start - 20 * D)
    present, absent = factories.elu(trained, "Jeanne Présente"), factories.elu(trained, "Paul Absent")
    factories.elu(untrained, "Marie Inscrite")
    registered = [registrations.register(session, elu.mandate, elu, now=start - 10 * D) for elu in (present, absent)]
    attendance.mark_attendance(session, {registered[0].id}, staff, now=start + 8 * H)
    db.session.commit()

    year = paris_today().year if start.year == utcnow().year else start.year
    by_year = figures.training_years(year)
    assert by_year[start.year].sessions == 1 and by_year[start.year].seats == 12
    assert by_year[start.year].taken == 2 and by_year[start.year].present == 1
    assert by_year[start.year].attendance_percent == 50

    assert figures.trained_elus_by_commune() == {trained.id: 1, untrained.id: 0, quiet.id: 0}
    bands = dict(zip(figures.trained_communes().categories, figures.trained_communes().series[0].values, strict=True))
    assert bands["Aucun élu formé"] == 2 and bands["1 élu"] == 1
    # The most populated first, with the number of élus the portal knows.
    assert [(c.name, c.elus) for c in figures.untrained_communes()] == [("Pas formée", 1), ("Silencieuse", 0)]
    # Summaries in French, counts agreeing (ngettext).
    assert figures.trained_communes().summary == (
        "2 communes n’ont encore aucun élu présent à une formation, sur 3 communes."
    )
    assert figures.training(year).summary == (
        f"En {start.year}, 1 session, 2 places occupées sur 12, taux de présence 50\u202f%."
    )


def test_with_no_commune_the_statistics_link_to_no_empty_list(auth, client):
    factories.user("staff", email="stats@cdg.fr")
    db.session.commit()
    auth.login("stats@cdg.fr")
    body = text(client.get("/statistiques/"))
    assert "0 commune n’a encore aucun élu présent à une formation, sur 0 commune." in body
    assert "sans élu formé</a>" not in body


def test_subscriptions_count_those_running_during_each_year(app):
    from portal.catalogue.models import Service
    from portal.subscriptions.models import Subscription

    year = paris_today().year
    body = factories.collectivite("Abonnée")
    paie = Service(
        code="paie-essai",
        name="Paie",
        description="Paie à façon",
        group="facultative",
        eligibility="any",
        tariff_model="flat",
    )
    rgpd = Service(
        code="rgpd-essai",
        name="DPO mutualisé",
        description="RGPD",
        group="facultative",
        eligibility="any",
        tariff_model="flat",
    )
    db.session.add_all([paie, rgpd])
    db.session.flush()
    db.session.add_all(
        [
            Subscription(collectivite_id=body.id, service_id=paie.id, state="active", start_date=date(year - 2, 3, 1)),
            Subscription(
                collectivite_id=body.id,
                service_id=rgpd.id,
                state="resiliee",
                start_date=date(year - 2, 1, 1),
                end_date=date(year - 1, 6, 30),
            ),
            Subscription(collectivite_id=body.id, service_id=rgpd.id, state="demandee"),  # not running
        ]
    )
    db.session.commit()
    chart = figures.subscriptions(year)
    assert [series.name for series in chart.series] == [str(year - 2), str(year - 1), str(year)]
    counts = {name: [s.values[i] for s in chart.series] for i, name in enumerate(chart.categories)}
    assert counts == {"Paie": [1, 1, 1], "DPO mutualisé": [1, 1, 0]}
    assert chart.summary == f"En {year}, 1 abonnement en cours sur 2 services ; le plus demandé : Paie."


# The pages ----------------------------------------------------------------------------------------------------


def test_staff_read_the_statistics_with_charts_and_their_data(bodies, auth, client):
    factories.user("staff", email="stats@cdg.fr")
    db.session.commit()
    auth.login("stats@cdg.fr")
    year = bodies["year"]
    page = client.get("/statistiques/")
    assert page.status_code == 200
    body = text(page)
    for title in ("Affiliation des collectivités", "Effectifs déclarés au 1er janvier", "Montants appelés par année"):
        assert title in body
    assert f'src="/statistiques/{year}/graphiques/affiliation.svg"' in body
    assert "Voir les données du graphique" in body and '<td class="num">404</td>' in body
    assert "rapport-activite.pdf" in body

    svg = client.get(f"/statistiques/{year}/graphiques/effectifs.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<script" not in svg.get_data(as_text=True)
    assert client.get(f"/statistiques/{year}/graphiques/inconnu.svg").status_code == 404


def test_only_staff_read_the_statistics(bodies, auth, client):
    factories.user("secretary", email="secretaire@mairie.fr", collectivites=[bodies["small"]])
    db.session.commit()
    auth.login("secretaire@mairie.fr")
    year = bodies["year"]
    for url in (
        "/statistiques/",
        f"/statistiques/{year}/graphiques/affiliation.svg",
        f"/statistiques/{year}/rapport-activite.pdf",
    ):
        assert client.get(url).status_code == 403, url


def test_the_activity_report_is_a_pdf_a_board_can_read(bodies, auth, client):
    factories.user("staff", email="rapport@cdg.fr")
    db.session.commit()
    auth.login("rapport@cdg.fr")
    year = bodies["year"]
    response = client.get(f"/statistiques/{year}/rapport-activite.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"rapport-activite-{year}.pdf" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    words = " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())
    words = words.replace("\u202f", " ").replace("\xa0", " ")
    assert f"Rapport d'activité {year}" in words
    assert "Effectifs déclarés au 1er janvier, par année" in words and "Communes sans élu formé" in words
    assert "Grande Ville" in words and "Petit Bourg" in words  # no élu trained yet, the most populated first
    assert not re.search(r"\d\.\d+ ?(€|%)|\dE[+-]\d|\bNone\b", words)


def test_the_activity_report_shows_the_campaign_run_during_its_year(bodies, auth, client):
    """Regression: next year's headcount campaign (reference date 1 January of next year) is opened and run this
    autumn; the report of this year's activity showed only the campaigns *of* this year, so the board never saw
    the campaign the CDG was running, and the report of next year cannot be asked for yet."""
    from portal.campaigns import services as campaigns

    year = bodies["year"]
    staff = factories.user("staff", email="rapport@cdg.fr")
    campaigns.open_campaign(campaigns.OpenInput("effectifs", year + 1, date(year + 1, 3, 31)), staff)
    db.session.commit()
    auth.login("rapport@cdg.fr")
    response = client.get(f"/statistiques/{year}/rapport-activite.pdf")
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.data))
    words = " ".join(" ".join((page.extract_text() or "") for page in reader.pages).split())
    assert f"Effectifs au 1er janvier {year + 1} : réponses par intercommunalité" in words
    assert f"Campagnes {year}" in words


def _legend_rows(svg: str) -> dict[float, list[tuple[float, str]]]:
    """The legend's names by row: {y: [(x, name), …]} (pygal writes each name in its own <text>)."""
    legends = svg[svg.index('class="legends"') :]
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, name in re.findall(r'<text x="([\d.]+)" y="([\d.]+)">([^<]+)</text>', legends):
        rows.setdefault(float(y), []).append((float(x), html.unescape(name)))
    return rows


@pytest.mark.parametrize(
    ("categories", "columns"),
    [
        (("Commune", "CCAS"), 2),
        (("Commune", "Établissement public départemental ou interdépartemental (SDIS…)"), 1),
    ],
)
def test_legend_names_never_overlap_however_long_the_category_names(categories, columns):
    """A horizontal chart's long category names narrow the plot, and pygal steps the legend's columns across the
    plot: three columns of « Affiliation obligatoire » overlapped in the activity report."""
    names = ("Affiliation obligatoire", "Affiliation volontaire", "Non affiliée", "Sans déclaration d'effectifs")
    series = tuple(Series(name, (1, 2)) for name in names)
    chart = Chart("a", "Affiliation", "Quatre.", categories, series, stacked=True, horizontal=True)
    rows = _legend_rows(render_svg(chart))
    assert max(len(row) for row in rows.values()) == columns
    for row in rows.values():
        for (x, name), (next_x, _next) in zip(row, row[1:], strict=False):
            assert next_x - x > len(name) * 0.55 * 13 + 12, f"« {name} » déborde sur le nom suivant"


def test_counts_are_drawn_on_whole_ticks_and_amounts_in_euros():
    from portal.common.charts import whole_ticks

    assert whole_ticks(3) == [0, 1, 2, 3] and whole_ticks(17) == [0, 5, 10, 15, 20]
    assert whole_ticks(331) == [0, 50, 100, 150, 200, 250, 300, 350] and whole_ticks(0) == [0, 1]
    counts = Chart(
        "n", "Sessions", "Deux.", ("2025", "2026"), (Series("Sessions", (1, 2)), Series("Présences", (0, 1)))
    )
    svg = render_svg(counts)
    assert not re.search(r">\d+,\d+<", svg)  # no "0,2" on the axis of a count
    stacked = Chart("s", "Empilé", "Trois.", ("a",), (Series("x", (2,)), Series("y", (7,))), stacked=True)
    assert ">10<" in render_svg(stacked)  # the axis reaches the stack's total (9), not only its largest part


def test_the_report_lists_the_most_populated_communes_with_no_trained_elu_and_points_to_the_full_list(
    app, auth, client, monkeypatch
):
    from portal.reports import views

    monkeypatch.setattr(views, "UNTRAINED_IN_REPORT", 2)
    for name, population in (("Mézin", 300), ("Nérac", 5000), ("Lavardac", 1200)):
        factories.collectivite(name, population=population)
    factories.user("staff", email="rapport@cdg.fr")
    db.session.commit()
    auth.login("rapport@cdg.fr")
    response = client.get(f"/statistiques/{paris_today().year}/rapport-activite.pdf")
    words = " ".join(" ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(response.data)).pages).split())
    words = re.sub(r"-\s+", "-", words)  # a line broken after a hyphen ("ci-/dessous") reads as one word
    assert "3 communes n'ont encore aucun élu présent à une formation." in words
    assert "Les 2 plus peuplées ci-dessous ; la liste complète est sur la page" in words
    assert "Nérac" in words and "Lavardac" in words and "Mézin" not in words
