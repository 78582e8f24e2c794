"""Internationalisation: the French text is marked for translation (Flask-Babel, ``fr`` by default).

* Babel's extraction, driven by ``babel.cfg`` exactly as documented there, finds the strings of the
  templates, of the forms and of the views.
* A guard fails, naming the file and the line, when a template shows text that is not marked (text
  between tags, read-out attributes, and, as a heuristic, literals printed by an expression).
* Marking changed nothing for the reader: lazy form labels keep their HTML escaping, plurals follow
  the counts.
* In Python, the messages a person reads are gettext calls, and the label tables are ``Labels`` whose msgids are
  marked with ``N_``/``Nn_`` (``portal/common/labels.py``): two guards, each proved on planted examples.
"""

from __future__ import annotations

import ast
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from flask_babel import gettext as _gettext
from jinja2 import Environment, nodes

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"

# The command documented in babel.cfg.
EXTRACT_ARGS = ["-F", "babel.cfg", "-k", "_l", "-k", "N_", "-k", "Nn_:1,2", "--ignore-dirs", ".* __pycache__"]


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        CommandLineInterface().run(["pybabel", "--quiet", "extract", *EXTRACT_ARGS, "-o", str(pot), "."])
    with pot.open("rb") as fileobj:
        return read_po(fileobj)


def _files_by_msgid(catalog) -> dict:
    return {message.id: {filename for filename, _line in message.locations} for message in catalog if message.id}


EXPECTED = {
    "templates/base.html": [
        "Aller au contenu",
        "Environnement de démonstration : les effectifs affichés sont fictifs.",
        (
            '%(count)s<span class="visually-hidden"> non lue</span>',
            '%(count)s<span class="visually-hidden"> non lues</span>',
        ),
    ],
    "templates/_nav.html": ["Tableau de bord", "Navigation principale"],
    "templates/_macros/forms.html": [
        ("Le formulaire contient %(count)s erreur", "Le formulaire contient %(count)s erreurs"),
        "Le formulaire a expiré : rechargez la page et recommencez.",
        "(obligatoire)",
    ],
    "templates/_macros/ui.html": ["Pagination", "Page %(current)s sur %(total)s", "Page suivante"],
    "templates/main/staff_dashboard.html": [
        "Tableau de bord du CDG",
        (
            "<strong>%(count)s</strong> décision d'affiliation en attente.",
            "<strong>%(count)s</strong> décisions d'affiliation en attente.",
        ),
    ],
    "templates/main/secretary_dashboard.html": [
        "Faite",
        'À faire<span class="visually-hidden"> pour %(name)s</span>',
        ("Vous gérez %(count)s collectivité.", "Vous gérez %(count)s collectivités."),
    ],
    "templates/registry/_list.html": [
        ("%(total)s résultat, %(first)s à %(last)s affichés.", "%(total)s résultats, %(first)s à %(last)s affichés."),
        "Aucune collectivité ne correspond à ces critères.",
    ],
    "templates/registry/show.html": [("Code postal", "Codes postaux"), "Effectifs déclarés"],
    "templates/affiliation/queue.html": ["Aucune décision en attente."],
    "templates/accounts/profile.html": ["Mandat"],
    "templates/errors/error.html": ["Code de l'erreur : %(code)s"],
    "templates/emails/password_reset.txt": ["Bonjour %(name)s,"],
    "templates/emails/password_reset.subject.txt": ["Réinitialisation de votre mot de passe"],
    "portal/affiliation/forms.py": ["Indiquez la référence de la délibération.", "Date d'effet"],
    "portal/registry/forms.py": ["Tous les statuts", "Non déterminé", "Indiquez un nombre entier entre 0 et 100 000."],
    "portal/registry/views.py": ["Tous les EPCI", "La déclaration d'effectifs %(year)s de %(name)s est enregistrée."],
    "portal/accounts/forms.py": ["Adresse électronique", "Saisissez votre mot de passe."],
    "portal/accounts/views.py": ["Bienvenue, %(name)s.", "Vous êtes déconnecté."],
    "portal/affiliation/views.py": ["Décision enregistrée : %(note)s"],
    # Label tables (portal/common/labels.py): N_ and Nn_ are extraction keywords.
    "portal/workqueue/rules.py": [
        ("Demande d'accès", "Demandes d'accès"),
        ("Place proposée qui expire sous 24 h", "Places proposées qui expirent sous 24 h"),
    ],
    "portal/registry/kinds.py": [
        "Communauté de communes",
        "Établissement public départemental ou interdépartemental (SDIS…)",
    ],
    "portal/audit/labels.py": ["Connexion refusée", "Jeton d'API révoqué", "Autre événement"],
    "portal/affiliation/rules.py": [
        "À déterminer (aucune déclaration d'effectifs)",
        "Un établissement public départemental ou interdépartemental (un SDIS, par exemple) n'est jamais affilié "
        "d'office",
    ],
    "portal/catalogue/rules.py": ["Taux de la masse salariale (%)", "Nombre d'élèves", "le nombre de jours"],
    "portal/notifications/categories.py": ["Formations des élus"],
    "portal/notifications/views.py": ["Réinitialisation du mot de passe", "En échec"],
    "portal/subscriptions/rules.py": ["Informations demandées", "Retirer la demande"],
    "portal/api/validation.py": ["Doit être supérieur ou égal à {ge}."],
    "portal/training/exports.py": ["Position en liste d'attente", "Part commune (€)"],
    "portal/registry/exports.py": ["Statut d'affiliation"],
    "portal/common/errors.py": [
        "Page introuvable",
        "Méthode non autorisée",
        "Erreur interne",
        "Service indisponible",
        "Trop de tentatives",
        "Formulaire expiré",
    ],
}


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_extraction_finds_the_marked_strings(catalog, source):
    found = _files_by_msgid(catalog)
    missing = [msgid for msgid in EXPECTED[source] if source not in found.get(msgid, set())]
    assert not missing, f"not extracted from {source}: {missing}"


def test_extracted_messages_are_clean(catalog):
    """No stray whitespace or line breaks in a msgid (a multi-line trans block needs ``trimmed``)."""
    bad = []
    for message in catalog:
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            if text and (text != text.strip() or "\n" in text):
                bad.append((text, message.locations))
    assert not bad, bad


# --- Guard: no unmarked text in the HTML templates -------------------------------------------------------------

# Texts that contain letters but are not language. Keep it tiny; brand and acronyms are marked too.
ALLOWED_TEXT: frozenset[str] = frozenset()
# Attributes that a user reads or hears.
TEXT_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")

_LETTER = re.compile(r"[^\W\d_]")
_REMOVED = [
    re.compile(r"\{#.*?#\}", re.S),
    re.compile(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", re.S),
    re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I),
    re.compile(r"\{\{.*?\}\}", re.S),
    re.compile(r"\{%.*?%\}", re.S),
]


def _blank(match: re.Match) -> str:
    """Replace a removed part by its line breaks, so that line numbers stay right."""
    return "\n" * match.group(0).count("\n")


class _TextFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []

    def _report(self, line: int, text: str, attribute: str | None = None) -> None:
        text = " ".join(text.split())
        if _LETTER.search(text) and text not in ALLOWED_TEXT:
            self.found.append((line, f'{attribute}="{text}"' if attribute else text))

    def handle_data(self, data):
        line = self.getpos()[0] + data[: len(data) - len(data.lstrip())].count("\n")
        self._report(line, data)

    def handle_starttag(self, tag, attrs):
        shown = set(TEXT_ATTRIBUTES)
        if tag == "input" and dict(attrs).get("type") in ("submit", "button", "reset"):
            shown.add("value")  # the label of an input button (a <button>'s value is never shown)
        for name, value in attrs:
            if name in shown and value:
                self._report(self.getpos()[0], value, name)


def untranslated_text(source: str) -> list[tuple[int, str]]:
    """(line, text) of each piece of text a reader would see that is not inside a translation call or block."""
    for pattern in _REMOVED:
        source = pattern.sub(_blank, source)
    finder = _TextFinder()
    finder.feed(source)
    finder.close()
    return finder.found


HTML_TEMPLATES = sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", HTML_TEMPLATES, ids=[str(p.relative_to(TEMPLATES)) for p in HTML_TEMPLATES])
def test_template_text_is_marked_for_translation(path):
    found = untranslated_text(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT)
    assert not found, "text not marked for translation:\n" + "\n".join(f"  {where}:{n}: {t}" for n, t in found)


def test_guard_finds_unmarked_text():
    """The guard can fail: unmarked text, even next to marked text or in an attribute, is reported with its line."""
    source = (
        '<p>{{ _("Marqué") }}</p>\n'
        "<p>Bonjour {{ name }}</p>\n"
        '<nav aria-label="Fermer"><a href="{{ url }}">›</a></nav>\n'
        "{% if x %}<strong>Attention</strong>{% endif %}\n"
        '<input type="submit" value="Envoyer"><button type="submit" name="ouvrir" value="oui">›</button>\n'
    )
    assert untranslated_text(source) == [
        (2, "Bonjour"),
        (3, 'aria-label="Fermer"'),
        (4, "Attention"),
        (5, 'value="Envoyer"'),
    ]


def test_guard_accepts_marked_text_symbols_and_code():
    source = (
        '{# Un commentaire #}<p class="x">{{ _("Texte") }} — {{ n }} ›</p>\n'
        "{% trans count=n %}{{ count }} erreur{% pluralize %}{{ count }} erreurs{% endtrans %}\n"
        "{% trans name=a %}Bonjour\n<strong>{{ name }}</strong>{% endtrans %} ▲ ▼ (1) : 42\n"
        '<nav aria-label="{{ _(\'Pages\') }}"></nav><script>var ok = "texte";</script><style>p { color: red }</style>\n'
    )
    assert untranslated_text(source) == []


# Literal strings that a template prints from an expression, e.g. {{ 'Mon profil' if ... else ... }}.
# A heuristic: a literal counts as text when it has a space, a non-ASCII letter or a capital initial, which
# leaves out the keys and CSS classes templates compare and print ('desc', 'indetermine', 'page').
_WORDY = re.compile(r"\s|[^\x00-\x7f]|^[A-Z]")


def _printed_literals(expr):
    if isinstance(expr, nodes.Const) and isinstance(expr.value, str):
        yield expr
    elif isinstance(expr, nodes.CondExpr):
        yield from _printed_literals(expr.expr1)
        if expr.expr2 is not None:
            yield from _printed_literals(expr.expr2)
    elif isinstance(expr, (nodes.Or, nodes.And)):
        yield from _printed_literals(expr.left)
        yield from _printed_literals(expr.right)
    elif isinstance(expr, nodes.Concat):
        for node in expr.nodes:
            yield from _printed_literals(node)
    elif isinstance(expr, nodes.Filter) and expr.node is not None:
        yield from _printed_literals(expr.node)


def unmarked_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of the string literals printed by ``{{ }}`` without a translation call around them."""
    tree = Environment(extensions=["jinja2.ext.i18n"], autoescape=True).parse(source)  # parsed, never rendered
    return [
        (literal.lineno, literal.value)
        for output in tree.find_all(nodes.Output)
        for child in output.nodes
        if not isinstance(child, nodes.TemplateData)
        for literal in _printed_literals(child)
        if _LETTER.search(literal.value) and _WORDY.search(literal.value)
    ]


ALL_TEMPLATES = sorted([*TEMPLATES.rglob("*.html"), *TEMPLATES.rglob("*.txt")])


@pytest.mark.parametrize("path", ALL_TEMPLATES, ids=[str(p.relative_to(TEMPLATES)) for p in ALL_TEMPLATES])
def test_template_expressions_print_no_unmarked_literal(path):
    found = unmarked_literals(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT)
    assert not found, "literal not marked for translation:\n" + "\n".join(f"  {where}:{n}: {t!r}" for n, t in found)


def test_literal_guard_finds_unmarked_literals():
    source = (
        "<a>{{ _('Collectivités') if staff else 'Mon profil' }}</a>\n"
        "<td>{{ user.name or 'Démonstration' }}</td><td>{{ x or '—' }}</td>\n"
        '<input name="ordre" value="{{ \'desc\' if d else \'asc\' }}">{{ _("Décision prise") }}\n'
    )
    assert unmarked_literals(source) == [(1, "Mon profil"), (2, "Démonstration")]


# --- Rendering: what the French reader sees did not change --------------------------------------------------------


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from portal import create_app

    folder = tmp_path_factory.mktemp("i18n-app")
    environ = {
        "PORTAL_ENV": "testing",
        "DATABASE_URL": f"sqlite:///{folder / 'portal.sqlite3'}",
        "CELERY_BROKER_URL": "memory://",
    }
    return create_app({"ENVIRON": environ})


def test_lazy_labels_hints_and_errors_stay_escaped(app):
    from portal.affiliation.forms import DecisionForm

    with app.test_request_context(method="POST", data={"deliberation_ref": "", "effective_date": ""}):
        form = DecisionForm()
        form.validate()
        html = app.jinja_env.from_string(
            '{% from "_macros/forms.html" import field, error_summary %}'
            "{{ error_summary(form) }}{{ field(form.effective_date) }}"
        ).render(form=form)
    assert "Le formulaire contient 3 erreurs" in html
    assert "Date d&#39;effet : Indiquez la date d&#39;effet (jj/mm/aaaa).</a>" in html
    assert '<label for="effective_date">Date d&#39;effet <span class="required">(obligatoire)</span></label>' in html
    assert "le nouveau statut s&#39;applique.</p>" in html
    assert "Date d'effet" not in html


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "<strong>0</strong> décision d'affiliation en attente."),  # French: the singular for 0 too
        (1, "<strong>1</strong> décision d'affiliation en attente."),
        (2, "<strong>2</strong> décisions d'affiliation en attente."),
    ],
)
def test_plurals_follow_the_count(app, count, expected):
    with app.test_request_context():
        html = app.jinja_env.from_string(
            "{% trans count=n %}<strong>{{ count }}</strong> décision d'affiliation en attente."
            "{% pluralize %}<strong>{{ count }}</strong> décisions d'affiliation en attente.{% endtrans %}"
        ).render(n=count)
    assert html == expected  # the literal text renders exactly as when it was written inline


def test_error_pages_are_plain_french_text(app):
    from portal.common.errors import ERROR_PAGES, render_error

    assert ERROR_PAGES[404][0] == "Page introuvable"
    with app.test_request_context():
        body, code = render_error(404)
    assert code == 404 and "<h1>Page introuvable</h1>" in body
    assert "La page demandée n&#39;existe pas, ou vous n&#39;y avez pas accès." in body


def test_fast_integer_formatting_matches_babel():
    from babel.numbers import format_decimal

    from portal.common.templating import _number

    for value in (0, 7, 999, 1000, 17328, 32801, 1_234_567, -4500):
        assert _number(value) == format_decimal(value, locale="fr_FR"), value


# --- Python: the messages built in code go through gettext like the templates ------------------------------------

PORTAL = ROOT / "portal"

# The calls whose message argument a person reads: a refused action (domain errors and the exceptions that carry a
# message to a page: a refused link, an unreadable import file, a number not understood, a rate above its cap), a
# form error, a flashed message. Their message must be a gettext call (``_``, ``_l``, ``ngettext``…) or a value
# built elsewhere, never French text written in place.
MESSAGE_SINKS = {
    "DomainError",
    "ConflictError",
    "LinkRefused",
    "ImportFileError",
    "RneFileError",
    "InvalidNumber",
    "RateTooHigh",
    "ValidationError",
    "flash",
}
# (file relative to the repository root, line text) of a sink that must keep literal text; none today.
SINK_ALLOWED: set[tuple[str, str]] = set()


def _literal_text(node: ast.AST) -> bool:
    """True when the expression is text written in place: a literal, an f-string, a ``+``/``%`` of one, or a
    ``"...".format(...)`` — what extraction cannot see or a translator cannot translate as one sentence."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(node.value.strip())
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _literal_text(node.left) or _literal_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal_text(node.func.value)
    if isinstance(node, ast.IfExp):
        return _literal_text(node.body) or _literal_text(node.orelse)
    return False


def _sink_name(call: ast.Call) -> str | None:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name if name in MESSAGE_SINKS else None


def untranslated_messages(source: str) -> list[tuple[int, str]]:
    """(line, sink) of each message sink called with literal text instead of a gettext call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not (sink := _sink_name(node)):
            continue
        message = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "message"), None)
        if message is not None and _literal_text(message):
            found.append((node.lineno, sink))
    return found


PYTHON_SOURCES = sorted(PORTAL.rglob("*.py"))


@pytest.mark.parametrize("path", PYTHON_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_python_messages_go_through_gettext(path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    relative = str(path.relative_to(ROOT))
    found = [
        f"{relative}:{line}: {sink}({lines[line - 1].strip()}"
        for line, sink in untranslated_messages(source)
        if (relative, lines[line - 1].strip()) not in SINK_ALLOWED
    ]
    assert not found, "Message written in place instead of _()/_l()/ngettext():\n" + "\n".join(found)


def test_message_guard_finds_literal_text():
    source = (
        'raise DomainError("Choisissez une formation.", "training_id")\n'
        'raise ConflictError(f"La session {name} est complète.")\n'
        'flash("Enregistré.", "success")\n'
        'raise ValidationError("Trop court : " + hint)\n'
        'raise DomainError(message="Refusé {}".format(why))\n'
        'errors.DomainError("Déjà fait." if done else "Impossible.")\n'
    )
    assert untranslated_messages(source) == [
        (1, "DomainError"),
        (2, "ConflictError"),
        (3, "flash"),
        (4, "ValidationError"),
        (5, "DomainError"),
        (6, "DomainError"),
    ]


def test_message_guard_accepts_gettext_and_built_messages():
    source = (
        'raise DomainError(_("Choisissez une formation."), "training_id")\n'
        'raise ConflictError(_("La session %(name)s est complète.", name=name))\n'
        'flash(ngettext("%(num)s élu inscrit.", "%(num)s élus inscrits.", count), "success")\n'
        "raise ValidationError(problem)\n"
        'flash(exc.message, "error")\n'
        "raise ValidationError()\n"
    )
    assert untranslated_messages(source) == []


# --- Python: label tables are marked for extraction and translated when read ---------------------------------------

# portal/common/labels.py: the table class and the marker of its values.
LABEL_TABLES = {"Labels": "N_", "PluralLabels": "Nn_"}


# The texts of a chart (portal.common.charts): its title and its summary (the text alternative), each series' name
# (the legend), read on /statistiques and in the activity report. Field → position in the constructor.
CHART_TEXTS = {"Chart": {"title": 1, "summary": 2}, "Series": {"name": 0}}


def untranslated_chart_texts(source: str) -> list[tuple[int, str, str]]:
    """(line, constructor, field) of each chart text written in place instead of a gettext call."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or (name := _called(node)) not in CHART_TEXTS:
            continue
        for field, position in CHART_TEXTS[name].items():
            value = node.args[position] if len(node.args) > position else None
            value = next((k.value for k in node.keywords if k.arg == field), value)
            if value is not None and _literal_text(value):
                found.append((node.lineno, name, field))
    return found


@pytest.mark.parametrize("path", PYTHON_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_chart_texts_go_through_gettext(path):
    relative = str(path.relative_to(ROOT))
    found = [
        f"{relative}:{line}: {name}({field}=...)"
        for line, name, field in untranslated_chart_texts(path.read_text(encoding="utf-8"))
    ]
    assert not found, "Chart text written in place, not through gettext:\n" + "\n".join(found)


def test_chart_guard_finds_literal_texts():
    source = (
        'Chart(key="a", title="Effectifs par année", summary=_("Résumé"), categories=(), series=())\n'
        'charts.Chart("b", _("Titre"), f"En {year}, rien.", (), ())\n'
        'Series("Communes", (1, 2))\n'
        'Series(name="Ont répondu" if x else _("Autre"), values=())\n'
        'Chart(key="c", title=_("Titre"), summary=summary, categories=(), series=(Series(str(year), ()),))\n'
        "Series(_(label), ())\n"
    )
    assert untranslated_chart_texts(source) == [
        (1, "Chart", "title"),
        (2, "Chart", "summary"),
        (3, "Series", "name"),
        (4, "Series", "name"),
    ]


def _called(node: ast.AST) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _is_label_table_name(name: str | None) -> bool:
    return name is not None and (name == "LABELS" or name.endswith("_LABELS"))


# A spreadsheet's header: its column names are marked with N_ and read with ``translated()``, or are the stable
# snake_case keys of a file read by software.
_MACHINE_KEY = re.compile(r"[a-z0-9_]+")
# (file, name) of a header that keeps its text as published: the open data file's columns are part of its format.
HEADERS_ALLOWED = {("portal/opendata/services.py", "HEADER")}


def unmarked_labels(source: str) -> list[tuple[int, str, str]]:
    """(line, name, problem) of each module-level label table whose text extraction would miss or gettext never
    read: a ``LABELS``/``*_LABELS`` that is not a ``Labels``/``PluralLabels`` (a plain dict, a dict of ``_l``…), a
    value of such a table written otherwise than through the table's marker (``N_``, ``Nn_``), a column name of a
    ``*HEADER`` tuple or list not marked with ``N_``. A value that names a constant (``OTHER``, ``rules.X``) is a
    msgid marked where it is written."""
    found = []
    for statement in ast.parse(source).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        name = target.id if isinstance(target, ast.Name) else None
        if name and name.endswith("HEADER") and isinstance(value, ast.Tuple | ast.List):
            for item in value.elts:
                machine_key = isinstance(item, ast.Constant) and _MACHINE_KEY.fullmatch(str(item.value))
                if _called(item) != "N_" and not machine_key and not isinstance(item, ast.Name | ast.Attribute):
                    found.append((item.lineno, name, "a column name not marked with N_()"))
            continue
        table = _called(value)
        if table not in LABEL_TABLES:
            if _is_label_table_name(name):
                found.append((statement.lineno, name, "not a Labels(...) table"))
            continue
        mapping = value.args[0] if value.args else None
        if not isinstance(mapping, ast.Dict):
            found.append((statement.lineno, name, f"{table}() takes a dict written in place"))
            continue
        marker = LABEL_TABLES[table]
        for item in mapping.values:
            if _called(item) != marker and not isinstance(item, ast.Name | ast.Attribute):
                found.append((item.lineno, name, f"a value not marked with {marker}()"))
    return found


@pytest.mark.parametrize("path", PYTHON_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_label_tables_are_marked_for_translation(path):
    relative = str(path.relative_to(ROOT))
    found = [
        f"{relative}:{line}: {name}: {problem}"
        for line, name, problem in unmarked_labels(path.read_text(encoding="utf-8"))
        if (relative, name) not in HEADERS_ALLOWED
    ]
    assert not found, "Label table not marked for translation (portal/common/labels.py):\n" + "\n".join(found)


def test_label_guard_finds_unmarked_tables():
    source = (
        'STATE_LABELS = {"open": "En cours"}\n'
        'LABELS: dict[str, str] = {"a": N_("Marqué mais jamais traduit")}\n'
        'ROLE_LABELS = {"staff": _l("Agent du CDG")}\n'
        'KIND_LABELS = Labels({"a": N_("Marqué"), "b": "Oublié",\n'
        '    "c": f"Calculé {x}", "d": _("Traduit une fois, à l\'import")})\n'
        'QUEUE = PluralLabels({"a": ("Un", "Des"), "b": Nn_("Une", "Des"), "c": N_("Un seul")})\n'
        "OTHER_LABELS = Labels(dict(BASE))\n"
        'HEADER = (N_("Nom"), "Type", N_("Code INSEE"), _("Traduit à l\'import"))\n'
        'PARTICIPANTS_HEADER = [\n    N_("Élu"),\n    "Statut",\n]\n'
    )
    assert unmarked_labels(source) == [
        (1, "STATE_LABELS", "not a Labels(...) table"),
        (2, "LABELS", "not a Labels(...) table"),
        (3, "ROLE_LABELS", "not a Labels(...) table"),
        (4, "KIND_LABELS", "a value not marked with N_()"),
        (5, "KIND_LABELS", "a value not marked with N_()"),
        (5, "KIND_LABELS", "a value not marked with N_()"),
        (6, "QUEUE", "a value not marked with Nn_()"),
        (6, "QUEUE", "a value not marked with Nn_()"),
        (7, "OTHER_LABELS", "Labels() takes a dict written in place"),
        (8, "HEADER", "a column name not marked with N_()"),
        (8, "HEADER", "a column name not marked with N_()"),
        (11, "PARTICIPANTS_HEADER", "a column name not marked with N_()"),
    ]


def test_label_guard_accepts_marked_tables():
    source = (
        'STATE_LABELS = Labels({State.OPEN: N_("En cours"), State.CLOSED: N_("Close")})\n'
        'KIND_LABELS: Labels[Kind] = Labels({Kind.A: N_("Un texte "\n    "sur deux lignes")})\n'
        'QUEUE = PluralLabels({"a": Nn_("Demande", "Demandes")})\n'
        'ALIAS_LABELS = Labels({"a": OTHER_MSGID, "b": rules.MSGID})\n'
        'ROLE_NAMES = {"staff": _l("Agent du CDG")}\n'
        'HEADER = (N_("Nom"), N_("Type"))\n'
        'CSV_HEADER = ["code", "nom", "acompte_echeance"]\n'  # a machine file's stable keys
        'HEADERS = ("Nom", "Type")\n'  # not a header by its name: the guard reads names
    )
    assert unmarked_labels(source) == []


def test_label_tables_are_found():
    """The guard sees the portal's tables: each module-level Labels/PluralLabels, whatever its name."""
    tables = [
        statement
        for path in PYTHON_SOURCES
        for statement in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(statement, ast.Assign | ast.AnnAssign) and _called(statement.value) in LABEL_TABLES
    ]
    assert len(tables) >= 37, len(tables)


def test_python_messages_need_no_app_context():
    """Pure rules build their messages outside any application (unit tests, Celery before the app is pushed):
    Flask-Babel's gettext then falls back to the source text, which is the French."""
    from flask import has_app_context

    from portal.subscriptions.rules import earliest_end

    assert not has_app_context()
    assert earliest_end(date(2026, 11, 28), 3).explanation == (
        "Préavis de 3 mois : fin possible au plus tôt le 28 février 2027."
    )


def test_domain_errors_carry_plain_text(app):
    """A lazy message is rendered when the error is raised: ``message`` is a ``str`` that JSON serialises."""
    import json

    from flask_babel import lazy_gettext

    from portal.common.errors import DomainError

    error = DomainError(lazy_gettext("Choisissez une formation."), "training_id")
    assert type(error.message) is str and str(error) == "Choisissez une formation."
    with app.test_request_context():
        translated = DomainError(_gettext("Le compte %(email)s est déjà actif.", email="a@b.fr"))
    assert json.dumps({"detail": translated.message}, ensure_ascii=False) == (
        '{"detail": "Le compte a@b.fr est déjà actif."}'
    )


# --- Plurals: French for every count, from the catalogue (portal/common/i18n.py) ----------------------------------

# A message of the sources (the staff digest's subject), hence of the catalogue.
ITEMS = ("%(num)d nouvel élément à traiter", "%(num)d nouveaux éléments à traiter")
FRENCH_FORMS = {0: "0 nouvel élément à traiter", 1: "1 nouvel élément à traiter", 2: "2 nouveaux éléments à traiter"}


def test_python_plurals_are_french_without_an_application():
    """Pure rules, their unit tests, a Celery task or a command before the app is pushed: no application context,
    where Flask-Babel's own ngettext falls back to English ("0 éléments")."""
    from flask import has_app_context

    from portal.common.i18n import ngettext

    assert not has_app_context()
    assert {n: ngettext(*ITEMS, n) for n in FRENCH_FORMS} == FRENCH_FORMS
    # A pair the catalogue does not hold follows the French rule as well.
    assert [ngettext("Pièce jointe absente", "Pièces jointes absentes", n) for n in (0, 1, 2)] == [
        "Pièce jointe absente",
        "Pièce jointe absente",
        "Pièces jointes absentes",
    ]


def test_python_plurals_are_french_within_a_request(app):
    """The same within a request, and Flask-Babel's ngettext agrees: it reads the same catalogue."""
    import flask_babel

    from portal.common.i18n import ngettext

    with app.test_request_context():
        assert {n: ngettext(*ITEMS, n) for n in FRENCH_FORMS} == FRENCH_FORMS
        assert {n: flask_babel.ngettext(*ITEMS, n) for n in FRENCH_FORMS} == FRENCH_FORMS


def test_python_gettext_is_flask_babels_without_its_lookup(app):
    """``gettext`` and ``lazy_gettext`` of the portal give Flask-Babel's text, variables included, in a request and
    with no context at all; a lazy text is read when it is used, not when it is defined."""
    import flask_babel
    from flask import has_app_context

    from portal.common.i18n import gettext, lazy_gettext

    assert not has_app_context()
    label = lazy_gettext("Le compte %(email)s est déjà actif.", email="a@b.fr")
    assert gettext("Nom") == "Nom" and str(label) == "Le compte a@b.fr est déjà actif."
    with app.test_request_context():
        assert str(label) == flask_babel.gettext("Le compte %(email)s est déjà actif.", email="a@b.fr")
        assert gettext("Taux : 12 %%") == flask_babel.gettext("Taux : 12 %%") == "Taux : 12 %%"
        assert gettext("%(n)s %%", n=3) == flask_babel.gettext("%(n)s %%", n=3) == "3 %"
    calls = []
    from portal.common import i18n

    original = i18n.translations
    try:
        i18n.translations = lambda: calls.append(1) or original()
        later = lazy_gettext("Type")
        assert calls == []
        assert f"{later}" == "Type" and calls == [1]
    finally:
        i18n.translations = original


def test_flask_babel_reads_the_portal_catalogue(app):
    from portal.common import i18n

    babel = app.extensions["babel"]
    assert babel.translation_directories == [str(i18n.TRANSLATIONS_DIR)]
    assert babel.default_locale == i18n.LOCALE


@pytest.mark.parametrize("count", [0, 1, 2])
def test_templates_plurals_are_french_without_a_request(app, count):
    """Jinja holds the catalogue read once per process, not Flask-Babel's per-request lookup: the same French
    plurals in a page, an email rendered by a worker, or with no context at all; ``ngettext()`` as
    ``{% pluralize %}``."""
    expected = FRENCH_FORMS[count]
    source = (
        '{{ ngettext("%(num)d nouvel élément à traiter", "%(num)d nouveaux éléments à traiter", n) }}|'
        "{% trans count=n %}{{ count }} nouvel élément à traiter{% pluralize %}{{ count }} nouveaux éléments à "
        "traiter{% endtrans %}"
    )
    assert app.jinja_env.from_string(source).render(n=count) == f"{expected}|{expected}"
    with app.app_context():
        assert app.jinja_env.from_string(source).render(n=count) == f"{expected}|{expected}"


def test_python_code_takes_gettext_from_the_portal():
    """Flask-Babel's ``ngettext`` is English outside an application context (a rule's unit test, a task before the
    app is pushed), and its ``gettext`` looks the request's translations up on every call: the portal's code takes
    them from ``portal.common.i18n``."""
    english_plurals = {"gettext", "lazy_gettext", "ngettext", "lazy_ngettext", "npgettext", "pgettext"}
    found = []
    for path in PYTHON_SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                found += [f"{path.relative_to(ROOT)}:{node.lineno}" for a in node.names if a.name in english_plurals]
    assert not found, "import gettext and ngettext from portal.common.i18n, not flask_babel:\n" + "\n".join(found)


def _read_po():
    from portal.common import i18n

    with i18n.PO_FILE.open("rb") as fileobj:
        return read_po(fileobj, locale=i18n.LOCALE)


def test_the_catalogue_holds_every_plural_message_of_the_sources(catalog):
    """Every ``ngettext``/``{% pluralize %}`` of the sources is in the French catalogue, translated by itself in
    French order, and nothing else is: a plural missing from it would be English for 0 in Flask-Babel's
    ``ngettext``. ``make translations`` rewrites it."""
    from portal.common import i18n

    po = _read_po()
    wanted = i18n.plural_messages(catalog)
    held = {(tuple(m.id) if m.pluralizable else m.id): m for m in po if m.id}
    hint = " — run `make translations`"
    assert po.plural_forms == "nplurals=2; plural=(n > 1);"
    assert not wanted.keys() - held.keys(), f"missing from the catalogue{hint}: {sorted(wanted.keys() - held.keys())}"
    assert not held.keys() - wanted.keys(), f"no longer in the sources{hint}: {sorted(held.keys() - wanted.keys())}"
    wrong = [key for key, message in held.items() if tuple(message.string) != key or message.fuzzy]
    assert not wrong, f"msgstr[0] must be the msgid, msgstr[1] the plural{hint}: {wrong}"


def test_the_compiled_catalogue_matches_its_source():
    """The committed .mo is the .po compiled (``make translations`` writes both)."""
    import gettext
    from io import BytesIO

    from babel.messages.mofile import write_mo

    from portal.common import i18n

    compiled = BytesIO()
    write_mo(compiled, _read_po())
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)
    with i18n.MO_FILE.open("rb") as fileobj:
        committed = gettext.GNUTranslations(fileobj)
    assert committed.info()["plural-forms"] == expected.info()["plural-forms"] == "nplurals=2; plural=(n > 1);"
    content = {key: text for key, text in expected._catalog.items() if key != ""}
    assert {key: text for key, text in committed._catalog.items() if key != ""} == content, "run make translations"
    assert content  # the plural messages are there


def test_make_translations_extracts_as_these_tests_do():
    from portal.common import i18n

    assert i18n.EXTRACT_ARGS == EXTRACT_ARGS
