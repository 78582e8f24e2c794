"""Label tables: the French text shown for an internal key (a status, a kind, an audit event), translated when read.

A table is written once, at import; each msgid is marked with :func:`N_` (or :func:`Nn_` for a singular and its
plural) so that Babel's extraction finds it (``babel.cfg`` gives the command, ``make translations`` puts the plural
ones in the French catalogue), and the table translates it each time a value is read::

    STATE_LABELS = Labels({State.OPEN: N_("En cours"), State.CLOSED: N_("Close")})
    STATE_LABELS[State.OPEN]  # "En cours", through gettext, as a plain str

A sequence of msgids (a spreadsheet's header) is marked the same way and read with :func:`translated`.

Why not Flask-Babel's lazy strings (``_l``): Jinja trusts them as markup (their ``__html__`` skips escaping), they
are not JSON-serialisable (the API and the spreadsheets read some labels) and they are not ``str`` for dict keys,
comparisons or ``.lower()``. A :class:`Labels` value is always a plain ``str``.

A lookup reads the portal's catalogue as the templates do (:func:`portal.common.i18n.translations`, one locale,
loaded once per process): the same text in a page, a PDF, an email sent by a worker, a command or a unit test
without an application, for about a microsecond. A label is a word or a phrase, not a message with variables: it
is not %-formatted (``"Taux de la masse salariale (%)"`` stays as written), and a number beside it is written by
the caller with the formatters of ``portal.common.formatting``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TypeVar

from portal.common import i18n

K = TypeVar("K")


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
    translations = i18n.translations()
    return [translations.gettext(msgid) for msgid in msgids]


def _check(msgid: object) -> None:
    # gettext("") returns the catalogue's header, not an empty label.
    if not isinstance(msgid, str) or not msgid:
        raise ValueError(f"a label must be a non-empty str, not {msgid!r}")


class _Table(Mapping):
    """What both kinds of table share: the written msgids kept in order, read-only, iterated over their keys."""

    __slots__ = ("_msgids",)

    def __contains__(self, key: object) -> bool:
        return key in self._msgids

    def __iter__(self) -> Iterator:
        return iter(self._msgids)

    def __len__(self) -> int:
        return len(self._msgids)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._msgids!r})"


class Labels(_Table, Mapping[K, str]):
    """A read-only table key → label whose values are translated each time they are read.

    It reads like the dict it replaces: ``table[key]`` (``KeyError`` for an unknown key), ``table.get(key,
    default)``, ``key in table``, ``table.items()``, iteration over the keys in their written order; every value
    is a plain ``str``."""

    # The translated values, kept with the catalogue they were read from (one per process): a list page reads a
    # hundred labels, each lookup then a dict read instead of two gettext calls.
    __slots__ = ("_read_from", "_values")

    def __init__(self, msgids: Mapping[K, str]) -> None:
        for msgid in msgids.values():
            _check(msgid)
        self._msgids = dict(msgids)
        self._read_from = self._values = None

    def __getitem__(self, key: K) -> str:
        translations = i18n.translations()
        if self._read_from is not translations:
            self._values = {k: translations.gettext(msgid) for k, msgid in self._msgids.items()}
            self._read_from = translations
        return self._values[key]

    def msgid(self, key: K) -> str:
        """The untranslated text of ``key``, as extracted."""
        return self._msgids[key]


class PluralLabels(_Table, Mapping[K, tuple[str, str]]):
    """A read-only table key → (singular, plural), written with :func:`Nn_`: "Demande d'accès" names one item,
    "Demandes d'accès" their category. ``table[key]`` is the pair, both translated; :meth:`counted` is the form
    that agrees with a count, by the catalogue's plural rule (``ngettext``; French: 0 and 1 singular)."""

    __slots__ = ()

    def __init__(self, msgids: Mapping[K, tuple[str, str]]) -> None:
        for singular, plural in msgids.values():
            _check(singular)
            _check(plural)
        self._msgids = dict(msgids)

    def __getitem__(self, key: K) -> tuple[str, str]:
        singular, plural = self._msgids[key]
        translations = i18n.translations()
        return translations.ngettext(singular, plural, 1), translations.ngettext(singular, plural, 2)

    def counted(self, key: K, count: int) -> str:
        """The form of ``key``'s label for ``count`` items: "Courriel en échec" for 1, "Courriels en échec" for 3."""
        singular, plural = self._msgids[key]
        return i18n.translations().ngettext(singular, plural, count)
