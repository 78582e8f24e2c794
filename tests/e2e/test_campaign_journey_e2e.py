"""Issue 16's journey, in a real browser: a CDG agent opens next year's headcount campaign for Lot-et-Garonne, the
opening emails reach the SMTP sink (only the secretaries of bodies in scope that have not answered yet), two
secretaries answer through their « à faire », one crossing 350 (an affiliation decision opens and waits on the
agent's work queue), the reminder job run as beat would reaches only the others and sends nothing when run again,
the agent sees the progress and the chart move, opens the statistics (every chart loads, every data table opens)
and downloads the activity report PDF. Every page on the way is checked with axe-core, and the campaign and
statistics pages must report no Content Security Policy violation."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.affiliation.models import AffiliationDecision
from portal.campaigns import services as campaigns
from portal.campaigns.models import Campaign, CampaignTask
from portal.common.clock import paris_today
from portal.extensions import db
from portal.registry.models import Collectivite
from tests import factories
from tests.conftest import DATA_47
from tests.e2e.conftest import AxeAudit, field, login

pytestmark = pytest.mark.e2e

YEAR = paris_today().year + 1
TITLE = f"Effectifs au 1er janvier {YEAR}"
STAFF = "agent@cdg47.fr"
AGEN = "drh@agen.example"  # 340 titulaires last year, 360 this year: crosses 350
ASTAFFORT = "mairie@astaffort.example"
OTHERS = {  # secretaries of communes in scope who will not answer: the reminders go to them
    "47323": "mairie@villeneuve-sur-lot.example",
    "47157": "mairie@marmande.example",
    "47195": "mairie@nerac.example",
}
ALREADY = "mairie@aiguillon.example"  # her commune declared before the opening: no opening email, no reminder
OUTSIDE = "mairie@sauveterre-de-guyenne.example"  # a Gironde commune: outside the CDG 47's campaign
PDF_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class World:
    agen_id: int
    astaffort_id: int
    in_scope: int


def _seed(app) -> World:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["registry", "import", str(DATA_47), "--departement", "47"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        by_insee = {
            c.insee_code: c
            for c in db.session.scalars(
                select(Collectivite).where(
                    Collectivite.kind == "commune",
                    Collectivite.insee_code.in_(["47001", "47015", "47004", *OTHERS]),
                )
            )
        }
        factories.user("staff", email=STAFF)  # before the declarations: a crossing notifies the staff
        factories.user("secretary", email=AGEN, collectivites=[by_insee["47001"]])
        factories.user("secretary", email=ASTAFFORT, collectivites=[by_insee["47015"]])
        for insee, email in OTHERS.items():
            factories.user("secretary", email=email, collectivites=[by_insee[insee]])
        factories.user("secretary", email=ALREADY, collectivites=[by_insee["47004"]])
        gironde = factories.collectivite("Sauveterre-de-Guyenne", insee="33506")
        gironde.departement_code = "33"
        factories.user("secretary", email=OUTSIDE, collectivites=[gironde])
        factories.declare(by_insee["47001"], YEAR - 1, 340, 20, 60, notify=False)
        factories.declare(by_insee["47015"], YEAR - 1, 11, 3, 2, notify=False)
        factories.declare(by_insee["47004"], YEAR, 48, 6, 9, notify=False)
        db.session.commit()
        in_scope = db.session.scalar(
            select(func.count())
            .select_from(Collectivite)
            .where(Collectivite.departement_code == "47", Collectivite.kind.not_in(["departement", "region"]))
        )
        return World(by_insee["47001"].id, by_insee["47015"].id, in_scope)


def _campaign_mail(smtp_sink, *, reminder: bool) -> list[str]:
    """Recipients of the campaign's emails (the opening ones, or the reminders), sorted."""
    prefix = f"Rappel — {TITLE}" if reminder else TITLE
    return sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.messages if str(m["Subject"]).startswith(prefix))


def _csp_reports(page: Page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    return messages


def _loaded_images(page: Page) -> list[dict]:
    """Wait until every chart image has finished (loaded or failed); return their addresses and natural widths."""
    page.wait_for_function("() => [...document.querySelectorAll('img.chart-image')].every(i => i.complete)")
    return page.evaluate(
        "() => [...document.querySelectorAll('img.chart-image')].map(i => ({src: i.src, width: i.naturalWidth}))"
    )


def _answered_in_chart(svg: bytes) -> int:
    """The bodies the campaign's chart draws as answered: pygal writes each bar's value in a <desc>, the series
    in order ("Ont répondu" first, then "N'ont pas encore répondu"), each over every intercommunality."""
    values = [int(re.sub(r"\D", "", v)) for v in re.findall(r'<desc class="value">([^<]*)</desc>', svg.decode())]
    assert values and len(values) % 2 == 0
    return sum(values[: len(values) // 2])


def _open_campaign_page(page: Page, campaign_id: int) -> int:
    """Open the campaign's page and check its chart: the browser fetched it (200, SVG) and drew it. Returns how
    many bodies the chart shows as answered."""
    chart_url = re.compile(rf"/statistiques/campagnes/{campaign_id}\.svg$")
    with page.expect_response(chart_url) as response_info:
        page.goto(f"/campagnes/{campaign_id}")
    response = response_info.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    [image] = _loaded_images(page)
    assert image["width"] > 0, f"le graphique de la campagne ne s'affiche pas : {image['src']}"
    # The browser's copy of an image cannot always be read back: the same address, fetched in the same session.
    again = page.request.get(response.url)
    assert again.status == 200
    return _answered_in_chart(again.body())


def _declare(browser: Browser, live_server: str, email: str, body: str, counts: tuple[int, int, int], audit):
    """A secretary, in her own browser, answers her commune's task from her « à faire »."""
    context = browser.new_context(base_url=live_server, locale="fr-FR", timezone_id="Europe/Paris")
    try:
        own = context.new_page()
        login(own, email)
        expect(own.get_by_role("heading", name="Ce que le CDG vous demande")).to_be_visible()
        expect(own.get_by_text(f"{TITLE} — {body} : à faire avant le")).to_be_visible()
        audit.check(own, f"tableau de bord de la secrétaire de {body}")
        own.get_by_role("link", name=f"Répondre pour {body}").click()
        expect(own.get_by_role("heading", name="Déclaration des effectifs — à faire")).to_be_visible()
        expect(own.get_by_role("group", name=f"{body} : agents au 1er janvier {YEAR}")).to_be_visible()
        audit.check(own, f"tâche de {body}")
        field(own, "Fonctionnaires titulaires et stagiaires à temps complet").fill(str(counts[0]))
        field(own, "Fonctionnaires titulaires et stagiaires à temps non complet").fill(str(counts[1]))
        field(own, "Agents contractuels").fill(str(counts[2]))
        own.get_by_role("button", name="Enregistrer la déclaration").click()
        expect(own.get_by_role("status").first).to_contain_text("Votre réponse « Déclaration des effectifs »")
        expect(own.get_by_role("heading", name="Déclaration des effectifs — faite")).to_be_visible()
        audit.check(own, f"tâche de {body} après la réponse")
        own.goto("/tableau-de-bord")
        expect(own.get_by_text(f"{TITLE} — {body} : réponse reçue.")).to_be_visible()
    finally:
        context.close()


def test_the_agent_runs_the_headcount_campaign_from_opening_to_the_activity_report(
    page: Page, browser: Browser, live_app, live_server, smtp_sink, axe_audit: AxeAudit
):
    world = _seed(live_app)
    console = _csp_reports(page)
    nav = page.get_by_role("navigation", name="Navigation principale")

    # The agent opens next year's headcount campaign.
    login(page, STAFF)
    nav.get_by_role("link", name="Campagnes", exact=True).click()
    expect(page.get_by_role("heading", name="Ouvrir une campagne")).to_be_visible()
    axe_audit.check(page, "campagnes")
    field(page, "Type de campagne").select_option(label="Recensement des effectifs")
    expect(field(page, "Année")).to_have_value(str(YEAR))
    field(page, "Date limite de réponse").fill(f"{YEAR}-03-31")
    field(page, "Message aux collectivités").fill("Merci de répondre avant le conseil d'administration de mars.")
    page.get_by_role("button", name="Ouvrir la campagne").click()
    expect(page.get_by_role("heading", name=TITLE, exact=True)).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text(f"La campagne « {TITLE} » est ouverte.")
    campaign_id = int(re.search(r"/campagnes/(\d+)", page.url).group(1))
    with live_app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        opened_on, deadline = campaign.opened_on, campaign.deadline
        tasks = db.session.scalar(select(func.count()).where(CampaignTask.campaign_id == campaign_id))
    assert tasks == world.in_scope  # every body of the département but itself and its region, none elsewhere

    # The opening emails: to the secretaries of the bodies in scope that have not declared yet, and no one else.
    assert _campaign_mail(smtp_sink, reminder=False) == sorted([AGEN, ASTAFFORT, *OTHERS.values()])
    opening = next(m for m in smtp_sink.messages if m["To"].addresses[0].addr_spec == AGEN)
    text = opening.get_body(("plain",)).get_content()
    assert "Le centre de gestion ouvre la campagne" in text and "conseil d'administration de mars" in text
    assert re.search(rf"/campagnes/{campaign_id}/taches/\d+", text)

    assert _open_campaign_page(page, campaign_id) == 1  # Aiguillon, declared before the opening
    expect(page.get_by_text(f"1 collectivité a répondu sur {world.in_scope}")).to_be_visible()
    expect(page.locator("#progression")).to_have_attribute("value", "1")
    expect(page.get_by_role("heading", name=f"Sans réponse ({world.in_scope - 1})")).to_be_visible()
    axe_audit.check(page, "campagne ouverte")

    # Two secretaries answer, each in her own browser; Agen crosses 350.
    _declare(browser, live_server, AGEN, "Agen", (360, 22, 61), axe_audit)
    _declare(browser, live_server, ASTAFFORT, "Astaffort", (12, 3, 2), axe_audit)
    with live_app.app_context():
        decisions = db.session.execute(
            select(AffiliationDecision.collectivite_id, AffiliationDecision.state, AffiliationDecision.year)
        ).all()
    assert decisions == [(world.agen_id, "open", YEAR)]

    # The affiliation decision waits on the agent's work queue and in « Décisions à prendre ».
    nav.get_by_role("link", name="Tableau de bord").click()
    queue = page.locator(".work-queue table tbody")
    expect(queue.get_by_role("row").filter(has_text="Agen")).to_contain_text(f"Affiliation à décider ({YEAR})")
    axe_audit.check(page, "file de travail avec la décision d'Agen")
    nav.get_by_role("link", name="Décisions à prendre").click()
    decision_row = page.get_by_role("row", name=re.compile(r"^Agen "))
    expect(decision_row).to_contain_text("effectif 360, contre 340 l'année précédente")
    axe_audit.check(page, "décisions à prendre")

    # The reminder job, as beat runs it (tasks.reminders) on the day of the first reminder: only the bodies that
    # have not answered; run again the same day, it sends nothing.
    with live_app.app_context():
        [(day, first), *_later] = campaigns.rules.schedule(campaigns.reminders(), opened_on, deadline)
        assert first.code == "J+15" and day == opened_on + timedelta(days=15)
        assert campaigns.run_reminders_once(day) == len(OTHERS)
        db.session.commit()
    reminded = _campaign_mail(smtp_sink, reminder=True)
    assert reminded == sorted(OTHERS.values())
    with live_app.app_context():
        assert campaigns.run_reminders_once(day) == 0
        db.session.commit()
    assert _campaign_mail(smtp_sink, reminder=True) == reminded
    reminder = next(m for m in smtp_sink.messages if str(m["Subject"]).startswith(f"Rappel — {TITLE}"))
    assert "attend encore votre réponse" in reminder.get_body(("plain",)).get_content()

    # The agent sees the progress and the chart move.
    assert _open_campaign_page(page, campaign_id) == 3  # and now Agen and Astaffort
    expect(page.get_by_text(f"3 collectivités ont répondu sur {world.in_scope}")).to_be_visible()
    expect(page.locator("#progression")).to_have_attribute("value", "3")
    expect(page.get_by_role("heading", name=f"Sans réponse ({world.in_scope - 3})")).to_be_visible()
    missing = page.locator("table").filter(has_text="Relances envoyées")
    expect(missing.get_by_role("row").filter(has_text="Marmande")).to_contain_text("J+15")
    expect(missing.get_by_role("row", name=re.compile("^Agen"))).to_have_count(0)
    axe_audit.check(page, "campagne après les réponses et la relance")

    # The statistics: every chart drawn, every data table behind its disclosure, the activity report.
    nav.get_by_role("link", name="Statistiques").click()
    expect(page.get_by_role("heading", name=f"Statistiques {paris_today().year}", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=f"{TITLE} : réponses par intercommunalité")).to_be_visible()
    images = _loaded_images(page)
    assert len(images) >= 7  # the campaign's and the six yearly charts
    assert [i["src"] for i in images if i["width"] == 0] == []
    disclosures = page.locator("details.chart-data")
    assert disclosures.count() == len(images)
    for index in range(disclosures.count()):
        disclosure = disclosures.nth(index)
        disclosure.locator("summary").click()
        expect(disclosure).to_have_attribute("open", "")
        expect(disclosure.get_by_role("table")).to_be_visible()
    campaign_table = page.get_by_role("table", name=f"{TITLE} : réponses par intercommunalité")
    expect(campaign_table.get_by_role("row", name=re.compile("^CA Agglomération d'Agen"))).to_contain_text("2")
    axe_audit.check(page, "statistiques, données ouvertes")

    report = page.get_by_role("link", name=re.compile(r"^Télécharger le rapport d'activité \d{4} \(PDF\)$"))
    # WeasyPrint lays out some twenty pages (the 319 communes with no trained élu among them): seconds, not
    # the 10 s of a page, on a loaded machine.
    response = page.request.get(report.get_attribute("href"), timeout=PDF_TIMEOUT_MS)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert pdf.startswith(b"%PDF")
    words = " ".join(" ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert f"Rapport d'activité {paris_today().year}" in words
    assert f"{TITLE} : réponses par intercommunalité" in words  # the campaign run this year, for the board

    assert [m for m in console if "Content Security Policy" in m] == []
    axe_audit.assert_clean()
