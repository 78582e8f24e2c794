"""Label tables: the French text shown for an internal key (a status, a kind, an audit event), translated when read.

A table is written once, at import, when no locale is known yet; each msgid is marked with :func:`N_` (or
:func:`Nn_` for a singular and its plural) so that Babel's extraction finds it (``babel.cfg`` gives the command),
and the table translates it each time a value is read::

    STATE_LABELS = Labels({State.OPEN: N_("En cours"), State.CLOSED: N_("Close")})
    STATE_LABELS[State.OPEN]  # "En cours", through gettext, as a plain str

A sequence of msgids (a spreadsheet's header) is marked the same way and read with :func:`translated`.

Why not Flask-Babel's lazy strings (``_l``): Jinja trusts them as markup (their ``__html__`` skips escaping), they
are not JSON-serialisable (the API and the spreadsheets read some labels) and they are not ``str`` for dict keys,
comparisons or ``.lower()``. A :class:`Labels` value is always a plain ``str``.

A lookup reads the translations Flask-Babel chooses for the current context (the request's locale, or the default
one in a Celery task or a command); outside any application it falls back to the msgid, which is the French, as
Flask-Babel's ``gettext`` does. A label is a word or a phrase, not a message with variables: it is not
%-formatted (``"Taux de la masse salariale (%)"`` stays as written), and a number beside it is written by the
caller with the formatters of ``portal.common.formatting``.

A :class:`Labels` table is translated whole the first time it is read in an application and a locale, then kept
there (``app.extensions``): a lookup is then a locale check and a dict read, a few times cheaper than a gettext call
(a list page reads one or two labels per row). :class:`PluralLabels` and :func:`translated` call gettext each time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

from flask import current_app, has_app_context
from flask_babel import get_locale, get_translations

K = TypeVar("K")

# app.extensions key of the translated tables: {(id(table), locale): (table, {key: label})}.
_KEPT = "portal_labels"


def N_(msgid: str) -> str:
    """Mark ``msgid`` for extraction and return it unchanged (gettext's ``N_``, *gettext_noop*): the table
    translates it when it is read."""
    return msgid


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a singular and its plural for extraction as one plural message (keyword ``Nn_:1,2``) and return them
    unchanged: :class:`PluralLabels` chooses the form through ``ngettext``."""
    return singular, plural


def translated(msgids: Iterable[str]) -> list[str]:
    """Each msgid (marked with :func:`N_`) translated now, as plain ``str``, in order: the header row of a
    spreadsheet, written at import as a tuple of column names."""
    translations = get_translations()
    return [translations.gettext(msgid) for msgid in msgids]


def _check(msgid: object) -> None:
    # gettext("") returns the catalogue's header, not an empty label.
    if not isinstance(msgid, str) or not msgid:
        raise ValueError(f"a label must be a non-empty str, not {msgid!r}")


class Labels(Mapping[K, str]):
    """A read-only table key → label whose values are translated each time they are read.

    It reads like the dict it replaces: ``table[key]`` (``KeyError`` for an unknown key), ``table.get(key,
    default)``, ``key in table``, ``table.items()``, iteration over the keys in their written order; every value
    is a plain ``str``."""

    __slots__ = ("_msgids",)

    def __init__(self, msgids: Mapping[K, str]) -> None:
        for msgid in msgids.values():
            _check(msgid)
        self._msgids = dict(msgids)

    def __getitem__(self, key: K) -> str:
        return self._translated()[key]

    def get(self, key, default=None):
        return self._translated().get(key, default)

    def _translated(self) -> Mapping[K, str]:
        """The table in the current locale, translated once per application and locale."""
        if not has_app_context():
            return self._msgids  # no application: Flask-Babel's gettext would return the msgid, the French
        kept = current_app.extensions.setdefault(_KEPT, {})
        locale = get_locale()
        entry = kept.get((id(self), locale))
        if entry is None or entry[0] is not self:  # the table itself is kept with its id: never another's labels
            translations = get_translations()
            entry = (self, {key: translations.gettext(msgid) for key, msgid in self._msgids.items()})
            kept[(id(self), locale)] = entry
        return entry[1]

    def __contains__(self, key: object) -> bool:
        return key in self._msgids

    def __iter__(self) -> Iterator[K]:
        return iter(self._msgids)

    def __len__(self) -> int:
        return len(self._msgids)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._msgids!r})"

    def msgid(self, key: K) -> str:
        """The untranslated text of ``key``, as extracted."""
        return self._msgids[key]


class PluralLabels(Mapping[K, tuple[str, str]]):
    """A read-only table key → (singular, plural), written with :func:`Nn_`: "Demande d'accès" names one item,
    "Demandes d'accès" their category. ``table[key]`` is the pair, both translated; :meth:`counted` is the form
    that agrees with a count, by the plural rule of the catalogue (``ngettext``), or by the French rule (0 and 1
    singular) when the catalogue does not have the label."""

    __slots__ = ("_msgids",)

    def __init__(self, msgids: Mapping[K, tuple[str, str]]) -> None:
        for singular, plural in msgids.values():
            _check(singular)
            _check(plural)
        self._msgids = dict(msgids)

    def __getitem__(self, key: K) -> tuple[str, str]:
        singular, plural = self._msgids[key]
        translations = get_translations()
        return translations.ngettext(singular, plural, 1), translations.ngettext(singular, plural, 2)

    def __contains__(self, key: object) -> bool:
        return key in self._msgids

    def __iter__(self) -> Iterator[K]:
        return iter(self._msgids)

    def __len__(self) -> int:
        return len(self._msgids)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._msgids!r})"

    def counted(self, key: K, count: int) -> str:
        """The form of ``key``'s label for ``count`` items: "Courriel en échec" for 1, "Courriels en échec" for 3."""
        singular, plural = self._msgids[key]
        text = get_translations().ngettext(singular, plural, count)
        if text is singular or text is plural:
            # Not in the catalogue: gettext returned a msgid chosen by the English rule (only 1 is singular). The
            # msgids are French, where 0 takes the singular too.
            return plural if count > 1 else singular
        return text
