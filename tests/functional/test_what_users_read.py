"""Guard: what people read on the portal is French, as a mayor or a public accountant would accept it.

Every page of the demo reachable by links is visited as each demo account (a CDG agent, a secretary, an élu), and
its visible text must not show scientific notation, a decimal point in a French amount or rate, an internal key
(snake_case, the accent-less keys of states, English words of the code), "None", a hand-written "(e)"/"(s)"
plural or feminine, or two words glued together. Pages of one shape (same path once numbers are replaced) are
visited a few times only, so the crawl stays short while covering every kind of page.

The files the pages link to are read the same way: the PDFs the portal writes (convention d'adhésion, ENT annex,
cotisation statement, training attestation, sign-in sheet, an élu's rights, activity report) as pypdf extracts
their text, and the exports for people (CSV with ``;``, XLSX) cell by cell, where a number with a decimal point or
an ISO date is a defect too. One file of each kind per account (WeasyPrint takes seconds per PDF). Files written
for software (open data, the ENT provider's list of schools) keep their stable keys by design, and files people
upload are theirs: neither is read. The emails are read by ``test_what_emails_say``.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import deque
from urllib.parse import urljoin, urlsplit

import openpyxl
import pytest
from sqlalchemy import select

from portal import create_app
from portal.demo.loader import DEMO_PASSWORD, load
from portal.extensions import db
from tests.conftest import IsolatedClient, _free_port, clean_tables, csrf_from, make_environ
from tests.pdf_text import pdf_text

ACCOUNTS = {
    "agent du CDG": "agent@cdg47.example",
    "secrétaire général de mairie": "secretariat@mairies-pays-de-serres.example",
    "élu": "maire@mairie-sauvagnas.example",
}
PER_SHAPE = 3
FILES_PER_SHAPE = 1
MAX_PAGES = 250
# Links that change something or leave the pages meant for reading; JSON is always for software.
SKIPPED = re.compile(r"^/(deconnexion|api/|static/)|\.(ics|json)(\?|$)")
# Files people upload (a convention's documents, a campaign's answers): their words, not the portal's.
UPLOADED = re.compile(r"^/conventions/\d+/documents/|^/campagnes/\d+/taches/\d+/documents/")
# Files written for software, named by their download name: the open data and the ENT provider's list of schools
# keep stable snake_case keys and ISO dates by design (README, « API, exports et données ouvertes »).
MACHINE_FILES = re.compile(r"^(collectivites-affiliees\.csv|ent-ecoles-\d+\.csv)$")
FILE_TYPES = {
    "application/pdf",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

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
    "objet Python affiché": re.compile(
        r"<(function|bound method|built-in function|class|module)\b|\bobject at 0x[0-9a-f]+"
    ),
}
# Names written that way on purpose.
ALLOWED = re.compile(r"ProConnect|moncompteformation|McDonald")
# Links and addresses are what they are: a token or an address may hold "_" or capitals in the middle.
MACHINE_TEXT = re.compile(r"\b(https?://\S+|[\w.+-]+@[\w-]+(\.[\w-]+)+)")
# In a spreadsheet cell, on top of the above: what French Excel would read as text, or a reader as a code.
CELL_PROBLEMS = {
    "nombre écrit avec un point décimal": re.compile(r"-?\d+\.\d+"),
    "date au format ISO": re.compile(r"\d{4}-\d{2}-\d{2}([ T].*)?"),
}


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


def readable(text: str) -> str:
    """The text without its links and addresses (in a document, an email or a cell)."""
    return " ".join(MACHINE_TEXT.sub(" ", text).split())


def cell_problems(cell: str) -> list[tuple[str, str]]:
    """What is wrong in one cell of an export for people: the text's problems, or a value written for software."""
    cell = cell.strip()
    found = [(label, cell) for label, pattern in CELL_PROBLEMS.items() if pattern.fullmatch(cell)]
    return found or problems_in(readable(cell))


def table_problems(rows: list[list]) -> list[tuple[str, str]]:
    """Cell by cell (joined, two cells would glue into words that no reader sees); one example per column and
    kind of problem, with the number of cells that show it."""
    header = [str(cell or "") for cell in rows[0]] if rows else []
    found: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        for column, cell in enumerate(row):
            if isinstance(cell, str):
                name = header[column] if column < len(header) else str(column + 1)
                for label, snippet in cell_problems(cell):
                    found.setdefault((label, name), []).append(snippet)
    return [
        (label, f"colonne « {name} » : {snippets[0]}" + (f" ({len(snippets)} cellules)" if len(snippets) > 1 else ""))
        for (label, name), snippets in found.items()
    ]


def csv_rows(data: bytes) -> list[list]:
    """A CSV for people: UTF-8 with a byte order mark and ``;`` (what French Excel opens as is)."""
    assert data.startswith("\ufeff".encode()), "CSV sans marque d'ordre des octets (BOM) : Excel lirait mal les accents"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows and len(rows[0]) > 1, f"CSV sans « ; » entre les colonnes : {rows[:1]}"
    return rows


def xlsx_rows(data: bytes) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [list(row) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def file_problems(mimetype: str, data: bytes) -> list[tuple[str, str]]:
    if mimetype == "application/pdf":
        return problems_in(readable(pdf_text(data)))
    return table_problems(csv_rows(data) if mimetype == "text/csv" else xlsx_rows(data))


def download_name(response) -> str:
    match = re.search(r'filename="([^"]+)"', response.headers.get("Content-Disposition", ""))
    return match.group(1) if match else ""


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


def _validated_ent_request() -> None:
    """The demo's only ENT request waits for staff, so no ENT annex exists: a second one, from Laroque-Timbaut,
    is validated by the CDG's agent through the portal's services, and its documents job (run in place) stores
    the convention, the annex and the provider's CSV, which the pages then link to like any other."""
    from portal.accounts.models import User
    from portal.catalogue.models import Service
    from portal.catalogue.rules import uai_key
    from portal.common.clock import paris_today
    from portal.registry.models import Collectivite
    from portal.subscriptions import services as subscriptions
    from portal.subscriptions.rules import Action

    staff = db.session.scalar(select(User).where(User.email == ACCOUNTS["agent du CDG"]))
    secretary = db.session.scalar(select(User).where(User.email == ACCOUNTS["secrétaire général de mairie"]))
    laroque = db.session.scalar(select(Collectivite).where(Collectivite.insee_code == "47138"))
    ent = db.session.scalar(select(Service).where(Service.code == "ent-ecoles"))
    schools = [
        subscriptions.SchoolInput(code + uai_key(code), name, classes, pupils)
        for code, name, classes, pupils in (
            ("0479101", "École élémentaire de Laroque-Timbaut (fictive)", 4, 87),
            ("0479102", "École maternelle de Laroque-Timbaut (fictive)", 2, 41),
        )
    ]
    request = subscriptions.request_subscription(
        laroque, ent, subscriptions.RequestInput(start_date=paris_today(), schools=schools), secretary
    )
    subscriptions.transition(request, Action.VALIDATE, staff, "Convention DASEN signée.")


@pytest.fixture(scope="module")
def demo_app(migrated):
    """One demo for the whole module, its tasks run in place: loading it is most of the time, reading changes
    nothing in it. Its tables are emptied at the end, as after any test."""
    app = create_app({"ENVIRON": make_environ(migrated, CELERY_TASK_ALWAYS_EAGER="1", MAIL_PORT=_free_port())})
    app.test_client_class = IsolatedClient
    with app.app_context():
        load(log=lambda *args, **kwargs: None)
        db.session.commit()
        _validated_ent_request()
        db.session.commit()
        yield app
        db.session.remove()
        clean_tables()
        db.engine.dispose()


def crawl(client) -> tuple[dict[str, list], int, set[str]]:
    """(problems by address, pages visited, download names of the files read)."""
    seen_shapes: dict[str, int] = {}
    visited: set[str] = set()
    files: set[str] = set()
    queue = deque(["/tableau-de-bord"])
    queued = set(queue)  # a link seen on several pages is counted once against its shape
    report: dict[str, list] = {}
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        if url in visited:
            continue
        visited.add(url)
        response = client.get(url, follow_redirects=True)
        if response.status_code != 200:
            continue
        if response.mimetype in FILE_TYPES:
            name = download_name(response)
            if not MACHINE_FILES.match(name):
                files.add(name)
                found = file_problems(response.mimetype, response.get_data())
                if found:
                    report[f"{url} ({name})"] = sorted(set(found))
            continue
        if response.mimetype != "text/html":
            continue
        url = response.request.path + (
            f"?{response.request.query_string.decode()}" if response.request.query_string else ""
        )
        visited.add(url)  # where a redirection led
        queued.add(url)
        page = response.get_data(as_text=True)
        found = problems_in(visible_text(page))
        if found:
            report[url] = sorted(set(found))
        # A link named after a file (the stored documents of an enrolment) counts by that name's shape: one
        # convention, one annex, each read once, though they share an address's shape.
        names = dict(re.findall(r'<a\b[^>]*\bhref="([^"#]+)"[^>]*>\s*([^<\s]+\.(?:pdf|csv|xlsx))\s*</a>', page))
        for href in re.findall(r'href="([^"#]+)', page):
            target = urljoin(url, html.unescape(href))
            parts = urlsplit(target)
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if parts.netloc or SKIPPED.search(link) or UPLOADED.search(parts.path):
                continue
            is_file = bool(re.search(r"\.(pdf|csv|xlsx)$", parts.path)) or href in names
            if is_file:
                key, limit = shape(parts.path) + "|" + shape(names.get(href, "")), FILES_PER_SHAPE
            else:
                key, limit = shape(parts.path) + ("?" if parts.query else ""), PER_SHAPE
            if link in queued or seen_shapes.get(key, 0) >= limit:
                continue
            seen_shapes[key] = seen_shapes.get(key, 0) + 1
            queued.add(link)
            queue.append(link)
    return report, len(visited), files


# The files each account must have read: every kind of PDF the portal writes, and exports for people.
EXPECTED_FILES = {
    "agent du CDG": [
        r"convention-adhesion-N\.pdf",
        r"annexe-ecoles-ent-N\.pdf",
        r"releve-N-N\.pdf",
        r"emargement-session-N\.pdf",
        r"rapport-activite-N\.pdf",
        r"releves-N\.csv",
        r"collectivites\.csv",
        r"collectivites\.xlsx",
        r"abonnements\.xlsx",
        r"conventions\.csv",
        r"participants-session-N\.xlsx",
        r"inscriptions-formations-N\.csv",
        r"formations-elus-N-N\.xlsx",
    ],
    "secrétaire général de mairie": [
        r"convention-adhesion-N\.pdf",
        r"releve-N-N\.pdf",
        r"attestation-formation-N\.pdf",
        r"droits-.*\.pdf",
        r"droits-.*\.csv",
        r"formations-elus-N-N\.csv",
    ],
    "élu": [r"droits-.*\.pdf", r"droits-.*\.csv"],
}


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_every_page_and_file_reads_in_french(demo_app, role):
    client = demo_app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    client.post("/connexion", data={"email": ACCOUNTS[role], "password": DEMO_PASSWORD, "csrf_token": csrf_from(page)})
    report, visited, files = crawl(client)
    assert visited > 10, f"{role} : {visited} pages visitées seulement"
    read = {shape(name) for name in files}
    missing = [kind for kind in EXPECTED_FILES[role] if not any(re.fullmatch(kind, name) for name in read)]
    assert not missing, f"{role} n'a pas lu ces fichiers : {missing} (lus : {sorted(read)})"
    lines = [f"{url} — {label} : …{snippet}…" for url, found in report.items() for label, snippet in found]
    assert not lines, f"{len(lines)} défauts vus par {role} sur {visited} pages et fichiers :\n" + "\n".join(lines)


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
        ("<function salutation at 0x7f65f5e2ede0> L'effectif décompté passe à 350", "objet Python affiché"),
        ("Signataire : <portal.accounts.models.Person object at 0x7f65f5e2ede0>", "objet Python affiché"),
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


def _pdf(html_text: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=f"<html lang='fr'><body>{html_text}</body></html>").write_pdf()


def test_the_guard_reads_what_a_pdf_shows():
    data = _pdf("<h1>Convention d'adhésion</h1><p>Tarif 2026 : 3.5 € — Statut : non_affiliee</p><p>inconnu(e)</p>")
    labels = {label for label, _snippet in file_problems("application/pdf", data)}
    assert {"point décimal dans un montant ou un taux", "clé interne (snake_case)"} <= labels
    assert "pluriel ou féminin entre parenthèses" in labels
    assert file_problems("application/pdf", _pdf("<p>Tarif 2027 : 3,50\u202f€ — 1er décembre 2026</p>")) == []


def test_the_guard_reads_every_cell_of_an_export_for_people():
    planted = "\ufeffCode;acompte_montant;Échéance;Type\r\n47001;2000.00;2026-05-31;caisse_ecoles\r\n"
    found = file_problems("text/csv", planted.encode())
    assert {label for label, _snippet in found} == {
        "clé interne (snake_case)",
        "nombre écrit avec un point décimal",
        "date au format ISO",
    }
    assert any("colonne « Type » : caisse_ecoles" in snippet for _label, snippet in found)
    french = "\ufeffCode;Acompte (€);Échéance;Type\r\n47001;2000,00;31/05/2026;Caisse des écoles\r\n"
    assert file_problems("text/csv", french.encode()) == []
    with pytest.raises(AssertionError, match="BOM"):
        file_problems("text/csv", french.encode()[3:])
    with pytest.raises(AssertionError, match="« ; »"):
        file_problems("text/csv", "\ufeffCode,Type\r\n47001,Commune\r\n".encode())


def test_the_guard_reads_the_text_cells_of_a_workbook(tmp_path):
    import xlsxwriter

    path = tmp_path / "planted.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["Collectivité", "socle_commun", "Tarif"])
    sheet.write_string(1, 0, "Agen")
    sheet.write_number(1, 1, 2038.36)  # a typed number: the spreadsheet shows it the French way
    sheet.write_string(1, 2, "3,9E+2")
    workbook.close()
    found = file_problems("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", path.read_bytes())
    assert sorted(label for label, _snippet in found) == ["clé interne (snake_case)", "notation scientifique"]
