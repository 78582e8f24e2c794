"""Label tables (``portal.common.labels``): marked for extraction, translated when read, always a plain ``str``.

The translation is proved with a real catalogue: a small compiled French catalogue whose translations differ from
the msgids, put in place of the portal's (``portal.common.i18n.translations``, which the templates read too).
"""

from __future__ import annotations

import json
from enum import StrEnum
from io import BytesIO

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations
from flask import Flask, has_app_context
from markupsafe import escape

from portal.common import i18n
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


@pytest.fixture
def catalogue(monkeypatch):
    """A French catalogue that translates some of the labels above into marked text, loaded as the portal's is."""
    messages = Catalog(locale=i18n.LOCALE)
    messages.mime_headers = [("Plural-Forms", i18n.PLURAL_FORMS)]
    messages.add("En cours", "Ouverte [traduit]")
    messages.add("Convention d'adhésion", "Convention <d'adhésion> [traduit]")
    messages.add(("Courriel en échec", "Courriels en échec"), ("Un courriel [traduit]", "Des courriels [traduit]"))
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    loaded = Translations(compiled)
    loaded.add_fallback(i18n._SourceText(loaded.plural))  # as i18n.translations(): French plurals for the others
    monkeypatch.setattr(i18n, "translations", lambda: loaded)
    return loaded


def test_markers_return_their_argument_unchanged():
    text = "Affiliation obligatoire"
    assert N_(text) is text
    singular, plural = Nn_("Demande d'accès", "Demandes d'accès")
    assert (singular, plural) == ("Demande d'accès", "Demandes d'accès")


def test_a_label_is_translated_when_read(catalogue):
    assert STATES[State.OPEN] == "Ouverte [traduit]"
    assert STATES["open"] == "Ouverte [traduit]"  # a StrEnum key is found by its value too
    assert STATES[State.CLOSED] == "Close"  # not in the catalogue: the msgid, which is the French
    assert STATES.get(State.OPEN) == "Ouverte [traduit]"
    assert dict(STATES) == {
        State.OPEN: "Ouverte [traduit]",
        State.CLOSED: "Close",
        State.SIGNED: "Convention <d'adhésion> [traduit]",
    }
    assert STATES.msgid(State.OPEN) == "En cours"


def test_a_label_reads_the_same_in_a_request_a_task_and_without_an_application(catalogue):
    """A page, a Celery task or a command (an application context without a request), a pure rule's unit test
    (no application): one catalogue, the same text."""
    app = Flask(__name__)
    with app.test_request_context():
        assert STATES[State.OPEN] == "Ouverte [traduit]"
    with app.app_context():
        assert STATES[State.OPEN] == "Ouverte [traduit]"
        assert KINDS.counted(Kind.FAILED_EMAIL, 2) == "Des courriels [traduit]"
    assert not has_app_context()
    assert STATES[State.OPEN] == "Ouverte [traduit]"


def test_the_portal_catalogue_keeps_the_french_text():
    """The portal's own catalogue: the source language is French, a label reads as written."""
    assert not has_app_context()
    assert STATES[State.OPEN] == "En cours"
    assert KINDS[Kind.FAILED_EMAIL] == ("Courriel en échec", "Courriels en échec")
    assert [KINDS.counted(Kind.FAILED_EMAIL, n) for n in (0, 1, 2)] == [
        "Courriel en échec",  # French takes the singular for 0
        "Courriel en échec",
        "Courriels en échec",
    ]


def test_plural_labels_follow_the_count(catalogue):
    assert KINDS[Kind.FAILED_EMAIL] == ("Un courriel [traduit]", "Des courriels [traduit]")
    assert KINDS.counted(Kind.FAILED_EMAIL, 1) == "Un courriel [traduit]"
    assert KINDS.counted(Kind.FAILED_EMAIL, 3) == "Des courriels [traduit]"
    # Not in the catalogue: the French forms, 0 with the singular.
    assert KINDS[Kind.ACCESS_REQUEST] == ("Demande d'accès", "Demandes d'accès")
    assert [KINDS.counted(Kind.ACCESS_REQUEST, n) for n in (0, 1, 2)] == [
        "Demande d'accès",
        "Demande d'accès",
        "Demandes d'accès",
    ]
    # The same msgid read as a plain label finds the singular of the plural message.
    assert FAILED["failed"] == "Un courriel [traduit]"


def test_a_header_is_translated_when_written(catalogue):
    """A spreadsheet's header: a tuple of N_ msgids, translated in order when the file is written."""
    assert translated((N_("N°"), N_("En cours"), N_("Close"))) == ["N°", "Ouverte [traduit]", "Close"]


def test_labels_are_plain_strings(catalogue):
    """Not lazy strings: escaped by Jinja and MarkupSafe, serialised by json, usable as text."""
    for value in (*STATES.values(), *KINDS[Kind.FAILED_EMAIL], KINDS.counted(Kind.FAILED_EMAIL, 2)):
        assert type(value) is str
    label = STATES[State.SIGNED]
    assert str(escape(label)) == "Convention &lt;d&#39;adhésion&gt; [traduit]"
    app = Flask(__name__)
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
