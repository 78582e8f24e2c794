"""Label tables (``portal.common.labels``): marked for extraction, translated when read, always a plain ``str``.

The translation is proved with a real catalogue: a small French ``.mo`` whose translations differ from the msgids,
loaded by Flask-Babel in a bare application, as the portal loads its own.
"""

from __future__ import annotations

import json
from enum import StrEnum

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask import Flask, has_app_context
from flask_babel import Babel, force_locale
from markupsafe import escape

from portal.common.labels import N_, Labels, Nn_, PluralLabels, translated


class State(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    SIGNED = "signed"


class Kind(StrEnum):
    FAILED_EMAIL = "failed_email"
    ACCESS_REQUEST = "access_request"


STATES = Labels({State.OPEN: N_("En cours"), State.CLOSED: N_("Close"), State.SIGNED: N_("Convention d'adhésion")})
KINDS = PluralLabels(
    {
        Kind.FAILED_EMAIL: Nn_("Courriel en échec", "Courriels en échec"),
        Kind.ACCESS_REQUEST: Nn_("Demande d'accès", "Demandes d'accès"),
    }
)
# The singular of a plural label, also read as a plain label elsewhere (one msgid in the catalogue).
FAILED = Labels({"failed": N_("Courriel en échec")})


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A bare Flask application whose French catalogue translates the labels above into marked text."""
    folder = tmp_path_factory.mktemp("labels-translations")
    catalog = Catalog(locale="fr")
    catalog.add("En cours", "Ouverte [traduit]")
    catalog.add("Convention d'adhésion", "Convention <d'adhésion> [traduit]")
    # French has three plural forms in CLDR (the third for "1 000 000 de courriels").
    plurals = ("Un courriel [traduit]", "Un million de courriels [traduit]", "Des courriels [traduit]")
    assert catalog.num_plurals == len(plurals)
    catalog.add(("Courriel en échec", "Courriels en échec"), plurals)
    english = Catalog(locale="en")
    english.add("En cours", "Open [en]")
    for locale, messages in (("fr", catalog), ("en", english)):
        (folder / locale / "LC_MESSAGES").mkdir(parents=True)
        with (folder / locale / "LC_MESSAGES" / "messages.mo").open("wb") as mo:
            write_mo(mo, messages)
    application = Flask(__name__)
    Babel(application, default_locale="fr", default_translation_directories=str(folder))
    return application


def test_markers_return_their_argument_unchanged():
    text = "Affiliation obligatoire"
    assert N_(text) is text
    singular, plural = Nn_("Demande d'accès", "Demandes d'accès")
    assert (singular, plural) == ("Demande d'accès", "Demandes d'accès")


def test_a_label_is_translated_when_read(app):
    with app.test_request_context():
        assert STATES[State.OPEN] == "Ouverte [traduit]"
        assert STATES["open"] == "Ouverte [traduit]"  # a StrEnum key is found by its value too
        assert STATES[State.CLOSED] == "Close"  # not in the catalogue: the msgid, which is the French
        assert STATES.get(State.OPEN) == "Ouverte [traduit]"
        assert dict(STATES.items())[State.OPEN] == "Ouverte [traduit]"
        assert dict(STATES) == {
            State.OPEN: "Ouverte [traduit]",
            State.CLOSED: "Close",
            State.SIGNED: "Convention <d'adhésion> [traduit]",
        }
        assert STATES.msgid(State.OPEN) == "En cours"


def test_a_table_follows_the_locale_and_the_application(app):
    """A table is kept translated per application and locale: another locale, or another application with other
    catalogues, reads its own labels."""
    with app.test_request_context():
        assert STATES[State.OPEN] == "Ouverte [traduit]"
        with force_locale("en"):
            assert STATES[State.OPEN] == "Open [en]" and STATES.get(State.OPEN) == "Open [en]"
        assert STATES[State.OPEN] == "Ouverte [traduit]"
    other = Flask(__name__)
    Babel(other, default_locale="fr")  # no catalogue of its own
    with other.test_request_context():
        assert STATES[State.OPEN] == "En cours"
    with app.test_request_context():
        assert STATES[State.OPEN] == "Ouverte [traduit]"


def test_a_header_is_translated_when_written(app):
    """A spreadsheet's header: a tuple of N_ msgids, translated in order when the file is written."""
    header = (N_("N°"), N_("En cours"), N_("Close"))
    with app.test_request_context():
        assert translated(header) == ["N°", "Ouverte [traduit]", "Close"]
    assert translated(header) == ["N°", "En cours", "Close"]  # outside any application: the msgids


def test_a_label_is_translated_in_a_task(app):
    """A Celery task or a command runs in an application context without a request: the default locale."""
    with app.app_context():
        assert STATES[State.OPEN] == "Ouverte [traduit]"
        assert KINDS.counted(Kind.FAILED_EMAIL, 2) == "Des courriels [traduit]"


def test_without_an_application_a_label_is_its_msgid():
    """Pure rules and unit tests read labels outside any application: the French source text."""
    assert not has_app_context()
    assert STATES[State.OPEN] == "En cours"
    assert KINDS[Kind.FAILED_EMAIL] == ("Courriel en échec", "Courriels en échec")
    assert KINDS.counted(Kind.FAILED_EMAIL, 0) == "Courriel en échec"  # French keeps the singular for 0
    assert KINDS.counted(Kind.FAILED_EMAIL, 5) == "Courriels en échec"


def test_plural_labels_follow_the_count(app):
    with app.test_request_context():
        assert KINDS[Kind.FAILED_EMAIL] == ("Un courriel [traduit]", "Des courriels [traduit]")
        assert KINDS.counted(Kind.FAILED_EMAIL, 1) == "Un courriel [traduit]"
        assert KINDS.counted(Kind.FAILED_EMAIL, 3) == "Des courriels [traduit]"
        assert KINDS.counted(Kind.FAILED_EMAIL, 1_000_000) == "Un million de courriels [traduit]"
        # Not in the catalogue: the French forms, 0 with the singular.
        assert KINDS[Kind.ACCESS_REQUEST] == ("Demande d'accès", "Demandes d'accès")
        assert [KINDS.counted(Kind.ACCESS_REQUEST, n) for n in (0, 1, 2)] == [
            "Demande d'accès",
            "Demande d'accès",
            "Demandes d'accès",
        ]
        # The same msgid read as a plain label finds the singular of the plural message.
        assert FAILED["failed"] == "Un courriel [traduit]"


def test_labels_are_plain_strings(app):
    """Not lazy strings: escaped by Jinja and MarkupSafe, serialised by json, usable as text."""
    with app.test_request_context():
        for value in (*STATES.values(), *KINDS[Kind.FAILED_EMAIL], KINDS.counted(Kind.FAILED_EMAIL, 2)):
            assert type(value) is str
        label = STATES[State.SIGNED]
        assert str(escape(label)) == "Convention &lt;d&#39;adhésion&gt; [traduit]"
        assert app.jinja_env.from_string("{{ labels[key] }}").render(labels=STATES, key=State.SIGNED) == (
            "Convention &lt;d&#39;adhésion&gt; [traduit]"
        )
        assert json.dumps({"etat_libelle": STATES[State.OPEN]}) == '{"etat_libelle": "Ouverte [traduit]"}'


def test_a_table_reads_like_the_dict_it_replaces():
    assert list(STATES) == [State.OPEN, State.CLOSED, State.SIGNED]
    assert len(STATES) == 3 and State.CLOSED in STATES and "closed" in STATES and "draft" not in STATES
    assert STATES.get("draft") is None and STATES.get("draft", "draft") == "draft"
    with pytest.raises(KeyError):
        STATES["draft"]
    with pytest.raises(KeyError):
        KINDS["draft"]
    with pytest.raises(KeyError):
        KINDS.counted("draft", 2)
    assert sorted(STATES.values()) == ["Close", "Convention d'adhésion", "En cours"]
    assert STATES == {State.OPEN: "En cours", State.CLOSED: "Close", State.SIGNED: "Convention d'adhésion"}


@pytest.mark.parametrize("msgid", ["", None, 3])
def test_a_label_is_a_non_empty_string(msgid):
    """gettext("") would return the catalogue's header."""
    with pytest.raises(ValueError):
        Labels({"x": msgid})
    with pytest.raises(ValueError):
        PluralLabels({"x": ("Un", msgid)})
