"""Guard: what people read on the portal is French, as a mayor or a public accountant would accept it.

Every page of the demo reachable by links is visited as each demo account (a CDG agent, a secretary, an élu), and
its visible text must not show scientific notation, a decimal point in a French amount or rate, an internal key
(snake_case, the accent-less keys of states, English words of the code), "None", a hand-written "(e)"/"(s)"
plural or feminine, or two words glued together. Pages of one shape (same path once numbers are replaced) are
visited a few times only, so the crawl stays short while covering every kind of page.
"""

from __future__ import annotations

import html
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from portal.demo.loader import DEMO_PASSWORD, load
from portal.extensions import db
from tests.conftest import csrf_from

ACCOUNTS = {
    "agent du CDG": "agent@cdg47.example",
    "secrétaire général de mairie": "secretariat@mairies-pays-de-serres.example",
    "élu": "maire@mairie-sauvagnas.example",
}
PER_SHAPE = 3
MAX_PAGES = 250
# Links that change something or leave the pages meant for reading.
SKIPPED = re.compile(r"^/(deconnexion|api/|static/)|\.(csv|xlsx|pdf|ics|json)(\?|$)|/export")

# English words and accent-less internal keys of the code that must never be shown.
INTERNAL_WORDS = [
    *("schools", "pupils", "payroll", "pending", "registered", "waiting", "offered", "cancelled", "requested"),
    *("invited", "deactivated", "demandee", "validee", "refusee", "resiliee", "suspendue", "True", "False"),
]
PROBLEMS = {
    "notation scientifique": re.compile(r"\d[,.]?\d*E[+-]\d"),
    "point décimal dans un montant ou un taux": re.compile(r"\d\.\d+\s?(€|%)"),
    "clé interne (snake_case)": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "« None »": re.compile(r"\bNone\b"),
    "pluriel ou féminin entre parenthèses": re.compile(r"\w\((e|s|es|e\)s|ne)\)"),
    "mots collés": re.compile(r"[a-zà-ÿ]{2}[A-ZÀ-Ý][a-zà-ÿ]"),
    "« 1 » au lieu de « 1er »": re.compile(
        r"(?<![\d,])\b1 (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre)\b"
    ),
    "mot interne": re.compile(r"\b(" + "|".join(re.escape(w) for w in INTERNAL_WORDS) + r")\b"),
}
# Names written that way on purpose.
ALLOWED = re.compile(r"ProConnect|moncompteformation|McDonald")


def visible_text(page: str) -> str:
    page = re.sub(r"(?is)<(script|style|template)\b.*?</\1>", " ", page)
    page = re.sub(r"(?is)<!--.*?-->", " ", page)
    # Machine identifiers shown as such (the open data's field names, an API path) are in <code>.
    page = re.sub(r"(?is)<code\b.*?</code>", " ", page)
    # Block elements separate words; inline ones (links, buttons, spans) do not: "Ouvrir</a><button>Marquer"
    # reads "OuvrirMarquer" in a browser, and so here.
    blocks = (
        r"br|p|div|li|ul|ol|td|th|tr|table|h\d|dt|dd|dl|option|select|caption|legend|fieldset|form|section|nav|"
        r"header|footer|main|input|textarea"
    )
    page = re.sub(rf"(?is)</?({blocks})\b[^>]*>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", "", page)
    return " ".join(html.unescape(page).split())


def problems_in(text: str) -> list[tuple[str, str]]:
    found = []
    for label, pattern in PROBLEMS.items():
        for match in pattern.finditer(text):
            if ALLOWED.search(text[max(0, match.start() - 20) : match.end() + 20]):
                continue
            start = max(0, match.start() - 40)
            found.append((label, text[start : match.end() + 40]))
    return found


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


@pytest.fixture
def demo(app):
    load(log=lambda *args, **kwargs: None)
    db.session.commit()


def crawl(client) -> tuple[dict[str, list], int]:
    seen_shapes: dict[str, int] = {}
    visited: set[str] = set()
    queue = deque(["/tableau-de-bord"])
    report: dict[str, list] = {}
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        if url in visited:
            continue
        visited.add(url)
        response = client.get(url, follow_redirects=True)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        url = response.request.path + (
            f"?{response.request.query_string.decode()}" if response.request.query_string else ""
        )
        page = response.get_data(as_text=True)
        found = problems_in(visible_text(page))
        if found:
            report[url] = sorted(set(found))
        for href in re.findall(r'href="([^"#]+)', page):
            target = urljoin(url, html.unescape(href))
            parts = urlsplit(target)
            if parts.netloc or SKIPPED.search(parts.path + ("?" + parts.query if parts.query else "")):
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            key = shape(parts.path) + ("?" if parts.query else "")
            if link in visited or seen_shapes.get(key, 0) >= PER_SHAPE:
                continue
            seen_shapes[key] = seen_shapes.get(key, 0) + 1
            queue.append(link)
    return report, len(visited)


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_page_reads_in_french(client, demo, role):
    page = client.get("/connexion").get_data(as_text=True)
    client.post("/connexion", data={"email": ACCOUNTS[role], "password": DEMO_PASSWORD, "csrf_token": csrf_from(page)})
    report, visited = crawl(client)
    assert visited > 10, f"{role} : {visited} pages visitées seulement"
    lines = [f"{url} — {label} : …{snippet}…" for url, found in report.items() for label, snippet in found]
    assert not lines, f"{len(lines)} défauts vus par {role} sur {visited} pages :\n" + "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Tarif 2026 : 3,9E+2", "notation scientifique"),
        ("Total 85.00 €", "point décimal dans un montant ou un taux"),
        ("Taux 0.2 %", "point décimal dans un montant ou un taux"),
        ("Statut : non_affiliee", "clé interne (snake_case)"),
        ("Adresse : None", "« None »"),
        ("heures inconnu(e)", "pluriel ou féminin entre parenthèses"),
        ("0 jour(s)", "pluriel ou féminin entre parenthèses"),
        ("OuvrirMarquer comme lue", "mots collés"),
        ("Quantités : schools 2", "mot interne"),
        ("depuis le 1 décembre 2026", "« 1 » au lieu de « 1er »"),
    ],
)
def test_the_guard_sees_each_kind_of_defect(text, label):
    assert label in {found for found, _snippet in problems_in(text)}


def test_the_guard_accepts_french_as_it_should_be():
    text = (
        "3 421,09 € — 0,2 % — 11 janvier 2027 — 21 mars — 1er décembre 2026 — Adjointe au maire — Inscrite — "
        "aucun jour — ProConnect"
    )
    assert problems_in(text) == []
