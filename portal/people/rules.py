"""Pure rules about persons: splitting names, and reading the RNE (Répertoire national des élus)."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache

from portal.common.formatting import decimal_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.labels import N_, Labels
from portal.common.text import normalise
from portal.common.titles import function_title

# The RNE file of conseillers municipaux (domain.md §8) -----------------------------------------------------------

# Columns read, by header name (as published; matched without regard to case, accents or apostrophes).
RNE_COLUMNS = {
    "departement": "Code du département",
    "insee": "Code de la commune",
    "commune_name": "Libellé de la commune",
    "family_name": "Nom de l'élu",
    "given_name": "Prénom de l'élu",
    "sex": "Code sexe",
    "birth_date": "Date de naissance",
    "term_start": "Date de début du mandat",
    "function": "Libellé de la fonction",
    "function_start": "Date de début de la fonction",
}

OLDEST_BIRTH = date(1900, 1, 1)

# Names and labels repeat a lot in a national file (half a million rows): normalise each spelling once.
_normalised = lru_cache(maxsize=100_000)(normalise)

_ADJOINT = re.compile(r"^(?:(\d{1,2})\s*(?:er|re|ere|e|eme)\s+)?adjointe?\s+au\s+maire$")


class RneFileError(ValueError):
    """The file itself cannot be read as the RNE file: nothing is imported."""


def expected_columns_text() -> str:
    return ", ".join(f"« {name} »" for name in RNE_COLUMNS.values())


def _header_key(text: str) -> str:
    return normalise(text.replace("\ufeff", ""))


def map_columns(header: list[str]) -> dict[str, int]:
    """Position of each column read, found by its name; raises :class:`RneFileError` naming what is missing."""
    positions = {_header_key(name): i for i, name in enumerate(header)}
    found, missing = {}, []
    for key, name in RNE_COLUMNS.items():
        if _header_key(name) in positions:
            found[key] = positions[_header_key(name)]
        else:
            missing.append(f"« {name} »")
    if missing:
        raise RneFileError(
            _(
                "Colonnes absentes : %(missing)s. Le fichier des conseillers municipaux du Répertoire national des "
                "élus doit contenir les colonnes %(expected)s (séparées par des points-virgules).",
                missing=", ".join(missing),
                expected=expected_columns_text(),
            )
        )
    return found


def parse_date(text: str) -> date:
    """A date written ``dd/mm/yyyy`` (the ministry's files) or ``yyyy-mm-dd`` (some re-publications)."""
    text = text.strip()
    try:
        if len(text) == 10 and text[2] == "/" and text[5] == "/":
            return date(int(text[6:]), int(text[3:5]), int(text[:2]))
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        pass
    raise ValueError(text)


def parse_function(label: str) -> tuple[str, int | None] | None:
    """(function, rank) from the RNE label: empty for a plain conseiller, "Maire", "1er adjoint au maire",
    "2e adjointe au maire"…; None for a label the portal does not know."""
    if not label:
        return "conseiller", None
    text = _normalised(label)
    if not text:
        return "conseiller", None
    if text == "maire":
        return "maire", None
    match = _ADJOINT.match(text)
    if match:
        return "adjoint", int(match.group(1)) if match.group(1) else None
    return None


def identity_key(*, family_name: str, given_name: str, sex: str, birth_date: date, insee: str) -> str:
    """Who a row is, from one file to the next: names, sex, birth date and commune (never the row number)."""
    return f"{_normalised(family_name)}|{_normalised(given_name)}|{sex}|{birth_date.isoformat()}|{insee}"


@dataclass(frozen=True)
class RneRow:
    line: int
    key: str
    insee: str
    family_name: str
    given_name: str
    sex: str
    birth_date: date
    term_start: date
    function: str
    rank: int | None
    function_start: date | None


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str
    # The commune code read on the line, if any: departures are not ended in a commune with a rejected line.
    insee: str = field(default="", compare=False)


def _cell(values: list[str], columns: dict[str, int], key: str) -> str:
    position = columns[key]
    return values[position].strip() if position < len(values) else ""


def parse_row(
    line: int, values: list[str], columns: dict[str, int], *, today: date, known_communes: Container[str]
) -> RneRow | Rejection:
    """One line of the file, checked: the reasons are French and name the value at fault."""
    reasons = []
    insee = _cell(values, columns, "insee").upper()
    if insee not in known_communes:
        name = _cell(values, columns, "commune_name")
        code = insee or _("(code vide)")
        if name:
            reasons.append(_("commune inconnue : %(code)s (%(name)s)", code=code, name=name))
        else:
            reasons.append(_("commune inconnue : %(code)s", code=code))
    family_name, given_name = _cell(values, columns, "family_name"), _cell(values, columns, "given_name")
    if not family_name:
        reasons.append(_("nom de l'élu manquant"))
    if not given_name:
        reasons.append(_("prénom de l'élu manquant"))
    sex = _cell(values, columns, "sex").upper()
    if sex not in ("F", "M"):
        reasons.append(
            _("code sexe inconnu : « %(sex)s » (F ou M attendu)", sex=sex) if sex else _("code sexe manquant")
        )

    def read_date(key: str, label: str, required: bool) -> date | None:
        text = _cell(values, columns, key)
        if not text:
            if required:
                reasons.append(_("%(label)s manquante", label=label))
            return None
        try:
            return parse_date(text)
        except ValueError:
            reasons.append(_("%(label)s impossible : « %(text)s »", label=label, text=text))
            return None

    birth_date = read_date("birth_date", _("date de naissance"), True)
    if birth_date is not None and not OLDEST_BIRTH <= birth_date <= today:
        reasons.append(_("date de naissance impossible : « %(text)s »", text=_cell(values, columns, "birth_date")))
        birth_date = None
    term_start = read_date("term_start", _("date de début du mandat"), True)
    function_start = read_date("function_start", _("date de début de la fonction"), False)
    label = _cell(values, columns, "function")
    function = parse_function(label)
    if function is None:
        reasons.append(_("fonction inconnue : « %(label)s »", label=label))
    if reasons:
        text = " ; ".join(reasons)
        return Rejection(line, text[0].upper() + text[1:] + ".", insee)
    return RneRow(
        line=line,
        key=identity_key(family_name=family_name, given_name=given_name, sex=sex, birth_date=birth_date, insee=insee),
        insee=insee,
        family_name=family_name,
        given_name=given_name,
        sex=sex,
        birth_date=birth_date,
        term_start=term_start,
        function=function[0],
        rank=function[1],
        function_start=function_start,
    )


@dataclass(frozen=True)
class CurrentMandate:
    """What the portal holds for a person of the RNE in a commune: his current mandate row."""

    mandate_id: int
    function: str
    rank: int | None
    term_start: date


class Change(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


CHANGE_LABELS = Labels({Change.CREATED: N_("Créé"), Change.UPDATED: N_("Mis à jour"), Change.UNCHANGED: N_("Inchangé")})


def compare(row: RneRow, current: CurrentMandate | None, person_known: bool) -> Change:
    """What a valid row changes: a new person; a new function, rank or term (the current row is closed and a
    new one opened); or nothing."""
    if not person_known:
        return Change.CREATED
    if current is None:
        return Change.UPDATED  # back on the council after his mandate had ended
    if (current.function, current.rank, current.term_start) == (row.function, row.rank, row.term_start):
        return Change.UNCHANGED
    return Change.UPDATED


def change_day(row: RneRow, publication_date: date) -> date:
    """The day a changed function takes effect (closing the former row): its start, else the term's, else the
    file's publication."""
    return row.function_start or row.term_start or publication_date


def function_change_text(row: RneRow, current: CurrentMandate | None) -> str:
    """The line's function, and the former one when it changes ("Conseillère municipale → 1re adjointe…")."""
    new = function_title(row.function, row.sex, row.rank)
    if current is None or (current.function, current.rank) == (row.function, row.rank):
        return new
    return f"{function_title(current.function, row.sex, current.rank)} → {new}"


def summary_text(*, created: int, updated: int, ended: int, unchanged: int, rejected: int) -> str:
    return _(
        "%(created)s, %(updated)s, %(ended)s, %(unchanged)s, %(rejected)s.",
        created=ngettext("%(count)s élu créé", "%(count)s élus créés", created, count=decimal_fr(created)),
        updated=ngettext("%(count)s mis à jour", "%(count)s mis à jour", updated, count=decimal_fr(updated)),
        ended=ngettext("%(count)s mandat terminé", "%(count)s mandats terminés", ended, count=decimal_fr(ended)),
        unchanged=ngettext("%(count)s inchangé", "%(count)s inchangés", unchanged, count=decimal_fr(unchanged)),
        rejected=ngettext("%(count)s ligne rejetée", "%(count)s lignes rejetées", rejected, count=decimal_fr(rejected)),
    )


# A council in the order of its table (CGCT L2121-1) ----------------------------------------------------------------

_FUNCTION_ORDER = {"maire": 0, "adjoint": 1, "conseiller": 2}


def council_order(function: str, rank: int | None, family_name: str, given_name: str) -> tuple:
    """Sort key of a council's members in the order of the table (CGCT L2121-1): the maire, the adjoints by rank,
    then the conseillers, here in alphabetical order (accents and case ignored: the register gives neither their
    seniority nor their votes, which order them in the law). An adjoint without a rank follows the ranked ones."""
    by_rank = rank if function == "adjoint" and rank else 999
    return (_FUNCTION_ORDER.get(function, 3), by_rank, _normalised(family_name), _normalised(given_name))
