"""Pure rules of the bulk import of secretaries (issue 14, item 4): reading the file, finding its columns by the
names people give them, checking each line, and deciding what each line does to the accounts.

No Flask, no database: the service (``portal.accounts.bulk_import``) loads what the portal holds into the small
frozen records below (:class:`CollectiviteRef`, :class:`AccountRef`) and asks :func:`decide`.

The file is a CSV or an XLSX workbook, one row per person: an email address, a name, and the INSEE codes or SIREN
of the collectivités she serves, several in one cell separated by commas. A problem with the file itself raises
:class:`ImportFileError` (nothing is shown line by line, nothing is written); a problem with one line is a
:class:`LineError` with its line number and the reason in French.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from email_validator import EmailNotValidError, validate_email

from portal.common.formatting import decimal_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import lazy_gettext as _l
from portal.common.i18n import ngettext
from portal.common.labels import N_, Labels
from portal.common.text import departement_code, normalise

MAX_LINES = 10_000
MAX_EMAIL_LENGTH = 254  # the column of user_account.email
MAX_NAME_LENGTH = 200  # the column of user_account.full_name

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary Excel format (.xls)
_NOT_TEXT = (b"%PDF", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8")


class ImportFileError(ValueError):
    """The file cannot be read as a secretaries file: it is refused as a whole, nothing is written."""


# Columns ----------------------------------------------------------------------------------------------------------

# Header names as people write them, compared once normalised (case, accents, hyphens, apostrophes, "/", "."):
# "Adresse électronique", "E-mail", "Courriel"; "Nom", "Nom et prénom" or "Prénom" + "Nom"; "Codes INSEE",
# "Collectivités", "SIREN".
COLUMN_ALIASES = {
    "email": (
        "adresse electronique",
        "adresse e mail",
        "adresse email",
        "adresse mail",
        "adresse courriel",
        "adresse mel",
        "courriel",
        "e mail",
        "email",
        "mail",
        "mel",
    ),
    "full_name": (
        "nom et prenom",
        "nom prenom",
        "prenom et nom",
        "prenom nom",
        "nom complet",
        "nom de la secretaire",
        "secretaire",
        "identite",
    ),
    "family_name": ("nom", "nom de famille"),
    "given_name": ("prenom",),
    "codes": (
        "codes insee",
        "code insee",
        "insee",
        "codes insee ou siren",
        "code insee ou siren",
        "codes insee siren",
        "code insee siren",
        "siren",
        "codes siren",
        "code siren",
        "collectivites",
        "collectivite",
        "codes des collectivites",
        "communes",
        "commune",
        "codes",
    ),
}
_ALIAS_TO_KEY = {alias: key for key, aliases in COLUMN_ALIASES.items() for alias in aliases}


def expected_columns_text() -> str:
    return (
        "« Adresse électronique » (ou « Courriel », « E-mail »), « Nom » (ou « Nom et prénom », ou « Prénom » et "
        "« Nom »), « Codes INSEE » (ou « Collectivités », « SIREN » : plusieurs codes séparés par des virgules)"
    )


def header_key(text: str) -> str:
    """ "Adresse Électronique", "E-mail :", "Codes INSEE / SIREN" -> "adresse electronique", "e mail",
    "codes insee siren"."""
    text = text.replace("\ufeff", "")
    for char in "/.:()_*":
        text = text.replace(char, " ")
    return normalise(text)


def map_columns(header: list[str]) -> dict[str, int]:
    """The position of each column, found by its name.

    Refused with the list of expected columns: a required column missing, the same column twice, or a column
    the portal does not know — a "Commune 2" or "Autres collectivités" column would otherwise be silently
    ignored. Columns with an empty header are ignored (spreadsheets often carry empty columns at the end)."""
    found: dict[str, int] = {}
    unknown, twice = [], []
    for position, name in enumerate(header):
        key = header_key(name or "")
        if not key:
            continue
        column = _ALIAS_TO_KEY.get(key)
        if column is None:
            unknown.append(f"« {name.strip()} »")
        elif column in found:
            twice.append(f"« {name.strip()} »")
        else:
            found[column] = position
    problems = []
    if unknown:
        problems.append(_("Colonnes inconnues : %(unknown)s.", unknown=", ".join(unknown)))
    if twice:
        problems.append(_("Colonnes en double : %(twice)s.", twice=", ".join(twice)))
    missing = []
    if "email" not in found:
        missing.append(_("l'adresse électronique"))
    if "full_name" not in found and "family_name" not in found:
        missing.append(_("le nom"))
    if "codes" not in found:
        missing.append(_("les codes des collectivités"))
    if "full_name" in found and ("family_name" in found or "given_name" in found):
        problems.append(_("Le nom est donné deux fois (« Nom et prénom » et « Nom » ou « Prénom »)."))
    if missing:
        problems.append(_("Colonnes absentes : %(missing)s.", missing=", ".join(missing)))
    if problems:
        raise _refuse(" ".join(problems))
    return found


# Reading the file -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """The header and the non-empty rows of the file, each with its line (CSV) or row (XLSX) number."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    kind: str  # "csv" or "xlsx"


def _refuse(reason: str) -> ImportFileError:
    return ImportFileError(
        _("%(reason)s Colonnes attendues : %(expected)s.", reason=reason, expected=expected_columns_text())
    )


def read_table(data: bytes, *, max_bytes: int) -> Table:
    """Read a CSV or XLSX file already in memory (``len(data)`` may be ``max_bytes + 1``: refused as too big).

    XLSX is recognised by its content (a zip holding a workbook), never by the name the browser sent; anything
    else must be text. The first non-empty row is the header; empty rows are skipped."""
    if len(data) > max_bytes:
        megabytes = max_bytes / (1024 * 1024)
        raise _refuse(
            _("Le fichier dépasse la taille maximale de %(size)s Mo.", size=format(megabytes, "g").replace(".", ",", 1))
        )
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _refuse(_("Le fichier est vide."))
    if data.startswith(_ZIP):
        return _read_xlsx(data)
    if data.startswith(_OLE):
        raise _refuse(
            _("Ce fichier est un classeur Excel à l'ancien format (.xls) : enregistrez-le au format .xlsx ou CSV.")
        )
    if data.startswith(_NOT_TEXT) or b"\x00" in data[:4096]:
        raise _refuse(_("Ce fichier n'est ni un fichier CSV ni un classeur XLSX."))
    return _read_csv(data)


def _decode(data: bytes) -> str:
    # Excel writes "CSV UTF-8" (with a BOM) or "CSV (séparateur : point-virgule)" in Windows-1252. Text in
    # Windows-1252 with any accented letter is not valid UTF-8 (its accented bytes cannot follow each other as
    # UTF-8 sequences do), so "strict UTF-8, else Windows-1252" is exact for these two, where a statistical
    # detector (charset-normalizer) may answer another code page on a short file of names.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _first_record(text: str, delimiter: str) -> list[str]:
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])


def _known_columns(header: list[str]) -> int:
    return sum(header_key(name) in _ALIAS_TO_KEY for name in header)


def choose_delimiter(text: str) -> str:
    """``;`` or ``,``: the one whose reading of the header finds more known column names (more fields on a tie,
    ``;`` if still equal, as Excel in French writes).

    The header is the line the portal knows what to expect of: csv.Sniffer guesses from character frequencies
    over the whole sample and is thrown off by names and code lists full of commas ("47001, 47002"), and
    clevercsv answers the same question with a heavier model, for dialects this file never has."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    semicolon, comma = _first_record(first_line, ";"), _first_record(first_line, ",")
    if (_known_columns(comma), len(comma)) > (_known_columns(semicolon), len(semicolon)):
        return ","
    return ";"


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=choose_delimiter(text))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for values in reader:
            line, start = start, reader.line_num + 1  # a quoted cell may span lines: the record's first line
            if not any(value.strip() for value in values):
                continue
            if header is None:
                header = values
            else:
                rows.append((line, values))
                if len(rows) > MAX_LINES:
                    raise _refuse(
                        _(
                            "Le fichier compte plus de %(count)s lignes.",
                            count=format(MAX_LINES, ",").replace(",", "\u202f"),
                        )
                    )
    except csv.Error as exc:
        raise _refuse(
            _("Ce fichier n'est pas un fichier CSV lisible (ligne %(line_num)s).", line_num=reader.line_num)
        ) from exc
    if header is None:
        raise _refuse(_("Le fichier est vide."))
    return Table(header=header, rows=rows, kind="csv")


def cell_text(value) -> str:
    """The text of a workbook cell: numbers as written (47001, not 47001.0), dates as dd/mm/yyyy."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "VRAI" if value else "FAUX"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook  # only for workbooks: CSV imports do not pay for it

    try:
        # read_only streams the rows; data_only gives a formula's last computed value, never its text.
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise _refuse(_("Ce fichier n'est pas un classeur XLSX lisible.")) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise _refuse(_("Le classeur ne contient aucune feuille."))
        header: list[str] | None = None
        rows: list[tuple[int, list[str]]] = []
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = [cell_text(value) for value in cells]
            if not any(value.strip() for value in values):
                continue
            if header is None:
                header = values
            else:
                rows.append((number, values))
                if len(rows) > MAX_LINES:
                    raise _refuse(
                        _(
                            "Le fichier compte plus de %(count)s lignes.",
                            count=format(MAX_LINES, ",").replace(",", "\u202f"),
                        )
                    )
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise _refuse(_("Ce fichier n'est pas un classeur XLSX lisible.")) from exc
    finally:
        workbook.close()
    if header is None:
        raise _refuse(_("Le fichier est vide."))
    return Table(header=header, rows=rows, kind="xlsx")


# Lines ------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportLine:
    """A line that reads well: who, and the codes of the collectivités she serves (normalised, in file order)."""

    line: int
    email: str
    full_name: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str
    email: str = ""
    full_name: str = ""


_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_SIREN = re.compile(r"^\d{9}$")
_CODE_SEPARATORS = re.compile(r"[,;/|\n\r\t]+")


def _code(piece: str) -> str | None:
    """A normalised INSEE code or SIREN, or None. A 4-digit number is an INSEE code whose leading zero a
    spreadsheet dropped (01001 -> 1001)."""
    piece = piece.strip().upper()
    if re.fullmatch(r"\d{4}", piece):
        piece = "0" + piece
    return piece if _INSEE.match(piece) or _SIREN.match(piece) else None


def split_codes(text: str) -> tuple[list[str], list[str]]:
    """(codes, pieces that are not codes) from a cell such as "47001, 47002", "214 700 015" or "47001 47002".

    Codes are separated by commas (or ``;``, ``/``, line breaks); spaces inside a SIREN ("214 700 015") or a
    non-breaking space are allowed; failing that, spaces separate codes too. Duplicates are dropped."""
    codes: list[str] = []
    bad: list[str] = []
    for raw in _CODE_SEPARATORS.split(text.replace("\u00a0", " ").replace("\u202f", " ")):
        piece = raw.strip().rstrip(".")
        if not piece:
            continue
        joined = _code(piece.replace(" ", "").replace(".", ""))
        if joined is not None:
            candidates = [joined]
        else:
            candidates = [_code(word) for word in piece.split()]
            if len(candidates) < 2 or None in candidates:
                bad.append(piece)
                continue
        codes.extend(c for c in candidates if c not in codes)
    return codes, bad


def clean_text(text: str) -> str:
    """Control characters removed, NFC, spaces collapsed."""
    text = "".join(" " if unicodedata.category(char).startswith("C") else char for char in text)
    return " ".join(unicodedata.normalize("NFC", text).split())


def check_email(text: str) -> str:
    """The address as accounts store it (lower case), or ValueError with the reason in French."""
    text = clean_text(text)
    if not text:
        raise ValueError(_("Adresse électronique manquante."))
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(_("Adresse électronique invalide : « %(text)s ».", text=text)) from exc
    email = checked.normalized.lower()
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValueError(
            _(
                "Adresse électronique trop longue (%(max_email_length)s caractères au plus).",
                max_email_length=MAX_EMAIL_LENGTH,
            )
        )
    return email


def _value(values: list[str], position: int | None) -> str:
    return values[position] if position is not None and position < len(values) else ""


def parse_line(line: int, values: list[str], columns: Mapping[str, int]) -> ImportLine | LineError:
    """One row of the file, checked: an address, a name, at least one well-formed code."""
    raw_email = clean_text(_value(values, columns.get("email")))
    if "full_name" in columns:
        full_name = clean_text(_value(values, columns["full_name"]))
    else:
        given = clean_text(_value(values, columns.get("given_name")))
        full_name = clean_text(f"{given} {_value(values, columns.get('family_name'))}")
    try:
        email = check_email(raw_email)
    except ValueError as exc:
        return LineError(line, str(exc), raw_email, full_name)
    if not full_name:
        return LineError(line, _("Nom manquant."), email)
    if len(full_name) > MAX_NAME_LENGTH:
        return LineError(
            line, _("Nom trop long (%(max_name_length)s caractères au plus).", max_name_length=MAX_NAME_LENGTH), email
        )
    codes, bad = split_codes(_value(values, columns.get("codes")))
    if bad:
        listed = ", ".join(f"« {piece} »" for piece in bad)
        return LineError(
            line,
            _("Code invalide : %(listed)s (un code INSEE a 5 caractères, un SIREN 9 chiffres).", listed=listed),
            email,
            full_name,
        )
    if not codes:
        return LineError(line, _("Aucun code de collectivité (code INSEE ou SIREN)."), email, full_name)
    return ImportLine(line, email, full_name, tuple(codes))


def parse_lines(table: Table) -> list[ImportLine | LineError]:
    """Every row of the table, checked, in file order; duplicates reported.

    A line identical to an earlier one (same address, name and codes) is an error that names the first, which
    is imported. Two different lines for the same address are both errors: the portal does not guess which one
    is right (the person's collectivités belong on one line)."""
    columns = map_columns(table.header)
    parsed = [parse_line(number, values, columns) for number, values in table.rows]
    first_by_email: dict[str, ImportLine] = {}
    conflicting: dict[str, list[int]] = {}
    for item in parsed:
        if isinstance(item, ImportLine):
            first = first_by_email.setdefault(item.email, item)
            if first is not item and (first.full_name, set(first.codes)) != (item.full_name, set(item.codes)):
                conflicting.setdefault(item.email, [first.line]).append(item.line)
    result: list[ImportLine | LineError] = []
    for item in parsed:
        if isinstance(item, ImportLine):
            first = first_by_email[item.email]
            if item.email in conflicting:
                others = ", ".join(str(n) for n in conflicting[item.email] if n != item.line)
                item = LineError(
                    item.line,
                    _(
                        "Même adresse électronique qu'à la ligne %(others)s, avec un autre nom ou "
                        "d'autres codes : regroupez ses collectivités sur une seule ligne.",
                        others=others,
                    ),
                    item.email,
                    item.full_name,
                )
            elif first is not item:
                item = LineError(
                    item.line,
                    _("Ligne en double : identique à la ligne %(line)s.", line=first.line),
                    item.email,
                    item.full_name,
                )
        result.append(item)
    return result


# Decisions --------------------------------------------------------------------------------------------------------


class Outcome(StrEnum):
    CREATED = "created"
    ADDED = "added"
    UNCHANGED = "unchanged"
    ERROR = "error"


OUTCOME_LABELS = Labels(
    {
        Outcome.CREATED: N_("Compte créé, invitation envoyée"),
        Outcome.ADDED: N_("Collectivités ajoutées"),
        Outcome.UNCHANGED: N_("Inchangé"),
        Outcome.ERROR: N_("Erreur"),
    }
)
# The same outcomes in the future tense, for the dry run.
PLANNED_LABELS = Labels(
    {
        Outcome.CREATED: N_("Compte à créer, invitation à envoyer"),
        Outcome.ADDED: N_("Collectivités à ajouter"),
        Outcome.UNCHANGED: N_("Inchangé"),
        Outcome.ERROR: N_("Erreur : ligne ignorée"),
    }
)
ROLE_NAMES = {"staff": _l("d'agent du CDG"), "elu": _l("d'élu")}


@dataclass(frozen=True)
class CollectiviteRef:
    id: int
    name: str
    code: str  # INSEE code, else SIREN
    departement: str | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class AccountRef:
    id: int
    role: str
    active: bool
    collectivite_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Decision:
    """What one line does. ``collectivites``: all those of the line; ``added``: those the account gains."""

    line: int
    outcome: Outcome
    email: str
    full_name: str
    collectivites: tuple[CollectiviteRef, ...] = ()
    added: tuple[CollectiviteRef, ...] = ()
    reason: str = ""

    @property
    def detail(self) -> str:
        if self.outcome == Outcome.ERROR:
            return self.reason
        shown = self.added if self.outcome == Outcome.ADDED else self.collectivites
        return ", ".join(c.label for c in shown)


def _join(codes: Iterable[str]) -> str:
    return ", ".join(codes)


def decide(
    item: ImportLine | LineError,
    found: Mapping[str, CollectiviteRef],
    account: AccountRef | None,
    departements: Collection[str],
) -> Decision:
    """What importing ``item`` does, given the collectivités the portal knows by code (``found``), the account
    that already holds the address (if any) and the CDG's départements (empty: all).

    * an unknown code, a collectivité outside the départements, an account of another role or a deactivated one:
      an error, the line is skipped;
    * no account: created (invited), attached to the line's collectivités;
    * a secretary's account: the collectivités it lacks are added (none is ever removed); nothing to add:
      unchanged. Her name is never changed by an import."""
    if isinstance(item, LineError):
        return Decision(item.line, Outcome.ERROR, item.email, item.full_name, reason=item.reason)

    def error(reason: str) -> Decision:
        return Decision(item.line, Outcome.ERROR, item.email, item.full_name, reason=reason)

    unknown = [code for code in item.codes if code not in found]
    if unknown:
        return error(
            ngettext(
                "Code inconnu : %(codes)s (aucune collectivité du registre ne porte ce code).",
                "Codes inconnus : %(codes)s (aucune collectivité du registre ne porte ce code).",
                len(unknown),
                codes=_join(unknown),
            )
        )
    collectivites = tuple(dict.fromkeys(found[code] for code in item.codes))  # an INSEE code and its SIREN: once
    wanted = {departement_code(d) for d in departements}
    outside = [c for c in collectivites if wanted and departement_code(c.departement or "") not in wanted]
    if outside:
        listed = _join(c.label for c in outside)
        return error(
            _("Hors des départements du CDG (%(wanted)s) : %(listed)s.", wanted=_join(sorted(wanted)), listed=listed)
        )
    if account is None:
        return Decision(item.line, Outcome.CREATED, item.email, item.full_name, collectivites, collectivites)
    if account.role != "secretary":
        return error(
            _(
                "Un compte %(role)s existe déjà pour cette adresse.",
                role=ROLE_NAMES.get(account.role) or _("d’un autre rôle"),
            )
        )
    if not account.active:
        return error(
            _("Le compte de cette adresse est désactivé : réactivez-le avant de lui ajouter des collectivités.")
        )
    added = tuple(c for c in collectivites if c.id not in account.collectivite_ids)
    outcome = Outcome.ADDED if added else Outcome.UNCHANGED
    return Decision(item.line, outcome, item.email, item.full_name, collectivites, added)


@dataclass
class Counts:
    created: int = 0
    added: int = 0
    unchanged: int = 0
    errors: int = 0

    @classmethod
    def of(cls, outcomes: Iterable[str]) -> Counts:
        counts = cls()
        for outcome in outcomes:
            name = "errors" if outcome == Outcome.ERROR else str(outcome)
            setattr(counts, name, getattr(counts, name) + 1)
        return counts


def summary_text(counts: Counts, *, planned: bool = False) -> str:
    created, added = counts.created, counts.added
    if planned:
        created_text = ngettext(
            "%(count)s compte à créer", "%(count)s comptes à créer", created, count=decimal_fr(created)
        )
        added_text = ngettext(
            "%(count)s compte à compléter", "%(count)s comptes à compléter", added, count=decimal_fr(added)
        )
    else:
        created_text = ngettext("%(count)s compte créé", "%(count)s comptes créés", created, count=decimal_fr(created))
        added_text = ngettext(
            "%(count)s compte complété", "%(count)s comptes complétés", added, count=decimal_fr(added)
        )
    return _(
        "%(created)s, %(added)s, %(unchanged)s, %(errors)s.",
        created=created_text,
        added=added_text,
        unchanged=ngettext(
            "%(count)s inchangé", "%(count)s inchangés", counts.unchanged, count=decimal_fr(counts.unchanged)
        ),
        errors=ngettext(
            "%(count)s ligne en erreur", "%(count)s lignes en erreur", counts.errors, count=decimal_fr(counts.errors)
        ),
    )


def progress_text(done: int, total: int) -> str:
    return ngettext(
        "%(done)s ligne traitée sur %(total)s.",
        "%(done)s lignes traitées sur %(total)s.",
        done,
        done=decimal_fr(done),
        total=decimal_fr(total),
    )


def plan_digest(decisions: Iterable[Decision]) -> str:
    """A fingerprint of what the dry run showed: the confirmation is refused if the import would now do
    something else (the file, the registry or the accounts changed in between)."""
    digest = hashlib.sha256()
    for d in decisions:
        digest.update(f"{d.line}|{d.outcome}|{d.email}|{[c.id for c in d.added]}|{d.reason}\n".encode())
    return digest.hexdigest()
