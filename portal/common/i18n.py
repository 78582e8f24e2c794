"""The portal's French catalogue, and plurals that follow French grammar in every context.

The source language is French: msgids are the text shown, and gettext returns them unchanged. What French
needs from gettext is its plural rule, singular for 0 and 1 (``Plural-Forms: nplurals=2; plural=(n > 1);``,
GNU gettext's rule for French): without a catalogue, gettext applies English's ``n == 1`` and writes
"0 éléments". The catalogue ``portal/translations/fr/LC_MESSAGES/messages.po`` carries that rule and every
plural message of the sources (msgstr[0] = msgid, msgstr[1] = msgid_plural); its compiled ``messages.mo`` is
committed next to it, so that a clean clone, ``make run``, ``make test`` and the Docker image have it without a
build step. ``make translations`` writes both from the sources; ``tests/unit/test_i18n.py`` fails when they lag
behind.

* Flask-Babel is given the same directory (``create_app``), for ``gettext``/``lazy_gettext`` within an
  application context.
* Jinja is given :func:`translations`, loaded once per process: the portal has a single locale, so templates skip
  Flask-Babel's per-call lookup of the request's translations (80 to 100 calls a page).
* Label tables (``portal.common.labels``: statuses, kinds, export headers) read :func:`translations` as the
  templates do; their plural labels (``Nn_``) are plural messages of the catalogue.
* Python code takes :func:`gettext`, :func:`lazy_gettext` and :func:`ngettext` from here, never Flask-Babel's:
  outside an application context (pure rules, their unit tests, a Celery task or a command before the app is
  pushed) Flask-Babel falls back to English plurals, and within one it looks the request's translations up on
  every call.
"""

from __future__ import annotations

import contextlib
import gettext
import sys
import tempfile
import tomllib
from functools import cache
from pathlib import Path

from babel import support
from flask_babel.speaklater import LazyString

from portal.common.clock import PARIS, utcnow

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
PROJECT_ROOT = PACKAGE_ROOT.parent
TRANSLATIONS_DIR = PACKAGE_ROOT / "translations"
LOCALE = "fr"
DOMAIN = "messages"
PO_FILE = TRANSLATIONS_DIR / LOCALE / "LC_MESSAGES" / f"{DOMAIN}.po"
MO_FILE = PO_FILE.with_suffix(".mo")
PLURAL_FORMS = "nplurals=2; plural=(n > 1);"

# The extraction documented in babel.cfg (tests/unit/test_i18n.py extracts with the same arguments).
EXTRACT_ARGS = ["-F", "babel.cfg", "-k", "_l", "-k", "N_", "-k", "Nn_:1,2", "--ignore-dirs", ".* __pycache__"]


class _SourceText(gettext.NullTranslations):
    """A message the catalogue does not hold is its own French text; its plural follows the catalogue's rule, not
    gettext's English default (for a pair that extraction cannot see, such as one built at run time)."""

    def __init__(self, plural):
        super().__init__()
        self.plural = plural

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return msgid2 if self.plural(n) else msgid1

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return self.ngettext(msgid1, msgid2, n)


@cache
def translations() -> support.Translations:
    """The French catalogue, read once per process."""
    loaded = support.Translations.load(str(TRANSLATIONS_DIR), [LOCALE], DOMAIN)
    if not isinstance(loaded, support.Translations):
        # Without it every plural would be English ("0 éléments"): better not to start.
        raise RuntimeError(f"Catalogue introuvable : {MO_FILE} (make translations le produit).")
    loaded.add_fallback(_SourceText(loaded.plural))
    return loaded


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext`` for the portal's single locale: the catalogue read once per process instead of
    Flask-Babel's lookup of the request's translations on every call (forms read their labels and choices tens of
    times a page). The same text in a page, a worker or a command."""
    text = translations().gettext(string)
    return text % variables if variables else text


def lazy_gettext(string: str, **variables) -> LazyString:
    """:func:`gettext` when the text is read (form labels and choices, messages defined at import time)."""
    return LazyString(gettext, string, **variables)


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's ``ngettext`` with French plurals in every context: "%(num)s élément" for 0 and 1, the plural
    from 2. ``num`` is an integer (gettext's rule takes one): for a decimal quantity, :func:`plural_count`."""
    variables.setdefault("num", num)
    return translations().ngettext(singular, plural, num) % variables


def plural_count(quantity) -> int:
    """The integer that chooses the form of a decimal quantity: its integer part, which is what French looks at
    (CLDR: "0,5 jour", "1,5 jour", "2,5 jours")."""
    return int(abs(quantity))


# make translations ---------------------------------------------------------------------------------------------


def plural_messages(extracted) -> dict[tuple[str, str], object]:
    """The plural messages of an extracted catalogue (a ``babel.messages.Catalog``), by (msgid, msgid_plural)."""
    return {tuple(message.id): message for message in extracted if message.id and message.pluralizable}


def build_catalogue(extracted):
    """The French catalogue for the sources' plural messages: each translated by itself, forms in French order."""
    from babel.messages.catalog import Catalog

    with (PROJECT_ROOT / "pyproject.toml").open("rb") as fileobj:
        project = tomllib.load(fileobj)["project"]
    catalogue = Catalog(
        locale=LOCALE,
        domain=DOMAIN,
        project=project["name"],
        version=project["version"],
        header_comment=(
            "# Catalogue français du Portail CDG, écrit par `make translations` (portal/common/i18n.py) : ne pas\n"
            "# le modifier à la main. La langue source est le français : chaque msgstr répète son msgid. Le\n"
            "# catalogue porte la règle de pluriel du français (0 et 1 au singulier) et les messages au pluriel."
        ),
        last_translator="make translations",
        language_team="fr",
        fuzzy=False,
    )
    # GNU gettext's rule for French. Babel's, from CLDR, adds a third form for exact millions ("1 million de
    # personnes"), which concerns numbers written in words; the portal writes them in digits.
    catalogue.mime_headers = [("Plural-Forms", PLURAL_FORMS)]
    for key, message in sorted(plural_messages(extracted).items()):
        # File names without line numbers: moving a message within its file leaves the catalogue alone.
        files = sorted({filename for filename, _line in message.locations})
        catalogue.add(key, string=key, locations=[(filename, None) for filename in files], flags=message.flags)
    return catalogue


def _same_messages(one, other) -> bool:
    def content(catalogue):
        return {
            (tuple(m.id) if m.pluralizable else m.id): (m.string, tuple(sorted(m.locations))) for m in catalogue if m.id
        }

    return one.plural_forms == other.plural_forms and content(one) == content(other)


def extract():
    """The sources' messages, extracted as babel.cfg documents it."""
    from babel.messages.frontend import CommandLineInterface
    from babel.messages.pofile import read_po

    with tempfile.TemporaryDirectory() as folder, contextlib.chdir(PROJECT_ROOT):
        pot = Path(folder) / "messages.pot"
        CommandLineInterface().run(["pybabel", "--quiet", "extract", *EXTRACT_ARGS, "-o", str(pot), "."])
        with pot.open("rb") as fileobj:
            return read_po(fileobj)


def update() -> tuple[bool, int]:
    """Write the catalogue and its compiled form from the sources: whether they changed, and the number of plural
    messages."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    wanted = build_catalogue(extract())
    if PO_FILE.exists() and MO_FILE.exists():
        with PO_FILE.open("rb") as fileobj:
            if _same_messages(read_po(fileobj, locale=LOCALE), wanted):
                return False, len(wanted)
    wanted.revision_date = wanted.creation_date = utcnow().astimezone(PARIS)  # the CDG's time, not the server's
    PO_FILE.parent.mkdir(parents=True, exist_ok=True)
    with PO_FILE.open("wb") as fileobj:
        write_po(fileobj, wanted, width=120, include_lineno=False)
    with MO_FILE.open("wb") as fileobj:
        write_mo(fileobj, wanted)
    return True, len(wanted)


if __name__ == "__main__":
    changed, count = update()
    state = "mis à jour" if changed else "déjà à jour"
    sys.stdout.write(f"{PO_FILE.relative_to(PROJECT_ROOT)} : {state} (messages au pluriel : {count}).\n")
