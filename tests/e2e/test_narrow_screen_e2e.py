"""Every table of the main pages reads on a 390 px wide phone (issue 15, item 5): no page wider than the screen,
each row stacked, each cell preceded by its column's name. The pages are those of each role's main navigation,
on the demo's data."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from portal.demo.loader import DEMO_PASSWORD, load
from portal.extensions import db
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
ACCOUNTS = {
    "agent du CDG": "agent@cdg47.example",
    "secrétaire général de mairie": "secretariat@mairies-pays-de-serres.example",
    "élu": "maire@mairie-sauvagnas.example",
}

# For each table of the page: its data cells with a column name, and those whose ::before does not show it.
TABLE_CELLS = """() => {
    const report = [];
    document.querySelectorAll('table.table').forEach((table) => {
        const cells = Array.from(table.querySelectorAll('tbody td[data-label], tbody th[data-label]'))
            .filter((cell) => cell.dataset.label !== '');
        const unlabelled = cells.filter((cell) => {
            const before = getComputedStyle(cell, '::before').content;
            return !before.includes(cell.dataset.label);
        }).map((cell) => cell.dataset.label);
        const stacked = getComputedStyle(table).display === 'block';
        report.push({cells: cells.length, rows: table.tBodies.length ? table.tBodies[0].rows.length : 0,
                     unlabelled: unlabelled, stacked: stacked});
    });
    return report;
}"""


@pytest.fixture
def demo(live_app):
    with live_app.app_context():
        load(log=lambda *args, **kwargs: None)
        db.session.commit()


def main_pages(page: Page) -> list[str]:
    links = page.locator("nav.main-nav a").evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    return list(dict.fromkeys(links))


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_main_pages_fit_a_phone_and_every_cell_shows_its_label(page: Page, demo, role):
    page.set_viewport_size(PHONE)
    login(page, ACCOUNTS[role], DEMO_PASSWORD)
    pages = main_pages(page)
    assert len(pages) >= 4, pages
    too_wide, unlabelled, cells_seen = [], [], 0
    for url in pages:
        page.goto(url)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide.append(f"{url} : {width} px")
        for table in page.evaluate(TABLE_CELLS):
            cells_seen += table["cells"]
            if table["rows"] and not table["stacked"]:
                unlabelled.append(f"{url} : tableau non empilé")
            if table["unlabelled"]:
                unlabelled.append(f"{url} : {sorted(set(table['unlabelled']))}")
    assert not too_wide, f"pages plus larges que l'écran pour {role} : {too_wide}"
    assert not unlabelled, f"cellules sans leur intitulé pour {role} : {unlabelled}"
    assert cells_seen > 0, f"aucun tableau vu par {role} sur {pages}"


def test_the_main_lists_label_their_cells_without_javascript(browser: Browser, live_server, demo):
    """The main lists write data-label themselves: on a phone without JavaScript their cells are labelled too."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False, viewport=PHONE, locale="fr-FR")
    try:
        page = context.new_page()
        login(page, ACCOUNTS["agent du CDG"], DEMO_PASSWORD)
        for url in ("/collectivites", "/abonnements?etat=", "/conventions/", "/formations/", "/comptes/"):
            page.goto(url)
            assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"], url
            tables = page.evaluate(TABLE_CELLS)
            assert tables and tables[0]["cells"] > 0 and not tables[0]["unlabelled"], (url, tables)
    finally:
        context.close()
